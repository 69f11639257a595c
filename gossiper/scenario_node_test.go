package gossiper

// The scenarios' node and its user: node, coin, draws, client, rename and
// add-peer (testdata/scenarios/README).

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// scenarioRandom hands out the scripted draws and records every draw.
type scenarioRandom struct {
	script []int
	drawn  []string
	bad    []string
}

func (r *scenarioRandom) IntN(n int) int {
	v := 0
	if len(r.script) > 0 {
		v, r.script = r.script[0], r.script[1:]
	}
	if v < 0 || v >= n {
		r.bad = append(r.bad, fmt.Sprintf("draw %d scripted where random(%d) was asked", v, n))
		v = 0
	}
	r.drawn = append(r.drawn, fmt.Sprintf("random(%d) = %d", n, v))
	return v
}

// Shuffle keeps the order, so that a transcript knows which peers a round
// visits without scripting a draw for every swap.
func (r *scenarioRandom) Shuffle(int, func(i, j int)) {}

// node starts a fresh node, its clock at 0s. The files defined so far stay
// defined.
func (s *scenario) node(args []token) (string, error) {
	cfg := DefaultConfig()
	for _, a := range args {
		key, val, hasVal := strings.Cut(a.s, "=")
		switch {
		case key == "simple" && !hasVal:
			cfg.Simple = true
		case key == "name" && hasVal:
			cfg.Name = val
		case key == "addr" && hasVal:
			cfg.Addr = val
		case key == "peers" && hasVal:
			if val != "" {
				cfg.Peers = strings.Split(val, ",")
			}
		case key == "rate" && hasVal:
			r, err := strconv.ParseFloat(val, 64)
			if err != nil || r < 0 {
				return "", fmt.Errorf("bad rate %q", val)
			}
			cfg.MaxPacketsPerSecond = r
		default:
			return "", fmt.Errorf("unknown node option %q", a.s)
		}
	}
	if cfg.Name == "" || cfg.Addr == "" {
		return "", errors.New("a node needs a name and an addr")
	}
	// A fixed secret keeps the probes' hashes the same from run to run.
	cfg.Secret = []byte("scenario secret")
	s.rng = &scenarioRandom{}
	s.core = NewCore(cfg, s.rng)
	s.start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = s.start
	s.timers = nil
	return "", nil
}

// coin scripts the next draws as heads (1) or tails (0).
func (s *scenario) coin(args []token) (string, error) {
	return "", s.script(args, func(a string) (int, error) {
		switch a {
		case "heads":
			return 1, nil
		case "tails":
			return 0, nil
		}
		return 0, fmt.Errorf("a coin is heads or tails, not %q", a)
	})
}

// draws scripts the next draws as numbers.
func (s *scenario) draws(args []token) (string, error) {
	return "", s.script(args, func(a string) (int, error) {
		v, err := strconv.Atoi(a)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("bad draw %q", a)
		}
		return v, nil
	})
}

func (s *scenario) script(args []token, value func(string) (int, error)) error {
	for _, a := range args {
		v, err := value(a.s)
		if err != nil {
			return err
		}
		s.rng.script = append(s.rng.script, v)
	}
	return nil
}

// client posts a message of the local user.
func (s *scenario) client(args []token) (result, error) {
	var r result
	if len(args) != 1 {
		return r, errors.New("client takes one text")
	}
	var posted Posted
	r.out, posted, r.err = s.core.Client(args[0].s, s.now)
	if r.err == nil {
		r.posted = &posted
	}
	return r, nil
}

// rename is the user's change of the node's name.
func (s *scenario) rename(args []token) (string, error) {
	return userChange(args, "rename takes one name", s.core.SetName)
}

// addPeer is a peer the user adds by hand.
func (s *scenario) addPeer(args []token) (string, error) {
	return userChange(args, "add-peer takes one address", s.core.AddPeer)
}

// userChange prints the node's refusal, its answer to the user, but fails
// the test on a command without its one argument.
func userChange(args []token, usage string, change func(string) error) (string, error) {
	if len(args) != 1 {
		return "", errors.New(usage)
	}
	if err := change(args[0].s); err != nil {
		return "error " + err.Error(), nil
	}
	return "", nil
}
