package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestParseAttackFlags(t *testing.T) {
	var errOut bytes.Buffer
	o, err := parseAttackFlags(nil, &errOut)
	if err != nil || len(o.specs) != len(attackSpecs) {
		t.Fatalf("defaults: %d attacks, %v", len(o.specs), err)
	}
	o, err = parseAttackFlags([]string{"-only", "amplification, private-loop,origin-fill-16"}, &errOut)
	var names []string
	for _, s := range o.specs {
		names = append(names, s.name)
	}
	if err != nil || strings.Join(names, ",") != "private-loop,amplification-dup,amplification-status,origin-fill-16" {
		t.Errorf("-only: %v, %v", names, err)
	}
	for _, bad := range [][]string{{"-only", "memory-flood,nope"}, {"-flood-count", "0"}, {"-text", "70000"}, {"extra"}} {
		errOut.Reset()
		if _, err := parseAttackFlags(bad, &errOut); err == nil {
			t.Errorf("%q taken", bad)
		}
	}
	if _, err := parseAttackFlags([]string{"-only", "nope"}, &errOut); err == nil || !strings.Contains(err.Error(), "memory-flood, http-history") {
		t.Errorf("an unknown attack: %v", err)
	}
}

func TestAttackFormats(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 9999: "9999 B", 10_000: "10.0 kB", 999_999: "1000.0 kB", 11_200_000: "11.2 MB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
	if r := ratio(6_000_000, 200); r != "30000.00x" {
		t.Errorf("ratio %q", r)
	}
	if m := mib(-1) + mib(0) + mib(3<<20); m != "?-3.0" {
		t.Errorf("mib %q", m)
	}
	if s := (chatTally{3, 4}).String() + (chatTally{}).String(); s != "3/4-" {
		t.Errorf("tally %q", s)
	}
}

func TestNodeOutputWatchesLines(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	o := readNodeOutput(r, "chat-")
	forged := o.count("RUMOR origin B from 127.0.0.1:47071", "")
	z := o.count("RUMOR origin Z from ", " contents z")
	w.WriteString("CLIENT MESSAGE chat-x-A-1\n" +
		"RUMOR origin B from 127.0.0.1:47071 ID 7 contents from 127.0.0.1:1 ID 1 contents hi\n" +
		"RUMOR origin Z from 127.0.0.1:1 ID 1 contents z\n" +
		"RUMOR origin Z from 127.0.0.1:1 ID 2 contents zz\n" +
		"RUMOR origin Esc from 127.0.0.1:1 ID 1 contents \x1b]0;t\x07 \x1b[2J\n" +
		"RUMOR origin A from 127.0.0.1:1 ID 1 contents other\n")
	w.Close()
	<-o.done
	if _, ok := o.printed("chat-x-A-1"); !ok {
		t.Error("the chat text was not noted")
	}
	if _, ok := o.printed("other"); ok {
		t.Error("a text without the prefix was noted")
	}
	if forged.count() != 1 || z.count() != 1 || z.firstAt().IsZero() || o.control.Load() != 3 {
		t.Errorf("forged %d, z %d, control bytes %d", forged.count(), z.count(), o.control.Load())
	}
}

// TestAttackCommandRuns runs two quick attacks on the repository's
// gossiper. What the nodes do is the figures' business; here only that
// the command measures and reports.
func TestAttackCommandRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gossiper and starts nodes")
	}
	if _, err := os.Stat("/proc/net/udp"); err != nil {
		t.Skip(err)
	}
	leavesNoNodeFolders(t)
	var out, errOut bytes.Buffer
	if code := dispatch([]string{"attack", "-only", "stdout-forge,window-fill", "-after", "500ms", "-window-ids", "300"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"cores ", "stdout-forge: done", "window-fill: done", "figures:", "H/2 kept:", "raw ESC/BEL bytes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	t.Log(out.String())
}
