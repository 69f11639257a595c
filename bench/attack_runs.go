package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerster/Peerster/internal/attack"
)

// The attacks' drivers: each starts its nodes, sets them up, runs one
// attack of internal/attack between begin and finish, and says what it
// saw. runOneAttack does the rest: the chat after, memory, counts.

func (e *attackEnv) bigText() string { return strings.Repeat("x", e.o.textSize) }

// waitFor polls cond every 5 ms until it holds or timeout passes, and
// reports whether it held.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func runMemoryFlood(e *attackEnv) error {
	if err := e.chattingPair(); err != nil {
		return err
	}
	socks := make([]*attack.Socket, e.o.floodSockets)
	for i := range socks {
		var err error
		if socks[i], err = e.socket(); err != nil {
			return err
		}
	}
	onTarget := e.target.out.count("RUMOR origin Z", "")
	onPeer := e.peer.out.count("RUMOR origin Z", "")
	text := e.bigText()
	e.begin()
	// Each socket floods an origin of its own, Z1, Z2, ...: a node takes
	// only so many bytes a second from one address.
	results := make([]attack.FloodResult, len(socks))
	errs := make([]error, len(socks))
	var wg sync.WaitGroup
	for i, s := range socks {
		wg.Go(func() {
			results[i], errs[i] = attack.MemoryFlood(s, e.target.gossip, attack.Flood{Origin: fmt.Sprintf("Z%d", i+1), Text: text, Count: e.o.floodCount, Duration: e.o.floodTime})
		})
	}
	wg.Wait()
	e.finish()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var sent, took int
	var longest time.Duration
	for _, res := range results {
		sent += res.Sent
		took += max(int(res.Next)-1, 0)
		longest = max(longest, res.Took)
	}
	e.say("%d rumors of origins Z1..Z%d from %d sockets, %d B each, in %v; by the target's last statuses it took %d",
		sent, len(socks), len(socks), len(attack.Rumor("Z1", 1, text)), seconds(longest), took)
	e.later = append(e.later, func() {
		e.say("RUMOR lines of Z printed: target %d, peer %d", onTarget.count(), onPeer.count())
	})
	return nil
}

func runHTTPHistory(e *attackEnv) error {
	if err := e.chattingPair(); err != nil {
		return err
	}
	// The cross-site checks come first, while answers are small.
	sayCrossSite := crossSiteReads(e)
	s, err := e.socket()
	if err != nil {
		return err
	}
	e.begin()
	res, err := attack.MemoryFlood(s, e.target.gossip, attack.Flood{Origin: "H", Text: e.bigText(), Count: e.o.historyCount, Duration: 60 * time.Second})
	if err != nil {
		e.finish()
		return err
	}
	limit := e.o.httpLimitMiB << 20
	t0 := time.Now()
	st, n, capped, msgErr := attack.GetCapped(e.client, e.target.url("/message"), nil, limit)
	msgTook := time.Since(t0)
	t0 = time.Now()
	en, ecapped, evErr := attack.FirstEvent(e.client, e.target.url("/events"), "message", limit)
	evTook := time.Since(t0)
	e.finish()
	e.say("history filled with %d rumors of %d B of text in %v", max(int(res.Next)-1, 0), e.o.textSize, seconds(res.Took))
	if msgErr != nil {
		e.say("GET /message: %v", msgErr)
	} else {
		e.say("GET /message: %d, %s in %v", st, cappedSize(n, capped), seconds(msgTook))
	}
	if evErr != nil {
		e.say("GET /events: %v", evErr)
	} else {
		e.say("first message event of GET /events: %s in %v", cappedSize(en, ecapped), seconds(evTook))
	}
	sayCrossSite()
	return nil
}

// crossSiteReads sends the target a cross-site GET on each path of the API
// and one cross-site navigation to /, and returns what says the answers.
func crossSiteReads(e *attackEnv) (say func()) {
	var open, refused []string
	for _, p := range []string{"/message", "/node", "/id", "/routes", "/private", "/events", "/metrics"} {
		st, err := attack.CrossSiteGET(e.client, e.target.url(p), false)
		switch {
		case err != nil:
			refused = append(refused, p+" "+err.Error())
		case st == http.StatusOK:
			open = append(open, p)
		default:
			refused = append(refused, p+" "+strconv.Itoa(st))
		}
	}
	nav, navErr := attack.CrossSiteGET(e.client, e.target.url("/"), true)
	return func() {
		if len(open) == 0 {
			open = []string{"none"}
		}
		e.say("GET with Sec-Fetch-Site: cross-site answered 200 on %s", strings.Join(open, " "))
		if len(refused) > 0 {
			e.say("refused: %s", strings.Join(refused, ", "))
		}
		if navErr != nil {
			e.say("/ as a cross-site navigation: %v", navErr)
		} else {
			e.say("/ as a cross-site navigation: %d", nav)
		}
	}
}

func cappedSize(n int64, capped bool) string {
	if capped {
		return "at least " + byteSize(n) + " (read no further)"
	}
	return byteSize(n)
}

func runPrivateLoop(e *attackEnv) error {
	if err := e.chattingPair(); err != nil {
		return err
	}
	sp, err := attack.NewSpoofer()
	if err != nil {
		e.na = true
		e.say("n/a: %v", err)
		return nil
	}
	e.spoofer = sp
	s, err := e.socket()
	if err != nil {
		return err
	}
	a, b := e.target, e.peer
	aRoute := a.out.count("DSDV X "+b.gossip.String(), "")
	bRoute := b.out.count("DSDV X "+a.gossip.String(), "")
	e.begin()
	if err := attack.RoutingLoop(sp, a.gossip, b.gossip, "X"); err != nil {
		e.finish()
		return err
	}
	formed := waitFor(2*time.Second, func() bool { return aRoute.count() > 0 && bRoute.count() > 0 })
	ma0, errA := a.counters()
	mb0, errB := b.counters()
	cpuA0, cpuB0 := cpuTime(a.pid()), cpuTime(b.pid())
	t0 := time.Now()
	if err := s.Send(a.gossip, attack.LoopingPrivate("S", "X")); err != nil {
		e.finish()
		return err
	}
	time.Sleep(e.o.loopTime)
	ma1, errA1 := a.counters()
	mb1, errB1 := b.counters()
	cpuA1, cpuB1 := cpuTime(a.pid()), cpuTime(b.pid())
	el := time.Since(t0)
	e.finish()
	e.say("spoofed route rumors X/1: A routes X through B %s, B through A %s", yesNo(aRoute.count() > 0), yesNo(bRoute.count() > 0))
	if !formed {
		e.say("(no loop formed within 2 s)")
	}
	if err := errors.Join(errA, errB, errA1, errB1); err != nil {
		e.say("metrics: %v", err)
		return nil
	}
	const fwd = `peerster_private_messages_total{event="forwarded"}`
	const sent = "peerster_packets_sent_total"
	fa, fb := ma1[fwd]-ma0[fwd], mb1[fwd]-mb0[fwd]
	e.say("in %v after one private message: forwarded A %.0f (%.0f/s), B %.0f (%.0f/s); datagrams sent A %.0f, B %.0f",
		seconds(el), fa, fa/el.Seconds(), fb, fb/el.Seconds(), ma1[sent]-ma0[sent], mb1[sent]-mb0[sent])
	e.say("CPU meanwhile: A %.0f%%, B %.0f%% of a core", 100*(cpuA1-cpuA0).Seconds()/el.Seconds(), 100*(cpuB1-cpuB0).Seconds()/el.Seconds())
	return nil
}

// settleStatus waits until the statuses from target to s list the same
// number of origins for 300 ms (at most timeout), and returns them.
func settleStatus(s *attack.Socket, e *attackEnv, timeout time.Duration) int {
	last, since := -1, time.Now()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		want, _, _ := s.LastStatus(e.target.gossip)
		if len(want) != last {
			last, since = len(want), time.Now()
		} else if time.Since(since) >= 300*time.Millisecond {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return last
}

func runAmplificationDup(e *attackEnv) error {
	if err := e.pair(); err != nil {
		return err
	}
	setup, err := e.helper()
	if err != nil {
		return err
	}
	// Long names make a big status: Peerster counts 16 bytes besides the
	// name for each origin and keeps no more than 60,000 bytes' worth, so
	// 1,000 origins of 43 bytes fit, beside A and B. Route rumors (empty)
	// print no RUMOR line.
	names := attack.OriginNames("amp-", e.o.ampOrigins, 43)
	// Newer nodes take new origins from an address only slowly until it
	// proves it receives what they send; a stranger with a socket of its
	// own can. Older ones ask no proof, and take them at once.
	_ = setup.Prove(e.target.gossip, time.Second)
	if _, err := attack.FillOrigins([]*attack.Socket{setup}, e.target.gossip, names, "", 500*time.Millisecond); err != nil {
		return err
	}
	held := settleStatus(setup, e, 5*time.Second)
	if err := e.startChat(e.o.chatEvery); err != nil {
		return err
	}
	want, _, _ := setup.LastStatus(e.target.gossip)
	victim, err := e.socket()
	if err != nil {
		return err
	}
	dup := attack.Rumor("A", 1, "")
	e.begin()
	if _, err := attack.Repeat(victim, e.target.gossip, dup, e.o.ampDups, 2*time.Millisecond); err != nil {
		e.finish()
		return err
	}
	e.amplified(victim, fmt.Sprintf("the target held %d origins (a status of %s); %d duplicates of its own A/1, %d B each, from the victim's address",
		held, byteSize(int64(len(attack.Status(want...)))), e.o.ampDups, len(dup)))
	return nil
}

// amplified waits until the victim has gone quiet and says what reached
// it.
func (e *attackEnv) amplified(victim *attack.Socket, what string) {
	sentAt := time.Now()
	back, quiet := victim.WaitQuiet(e.o.quiet, e.o.quietMax)
	e.finish()
	sent := victim.Sent()
	end := "quiet " + seconds(victim.LastArrival().Sub(sentAt)) + " after the last send"
	if !quiet {
		end = "still receiving " + seconds(e.o.quietMax) + " after the last send"
	} else if victim.LastArrival().Before(sentAt) {
		end = "nothing after the last send"
	}
	e.say("%s", what)
	e.say("back to the victim until quiet: %d datagrams, %s, %.0fx the %s sent (%s)",
		back.Datagrams, byteSize(back.Bytes), float64(back.Bytes)/float64(max(sent.Bytes, 1)), byteSize(sent.Bytes), end)
}

func runAmplificationStatus(e *attackEnv) error {
	if err := e.pair(); err != nil {
		return err
	}
	setup, err := e.helper()
	if err != nil {
		return err
	}
	// Big rumors first, so that theirs is the first origin in the target's
	// status, the one it offers first to a peer that lacks everything.
	// A flood counts datagrams, resends included; it resumes where the
	// target's status says until the target holds them all.
	var res attack.FloodResult
	for try := 0; try < 5 && int(res.Next) <= e.o.ampBig; try++ {
		left := e.o.ampBig - max(int(res.Next)-1, 0)
		r, err := attack.MemoryFlood(setup, e.target.gossip, attack.Flood{Origin: "Big", Text: e.bigText(), FirstID: res.Next, Count: left, Duration: 10 * time.Second})
		if err != nil {
			return err
		}
		res.Next = max(res.Next, r.Next)
	}
	if err := e.startChat(e.o.chatEvery); err != nil {
		return err
	}
	victim, err := e.socket()
	if err != nil {
		return err
	}
	st := attack.Status()
	e.begin()
	if _, err := attack.Repeat(victim, e.target.gossip, st, e.o.ampStatuses, 2*time.Millisecond); err != nil {
		e.finish()
		return err
	}
	e.amplified(victim, fmt.Sprintf("the target held %d rumors of %d B of text, its first origin; %d empty statuses, %d B each, from the victim's address",
		max(int(res.Next)-1, 0), e.o.textSize, e.o.ampStatuses, len(st)))
	return nil
}

func runOriginFill(e *attackEnv) error   { return originFill(e, 1) }
func runOriginFill16(e *attackEnv) error { return originFill(e, e.o.fillSockets) }

func originFill(e *attackEnv, sockets int) error {
	if err := e.chattingPair(); err != nil {
		return err
	}
	var socks []*attack.Socket
	for range sockets {
		s, err := e.socket()
		if err != nil {
			return err
		}
		socks = append(socks, s)
	}
	onA := e.target.out.count("RUMOR origin o", " contents hi")
	onB := e.peer.out.count("RUMOR origin o", " contents hi")
	e.begin()
	t0 := time.Now()
	n, err := attack.FillOrigins(socks, e.target.gossip, attack.OriginNames("o", e.o.fillOrigins, 0), "hi", e.o.fillTime)
	took := time.Since(t0)
	if err != nil {
		e.finish()
		return err
	}
	// Let the target gossip the new origins on before a node joins.
	time.Sleep(500 * time.Millisecond)
	c, err := e.node("C", []*attackNode{e.target})
	if err != nil {
		e.finish()
		return err
	}
	text := e.chatPrefix() + "C-joined"
	posted := time.Now()
	if err := c.postChat(text); err != nil {
		e.finish()
		return err
	}
	waitFor(e.o.joinWait, func() bool {
		_, a := e.target.out.printed(text)
		_, b := e.peer.out.printed(text)
		return a && b
	})
	e.finish()
	e.say("%d first rumors of new origins from %d socket(s) in %v; RUMOR lines of them printed: A %d, B %d",
		n, sockets, seconds(took), onA.count(), onB.count())
	var got []string
	for _, nd := range []*attackNode{e.target, e.peer} {
		if at, ok := nd.out.printed(text); ok {
			got = append(got, fmt.Sprintf("%s after %v", nd.name, seconds(at.Sub(posted))))
		} else {
			got = append(got, fmt.Sprintf("%s never (%v)", nd.name, e.o.joinWait))
		}
	}
	e.say("then C joined (-peers A) and posted: printed by %s", strings.Join(got, ", "))
	return nil
}

func runOwnClaims(e *attackEnv) error {
	if err := e.pair("-rtimer=1"); err != nil {
		return err
	}
	// The user posts every 500 ms.
	if err := e.startChat(2 * e.o.chatEvery); err != nil {
		return err
	}
	probe, err := e.helper()
	if err != nil {
		return err
	}
	s, err := e.socket()
	if err != nil {
		return err
	}
	forgedA := e.target.out.count("RUMOR origin A from ", " contents forged")
	forgedB := e.peer.out.count("RUMOR origin A from ", " contents forged")
	n0, _ := attack.AskNextID(probe, e.target.gossip, "A", time.Second)
	e.begin()
	res, err := attack.OwnClaims(s, e.target.gossip, attack.Claims{Origin: "A", Claim: 4_000_000_000,
		ClaimEvery: 100 * time.Millisecond, ForgeEvery: 500 * time.Millisecond, Text: "forged", Duration: e.o.claimsTime})
	e.finish()
	if err != nil {
		return err
	}
	n1, _ := attack.AskNextID(probe, e.target.gossip, "A", time.Second)
	e.later = append(e.later, func() {
		ds, lost := e.chat.delays(0, e.start, e.end)
		if len(ds) > 0 {
			sm := summarize(ds)
			e.say("A's %d posts during the attack: B printed %d, median %v and max %v after the post; %d never",
				len(ds)+lost, len(ds), seconds(sm.median), seconds(sm.max), lost)
		} else {
			e.say("A's %d posts during the attack: B printed none", lost)
		}
		window := e.end.Sub(e.start)
		if n0 == 0 || n1 == 0 {
			e.say("route rumors: n/a (A did not answer the probe for its next ID)")
		} else if chat, err := e.chatIDs(e.target, "A"); err != nil {
			e.say("route rumors: n/a (%v)", err)
		} else {
			routes := 0
			for id := n0; id < n1; id++ {
				if !chat[id] {
					routes++
				}
			}
			e.say("A's IDs went from %d to %d in %v: %d route rumors (-rtimer=1: about %.0f without the attack), %d in its chat log (its posts and forged rumors it took)",
				n0, n1, seconds(window), routes, window.Seconds(), int(n1-n0)-routes)
		}
		e.say("%d claiming statuses and %d forged rumors of A sent (%d unanswered probes); the forged text printed as A's message by A %d, by B %d times",
			res.Claims, len(res.Forged), res.Unanswered, forgedA.count(), forgedB.count())
	})
	return nil
}

// chatIDs reads the IDs of origin's messages in the node's chat log; route
// rumors are not in it.
func (e *attackEnv) chatIDs(nd *attackNode, origin string) (map[uint32]bool, error) {
	resp, err := e.client.Get(nd.url("/message"))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /message: %s", resp.Status)
	}
	var entries []struct {
		Origin string `json:"origin"`
		ID     uint32 `json:"id"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&entries); err != nil {
		return nil, fmt.Errorf("GET /message: %w", err)
	}
	ids := map[uint32]bool{}
	for _, en := range entries {
		if en.Origin == origin {
			ids[en.ID] = true
		}
	}
	return ids, nil
}

func runWindowFill(e *attackEnv) error {
	if err := e.chattingPair(); err != nil {
		return err
	}
	s, err := e.socket()
	if err != nil {
		return err
	}
	honest, err := e.helper()
	if err != nil {
		return err
	}
	h1 := e.target.out.count("RUMOR origin H from ", " contents early-1")
	h2 := e.target.out.count("RUMOR origin H from ", " contents early-2")
	m0, err0 := e.target.counters()
	e.begin()
	t0 := time.Now()
	n, err := attack.FillWindow(s, e.target.gossip, "W", e.o.windowIDs, e.o.windowPerOrigin, "w", 5000)
	took := time.Since(t0)
	if err != nil {
		e.finish()
		return err
	}
	time.Sleep(300 * time.Millisecond)
	m1, err1 := e.target.counters()
	if err := attack.EarlyPair(honest, e.target.gossip, "H", "early-1", "early-2", 50*time.Millisecond); err != nil {
		e.finish()
		return err
	}
	sentFirst := time.Now()
	waitFor(time.Second, func() bool { return h1.count() > 0 && h2.count() > 0 })
	e.finish()
	const ooo = "peerster_rumors_out_of_order_total"
	kept := "?"
	if err0 == nil && err1 == nil {
		kept = fmt.Sprintf("%.0f", m1[ooo]-m0[ooo])
	}
	e.say("%d rumors, IDs 2..%d of origins W1, W2... (never ID 1), in %v; the target counted %s out of order",
		n, min(n, e.o.windowPerOrigin)+1, seconds(took), kept)
	h2Kept := "no: not printed within 1 s"
	if h2.count() > 0 {
		h2Kept = fmt.Sprintf("yes, printed %v after H/1 was sent", seconds(h2.firstAt().Sub(sentFirst)))
	}
	e.say("then an honest early rumor, H/2 and 50 ms later H/1: H/1 printed %s; H/2 kept: %s", yesNo(h1.count() > 0), h2Kept)
	return nil
}

func runStdoutForge(e *attackEnv) error {
	if err := e.chattingPair(); err != nil {
		return err
	}
	s, err := e.socket()
	if err != nil {
		return err
	}
	forgedA := e.target.out.count(attack.ForgedLinePrefix, "")
	forgedB := e.peer.out.count(attack.ForgedLinePrefix, "")
	escA := e.target.out.count("RUMOR origin Esc from ", "")
	ctlA, ctlB := e.target.out.control.Load(), e.peer.out.control.Load()
	e.begin()
	if err := attack.StdoutForge(s, e.target.gossip, "hi", "Esc"); err != nil {
		e.finish()
		return err
	}
	// Long enough for the target to print and gossip both on.
	waitFor(time.Second, func() bool { return forgedA.count() > 0 && escA.count() > 0 })
	time.Sleep(time.Second)
	e.finish()
	e.say("origin %q: a line starting %q printed by A %d, B %d times", attack.ForgedOrigin, attack.ForgedLinePrefix, forgedA.count(), forgedB.count())
	e.say("text with terminal escapes (%d ESC/BEL bytes): raw ESC/BEL bytes on stdout A %d, B %d (RUMOR line of it at A: %s)",
		strings.Count(attack.EscapeText, "\x1b")+strings.Count(attack.EscapeText, "\x07"),
		e.target.out.control.Load()-ctlA, e.peer.out.control.Load()-ctlB, yesNo(escA.count() > 0))
	return nil
}

func runRouteHijack(e *attackEnv) error {
	if err := e.chattingPair(); err != nil {
		return err
	}
	s, err := e.socket()
	if err != nil {
		return err
	}
	const secret = "secret-"
	var atS atomic.Int64
	s.Tap(func(a attack.Arrival) {
		if p := a.Packet; p != nil && p.Private != nil && p.Private.Destination == "B" && strings.HasPrefix(p.Private.Text, secret) {
			atS.Add(1)
		}
	})
	a, b := e.target, e.peer
	hijacked := a.out.count("DSDV B "+s.Addr().String(), "")
	var atB atomic.Int64
	b.out.watch(func(line []byte, _ time.Time) {
		if bytes.HasPrefix(line, []byte("PRIVATE origin A ")) && bytes.Contains(line, []byte(" contents "+secret)) {
			atB.Add(1)
		}
	})
	e.begin()
	tries := 0
	for tries < 5 && hijacked.count() == 0 {
		tries++
		if _, err := attack.HijackRoute(s, a.gossip, "B", 500*time.Millisecond); err != nil {
			e.finish()
			return err
		}
		waitFor(300*time.Millisecond, func() bool { return hijacked.count() > 0 })
	}
	// At once, before B's next chat message gives A its route back.
	for k := 1; k <= e.o.privates; k++ {
		if err := a.postPrivate("B", secret+strconv.Itoa(k)); err != nil {
			e.finish()
			return err
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(time.Second)
	e.finish()
	if hijacked.count() > 0 {
		e.say("A routed B through the stranger (DSDV B %s) after %d forged rumor(s) of B", s.Addr(), tries)
	} else {
		e.say("A never routed B through the stranger (%d forged rumors of B)", tries)
	}
	e.say("%d private messages A to B: %d reached the stranger, B printed %d", e.o.privates, atS.Load(), atB.Load())
	e.later = append(e.later, func() {
		stderr := yesNo(strings.Contains(strings.ToLower(b.stderrText()), "impersonat"))
		e.say("impersonation warning at B: stderr %s, GET /alerts %s", stderr, e.alerts(b))
	})
	return nil
}

// alerts says whether the node's GET /alerts names an impersonation; n/a
// where the node has no such page.
func (e *attackEnv) alerts(nd *attackNode) string {
	st, body, err := e.getSmall(nd.url("/alerts"))
	switch {
	case err != nil:
		return "error: " + err.Error()
	case st == http.StatusNotFound:
		return "n/a (404)"
	case st != http.StatusOK:
		return "n/a (" + strconv.Itoa(st) + ")"
	}
	return yesNo(strings.Contains(strings.ToLower(body), "impersonat"))
}

func (e *attackEnv) getSmall(url string) (int, string, error) {
	resp, err := e.client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}
