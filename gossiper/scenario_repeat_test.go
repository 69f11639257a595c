package gossiper

// The scenarios' repeat command: one event many times, its output summed
// up (testdata/scenarios/README).

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// repeat runs its command N times. The command is tokenized anew each
// time, after {i} is replaced, so that {i} may stand inside a quoted text.
func (s *scenario) repeat(args []token) (string, error) {
	if len(args) < 2 {
		return "", errors.New("repeat takes a count and a command")
	}
	n, err := strconv.Atoi(args[0].s)
	if err != nil || n < 1 {
		return "", fmt.Errorf("bad count %q", args[0].s)
	}
	var rs []result
	for i := 1; i <= n; i++ {
		toks, err := tokenize(substituteI(args[1].rest, i))
		if err != nil {
			return "", err
		}
		cmd := scenarioCommands[toks[0].s]
		if !cmd.repeatable {
			return "", fmt.Errorf("repeat runs recv, client, tick or fire, not %s", toks[0].s)
		}
		r, err := s.event(cmd.event, toks[1:])
		if err != nil {
			return "", fmt.Errorf("run %d: %w", i, err)
		}
		rs = append(rs, r)
	}
	return summarize(rs), nil
}

// repeatIndex is {i} or {i+K} in a repeated command.
var repeatIndex = regexp.MustCompile(`\{i(?:\+(\d+))?\}`)

// substituteI writes i, or i+K, for each {i} or {i+K} in command.
func substituteI(command string, i int) string {
	return repeatIndex.ReplaceAllStringFunc(command, func(m string) string {
		k, _ := strconv.Atoi(repeatIndex.FindStringSubmatch(m)[1])
		return strconv.Itoa(i + k)
	})
}

// summarize adds up the results of a repeat: how many lines were printed,
// draws made, messages stored, datagrams sent and timers armed, then the
// drops and counts as for one event. Thousands of events would bury the
// lines that matter; what the scenario checks is how many.
func summarize(rs []result) string {
	var printed, draws, stored, sent, timers, warnings, errs int
	var sum tally
	for _, r := range rs {
		printed += len(r.out.Lines)
		draws += len(r.draws)
		stored += len(r.out.Accepted)
		sent += len(r.out.Sends)
		timers += len(r.out.Timers)
		warnings += len(r.out.Warnings)
		if r.err != nil {
			errs++
		}
		sum.add(r.counts)
	}
	lines := []string{
		fmt.Sprintf("lines %d", printed),
		fmt.Sprintf("random %d", draws),
		fmt.Sprintf("store %d", stored),
		fmt.Sprintf("send %d", sent),
		fmt.Sprintf("timer %d", timers),
	}
	lines = append(lines, sum.lines()...)
	if warnings > 0 {
		lines = append(lines, fmt.Sprintf("warn %d", warnings))
	}
	if errs > 0 {
		lines = append(lines, fmt.Sprintf("error %d", errs))
	}
	return strings.Join(lines, "\n")
}
