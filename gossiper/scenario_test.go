package gossiper

// TestScenarios replays the protocol transcripts in testdata/scenarios/*.txt
// against one Core. What a transcript may say (its commands, packets and
// output) is described once, in testdata/scenarios/README: a change to the
// table of commands below, to a packet's syntax or to what an event prints
// goes there too.
//
// The runner is split by topic, as etcd raft's rafttest handlers are. This
// file reads a line and dispatches it; the commands live in
// scenario_node_test.go (node, coin, draws, client, rename, add-peer),
// scenario_recv_test.go (recv, and packets both ways),
// scenario_timers_test.go (tick, fire, advance), scenario_private_test.go
// (private, route, unreachable), scenario_files_test.go (file, share,
// download, resume, failwrite), scenario_show_test.go (show) and
// scenario_repeat_test.go (repeat); scenario_output_test.go renders what
// an event did.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scenario files")
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			s := &scenario{}
			datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
				if td.Input != "" {
					td.Fatalf(t, "commands take no input lines")
				}
				return s.run(t, td, td.FullCmd())
			})
		})
	}
}

// TestScenariosREADME keeps the README, the one description of the
// transcripts, in step with the commands and views that exist.
func TestScenariosREADME(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "scenarios", "README"))
	if err != nil {
		t.Fatal(err)
	}
	described := func(entry string) bool {
		return regexp.MustCompile(`(?m)^    ` + regexp.QuoteMeta(entry) + `\b`).Match(b)
	}
	for name := range scenarioCommands {
		if !described(name) {
			t.Errorf("README describes no command %s", name)
		}
	}
	for _, v := range scenarioViews {
		if !described("show " + v.name) {
			t.Errorf("README describes no show %s", v.name)
		}
	}
}

// scenario is the state of one scenario file: a node, its clock, the draws
// it will get and the timers it armed.
type scenario struct {
	t          testing.TB
	core       *Core
	rng        *scenarioRandom
	start, now time.Time
	timers     []armedTimer // in the order armed
	files      map[string]*testFile
}

// scenarioCommand is what a command's first word runs. An event hands the
// node something to handle, and what the node did is rendered the same way
// for all; a setup command sets the scene, or shows it, and says itself
// what it prints. A setup's error, or an event's, is the scenario's mistake
// and fails the test; what the node refuses is output.
type scenarioCommand struct {
	event func(*scenario, []token) (result, error)
	setup func(*scenario, []token) (string, error)
	// repeatable: repeat may run it. Only events whose output sums up in
	// repeat's totals are.
	repeatable bool
}

// scenarioCommands is filled by init, not by its declaration: repeat looks
// its inner command up in it, which would make the table depend on itself.
var scenarioCommands map[string]scenarioCommand

func init() {
	scenarioCommands = map[string]scenarioCommand{
		"node":     {setup: (*scenario).node},
		"coin":     {setup: (*scenario).coin},
		"draws":    {setup: (*scenario).draws},
		"rename":   {setup: (*scenario).rename},
		"add-peer": {setup: (*scenario).addPeer},
		"advance":  {setup: (*scenario).advance},
		"show":     {setup: (*scenario).show},
		"repeat":   {setup: (*scenario).repeat},
		"file":     {setup: (*scenario).defineFile},
		"share":    {setup: (*scenario).share},

		"recv":        {event: (*scenario).recv, repeatable: true},
		"client":      {event: (*scenario).client, repeatable: true},
		"tick":        {event: (*scenario).tick, repeatable: true},
		"fire":        {event: (*scenario).fire, repeatable: true},
		"private":     {event: (*scenario).private},
		"route":       {event: (*scenario).route},
		"unreachable": {event: (*scenario).unreachable},
		"download":    {event: (*scenario).download},
		"resume":      {event: (*scenario).resume},
		"failwrite":   {event: (*scenario).failWrite},
	}
}

func (s *scenario) run(t *testing.T, td *datadriven.TestData, line string) string {
	t.Helper()
	s.t = t
	out, err := s.dispatch(line)
	if err != nil {
		td.Fatalf(t, "%v", err)
	}
	return out
}

// dispatch runs one command line and returns what it printed.
func (s *scenario) dispatch(line string) (string, error) {
	toks, err := tokenize(line)
	if err != nil {
		return "", err
	}
	name, args := toks[0].s, toks[1:]
	if name != "node" && s.core == nil {
		return "", fmt.Errorf("%s before any node command", name)
	}
	cmd, ok := scenarioCommands[name]
	switch {
	case !ok:
		return "", fmt.Errorf("unknown command %q", name)
	case cmd.setup != nil:
		return cmd.setup(s, args)
	}
	r, err := s.event(cmd.event, args)
	if err != nil {
		return "", err
	}
	return s.render(r), nil
}

// event runs an event command and gathers what the node did besides its
// Output: the draws it made, the timers it armed (kept for fire and show
// timers) and what its counters went up by.
func (s *scenario) event(handle func(*scenario, []token) (result, error), args []token) (result, error) {
	before := s.core.Stats()
	s.rng.drawn = nil
	r, err := handle(s, args)
	if err != nil {
		return r, err
	}
	if len(s.rng.bad) > 0 {
		return r, errors.New(strings.Join(s.rng.bad, "; "))
	}
	// A draw scripted for this event and not taken would be taken by the
	// next one, which is not what the scenario says.
	if len(s.rng.script) > 0 {
		return r, fmt.Errorf("scripted draws %v were not used", s.rng.script)
	}
	r.draws = s.rng.drawn
	for _, tm := range r.out.Timers {
		s.timers = append(s.timers, armedTimer{Timer: tm, deadline: s.now.Add(tm.After)})
	}
	r.counts = tallyOf(before, s.core.Stats())
	return r, nil
}

// token is one word of a command line, its quoted parts unquoted. quoted
// says it began with a quote: a text or a name, never a keyword. rest is
// the line from the token on, as written, for repeat, which must tokenize
// its command anew once {i} is replaced.
type token struct {
	s      string
	quoted bool
	rest   string
}

// tokenize splits a command line at spaces outside quotes. A Go-quoted
// string may be followed by *N to repeat it N times.
func tokenize(line string) ([]token, error) {
	var toks []token
	i := 0
	for {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			break
		}
		tok := token{quoted: line[i] == '"', rest: strings.TrimRight(line[i:], " ")}
		var b strings.Builder
		for i < len(line) && line[i] != ' ' {
			if line[i] != '"' {
				b.WriteByte(line[i])
				i++
				continue
			}
			str, next, err := quotedPart(line, i)
			if err != nil {
				return nil, err
			}
			b.WriteString(str)
			i = next
		}
		tok.s = b.String()
		toks = append(toks, tok)
	}
	if len(toks) == 0 {
		return nil, errors.New("empty command")
	}
	return toks, nil
}

// quotedPart unquotes the Go-quoted string that starts at line[i], repeated
// when *N follows it, and returns where the line goes on after it.
func quotedPart(line string, i int) (string, int, error) {
	j := i + 1
	for j < len(line) && line[j] != '"' {
		if line[j] == '\\' {
			j++
		}
		j++
	}
	if j >= len(line) {
		return "", 0, fmt.Errorf("unterminated string in %q", line)
	}
	str, err := strconv.Unquote(line[i : j+1])
	if err != nil {
		return "", 0, fmt.Errorf("bad string %s: %v", line[i:j+1], err)
	}
	i = j + 1
	if i == len(line) || line[i] != '*' {
		return str, i, nil
	}
	k := i + 1
	for k < len(line) && line[k] >= '0' && line[k] <= '9' {
		k++
	}
	reps, err := strconv.Atoi(line[i+1 : k])
	if err != nil {
		return "", 0, fmt.Errorf("bad repeat count after %s", str)
	}
	return strings.Repeat(str, reps), k, nil
}
