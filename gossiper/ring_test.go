package gossiper

import (
	"flag"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// ringNet builds the graders' ring: ten nodes A..J on ports 5000..5009, each
// knowing only the next, started a few milliseconds apart as a script would.
func ringNet(seed uint64, simple bool) *simNet {
	s := newSimNet(seed)
	for i := range 10 {
		cfg := DefaultConfig()
		cfg.Name = string(rune('A' + i))
		cfg.Addr = simAddr(i)
		cfg.Peers = []string{simAddr((i + 1) % 10)}
		cfg.Simple = simple
		s.addNode(cfg)
		s.runFor(3 * time.Millisecond)
	}
	return s
}

var ringMessages = []struct {
	node int
	at   time.Duration
	text string
}{
	{4, 0, "Weather_is_clear"},
	{1, 5 * time.Millisecond, "Winter_is_coming"},
	{4, 2 * time.Second, "No_clouds_really"},
	{1, 3 * time.Second, "Let's_go_skiing"},
	{6, 3*time.Second + 5*time.Millisecond, "Is_anybody_here?"},
}

// rumorRingFailures applies the graders' test_2_ring checks to every node's
// output and returns what failed.
func rumorRingFailures(out [][]string) []string {
	var fails []string
	has := func(i int, pattern string) bool {
		re := regexp.MustCompile(pattern)
		for _, l := range out[i] {
			if re.MatchString(l) {
				return true
			}
		}
		return false
	}
	ids := map[string]int{}
	for i := range 10 {
		prev, next := simAddr((i+9)%10), simAddr((i+1)%10)
		need := func(what, pattern string) {
			if !has(i, pattern) {
				fails = append(fails, fmt.Sprintf("node %c: no %s", 'A'+i, what))
			}
		}
		for _, m := range ringMessages {
			origin := string(rune('A' + m.node))
			ids[origin]++
			if m.node != i {
				need("RUMOR of "+m.text, fmt.Sprintf(`^RUMOR origin %s from 127\.0\.0\.1:[0-9]{4} ID %d contents %s$`, origin, ids[origin], regexp.QuoteMeta(m.text)))
			}
		}
		clear(ids)
		if !has(i, "^MONGERING with "+prev+"$") && !has(i, "^MONGERING with "+next+"$") {
			fails = append(fails, fmt.Sprintf("node %c: no MONGERING with a neighbour", 'A'+i))
		}
		for _, nb := range []string{prev, next} {
			need("STATUS from "+nb, "^STATUS from "+nb)
			need("FLIPPED COIN to "+nb, "^FLIPPED COIN sending rumor to "+nb+"$")
			need("IN SYNC WITH "+nb, "^IN SYNC WITH "+nb+"$")
		}
		for _, s := range []string{"peer E nextID 3", "peer B nextID 3", "peer G nextID 2"} {
			need(s, s)
		}
		if !has(i, "^PEERS "+prev+","+next+"$") && !has(i, "^PEERS "+next+","+prev+"$") {
			fails = append(fails, fmt.Sprintf("node %c: no PEERS line with both neighbours", 'A'+i))
		}
	}
	return fails
}

func runRumorRing(seed uint64, d time.Duration) (*simNet, []string) {
	s := ringNet(seed, false)
	for _, m := range ringMessages {
		s.client(s.node(m.node), m.at, m.text)
	}
	s.runFor(d)
	out := make([][]string, 10)
	for i := range 10 {
		out[i] = s.node(i).lines
	}
	return s, rumorRingFailures(out)
}

var (
	ringRuns = flag.Int("ring-runs", 300, "how many seeded runs of the graders' ring TestRumorRingGraderChecks makes")
	ringAt   = flag.Duration("ring-at", 8*time.Second, "when after the first message TestRumorRingGraderChecks checks the ring")
)

// TestRumorRingGraderChecks runs the graders' rumor ring many times, each
// with its own seed, and asserts their checks hold in every run 8 s after the
// first message, as the issue asks.
func TestRumorRingGraderChecks(t *testing.T) {
	runs := *ringRuns
	if testing.Short() {
		runs = min(runs, 30)
	}
	failed := 0
	for seed := range uint64(runs) {
		_, fails := runRumorRing(seed, *ringAt)
		if len(fails) > 0 {
			failed++
			if failed <= 3 {
				t.Errorf("seed %d: %s", seed, strings.Join(fails, "; "))
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d runs failed the graders' checks", failed, runs)
	}
}
