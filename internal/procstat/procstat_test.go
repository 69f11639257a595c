package procstat

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A command name may hold spaces and parentheses, as this one does.
const line = "4242 (gossip (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 " +
	"250 130 0 0 20 0 9 0 123456 1400832000 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"

func TestParse(t *testing.T) {
	st, err := Parse([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := Stat{MinorFaults: 1000, UTime: 250, STime: 130, StartTime: 123456, VSize: 1400832000, RSS: 2560}
	if st != want {
		t.Errorf("parsed %+v, want %+v", st, want)
	}
	if st.CPU() != 3800*time.Millisecond {
		t.Errorf("CPU %v, want 3.8s", st.CPU())
	}
}

func TestParseRefuses(t *testing.T) {
	cut := line[:strings.Index(line, " 123456")]
	for what, text := range map[string]string{
		"no parentheses":     "4242 gossip S 1 4242",
		"too few fields":     cut,
		"not a number":       strings.Replace(line, " 250 ", " x ", 1),
		"a negative counter": strings.Replace(line, " 250 ", " -250 ", 1),
	} {
		if st, err := Parse([]byte(text)); err == nil {
			t.Errorf("%s: parsed %+v", what, st)
		}
	}
}

func TestThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("no /proc")
	}
	st, err := PID(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.VSize == 0 || st.RSS == 0 || st.StartTime == 0 {
		t.Errorf("%+v", st)
	}
	if _, err := Read("/proc/self/nothing"); err == nil {
		t.Error("read a file that does not exist")
	}
}
