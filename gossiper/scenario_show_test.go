package gossiper

// The scenarios' show command: what the node holds, between events
// (testdata/scenarios/README).

import (
	"fmt"
	"strings"
)

// scenarioView is one thing show shows. empty is the line shown when there
// is nothing; a view that always has a line has none.
type scenarioView struct {
	name  string
	lines func(*scenario) []string
	empty string
}

// scenarioViews are in the order show's error lists them.
var scenarioViews = []scenarioView{
	{"status", func(s *scenario) []string { return []string{statusText(s.core.Status())} }, ""},
	{"peers", func(s *scenario) []string { return []string{"peers " + strings.Join(s.core.Peers(), ",")} }, ""},
	{"log", (*scenario).showLog, "(empty)"},
	{"timers", (*scenario).showTimers, "(none)"},
	{"routes", (*scenario).showRoutes, "(empty)"},
	{"private", (*scenario).showPrivate, "(empty)"},
	{"alerts", (*scenario).showAlerts, "(none)"},
	{"downloads", (*scenario).showDownloads, "(none)"},
	{"shared", (*scenario).showShared, "(none)"},
}

func (s *scenario) show(args []token) (string, error) {
	var names []string
	for _, v := range scenarioViews {
		names = append(names, v.name)
	}
	if len(args) != 1 {
		return "", fmt.Errorf("show takes one of %s", strings.Join(names, ", "))
	}
	for _, v := range scenarioViews {
		if v.name != args[0].s {
			continue
		}
		lines := v.lines(s)
		if len(lines) == 0 {
			lines = []string{v.empty}
		}
		return strings.TrimSpace(strings.Join(lines, "\n")), nil
	}
	return "", fmt.Errorf("show takes one of %s, not %q", strings.Join(names, ", "), args[0].s)
}

// showLog marks a forged message: one under this node's own name that it
// did not write.
func (s *scenario) showLog() []string {
	var lines []string
	for _, e := range s.core.Log() {
		line := fmt.Sprintf("%s/%d %s", word(e.Origin), e.ID, quote(e.Text))
		if e.Forged {
			line += " (forged)"
		}
		lines = append(lines, line)
	}
	return lines
}

// showTimers lists the timers armed and not fired yet, whether or not the
// node still cares for them: it has no list to ask.
func (s *scenario) showTimers() []string {
	var lines []string
	for _, tm := range s.timers {
		if !tm.fired {
			lines = append(lines, fmt.Sprintf("#%d %s %s at %s", tm.Seq, tm.Kind, s.timerPeer(tm.Timer), tm.deadline.Sub(s.start)))
		}
	}
	return lines
}

func (s *scenario) showRoutes() []string {
	var lines []string
	for _, rt := range s.core.Routes() {
		lines = append(lines, fmt.Sprintf("route %s via %s", word(rt.Origin), rt.NextHop))
	}
	return lines
}

func (s *scenario) showPrivate() []string {
	var lines []string
	kept, _ := s.core.PrivatesSince(0)
	for _, e := range kept {
		lines = append(lines, privateText(e))
	}
	return lines
}

func (s *scenario) showAlerts() []string {
	var lines []string
	for _, a := range s.core.Alerts() {
		lines = append(lines, fmt.Sprintf("alert %s x%d, first %s, last %s: %s", a.Kind, a.Count, a.First.Sub(s.start), a.Last.Sub(s.start), a.Text))
	}
	return lines
}
