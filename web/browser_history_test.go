package web

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/peerster/Peerster/gossiper"
)

// pageState is what a test reads of the chat at one moment: how many
// messages it shows, the seq of the first, and where the first is, in
// pixels below the top of the scroller.
type pageState struct {
	Count int     `json:"count"`
	First int     `json:"first"`
	Top   float64 `json:"top"`
}

// scrollToTop scrolls the chat to its top, as a reader does, and returns
// what it showed then, before any older message came in.
func (tb *tab) scrollToTop() pageState {
	tb.t.Helper()
	return eval[pageState](tb, `(() => {
		const s = document.querySelector("#scroller");
		s.scrollTop = 0;
		const f = document.querySelector("#messages .msg");
		return {count: document.querySelectorAll("#messages .msg").length, first: Number(f.dataset.seq),
			top: f.getBoundingClientRect().top - s.getBoundingClientRect().top};
	})()`)
}

// TestBrowserHistory opens the page of a node with 1,000 messages: it shows
// the newest page only, and scrolling to the top loads older pages, without
// moving what the reader sees, until the beginning of the history.
func TestBrowserHistory(t *testing.T) {
	ctx := browser(t)
	c, _ := runNode(t, udpNode(t), "carol")
	const n = 1000
	for i := range n {
		if _, err := c.Post("message number " + strconv.Itoa(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	tb := openTab(t, ctx, "carol", startPage(t, c).URL())
	tb.run("newest page shown", waitFor(`(n) => document.querySelectorAll("#messages .msg").length === n`, pageLimit))
	t.Logf("newest page shown %v after opening the page", time.Since(start).Round(time.Millisecond))
	// A reader at the newest message has no reason to fetch older ones.
	time.Sleep(300 * time.Millisecond)
	if got := eval[int](tb, `document.querySelectorAll("#messages .msg").length`); got != pageLimit {
		t.Errorf("page shows %d messages before any scrolling, want the newest %d", got, pageLimit)
	}
	if first := eval[string](tb, `document.querySelector("#messages .msg .text").textContent`); first != "message number 901" {
		t.Errorf("first message shown is %q, want message number 901", first)
	}
	if !eval[bool](tb, `(s => s.scrollHeight - s.scrollTop - s.clientHeight < 50)(document.querySelector("#scroller"))`) {
		t.Error("page does not open at the newest message")
	}

	tb.run("mark the first message", chromedp.Evaluate[chromedp.Void](`document.querySelector("#messages .msg").__first = true`))
	if _, err := c.Post("one more"); err != nil {
		t.Fatal(err)
	}
	tb.shows("carol", "one more")
	if !eval[bool](tb, `document.querySelector("#messages .msg").__first === true`) {
		t.Error("the list was rebuilt for one new message")
	}

	// Every state the history line takes, to see that it said it was
	// loading.
	tb.run("watch the history line", chromedp.Evaluate[chromedp.Void](`window.__states = [];
		new MutationObserver(() => window.__states.push(document.querySelector("#history").dataset.state))
			.observe(document.querySelector("#history"), {attributes: true, attributeFilter: ["data-state"]})`))
	for pages := 0; eval[string](tb, `document.querySelector("#history").dataset.state`) != "begin"; pages++ {
		if pages > n/pageLimit+1 {
			t.Fatalf("still no beginning of the history after %d scrolls to the top", pages)
		}
		before := tb.scrollToTop()
		tb.run("older messages or the beginning", waitFor(`(count) =>
			document.querySelectorAll("#messages .msg").length > count || document.querySelector("#history").dataset.state === "begin"`, before.Count))
		// What the reader looked at is where it was: the older messages
		// came in above it.
		top := eval[float64](tb, `((seq) => { const s = document.querySelector("#scroller");
			return document.querySelector('#messages .msg[data-seq="' + seq + '"]').getBoundingClientRect().top - s.getBoundingClientRect().top; })(`+strconv.Itoa(before.First)+`)`)
		if d := top - before.Top; d < -2 || d > 2 {
			t.Errorf("loading older messages moved message %d by %.0fpx", before.First, d)
		}
	}
	if got := tb.text("#history"); got != "Beginning of the history" {
		t.Errorf("the top of the chat says %q", got)
	}
	// The pages that came in above the first brought no second separator
	// for a day already shown.
	if p := tb.dayProblem("#messages"); p != "" {
		t.Errorf("day separators after loading the history: %s", p)
	}
	if !eval[bool](tb, `window.__states.includes("loading")`) {
		t.Errorf("the history line never said it was loading: %v", eval[[]string](tb, `window.__states`))
	}
	seqs := eval[[]int](tb, `[...document.querySelectorAll("#messages .msg")].map(li => Number(li.dataset.seq))`)
	texts := eval[[]string](tb, `[...document.querySelectorAll("#messages .msg .text")].map(p => p.textContent)`)
	if len(seqs) != n+1 {
		t.Fatalf("page shows %d messages after scrolling to the beginning, want %d", len(seqs), n+1)
	}
	for i, seq := range seqs {
		want := "message number " + strconv.Itoa(i+1)
		if i == n {
			want = "one more"
		}
		if seq != i+1 || texts[i] != want {
			t.Fatalf("message %d shown is #%d %q, want #%d %q: a gap, a repeat or the wrong order", i, seq, texts[i], i+1, want)
		}
	}

	// A reader looking at old messages stays there, and is told of new ones.
	tb.run("scroll to the top", chromedp.Evaluate[chromedp.Void](`document.querySelector("#scroller").scrollTop = 0`))
	if _, err := c.Post("while you read"); err != nil {
		t.Fatal(err)
	}
	tb.run("jump button", waitFor(`() => !document.querySelector("#jump").hidden`))
	if top := eval[float64](tb, `document.querySelector("#scroller").scrollTop`); top != 0 {
		t.Errorf("page scrolled to %.0f while the reader was at the top", top)
	}
	tb.click("#jump")
	tb.run("at the bottom", waitFor(`() => (s => s.scrollHeight - s.scrollTop - s.clientHeight < 50)(document.querySelector("#scroller"))`))
	// Back at the newest, the page lets go of what it holds beyond its
	// bound; scrolling up would fetch it again.
	if got := eval[int](tb, `document.querySelectorAll("#messages .msg").length`); got > 1000 {
		t.Errorf("page holds %d messages after jumping to the newest, want at most 1000", got)
	}
	if p := tb.dayProblem("#messages"); p != "" {
		t.Errorf("day separators after cutting the oldest messages: %s", p)
	}
	tb.shows("carol", "while you read")
	tb.checkQuiet()
}

// TestBrowserAlertsAndForged shows alerts as a banner above the page, which
// the user can dismiss until the alert changes, and marks a message forged
// under the node's own name.
func TestBrowserAlertsAndForged(t *testing.T) {
	ctx := browser(t)
	f := newFakeNode("alice")
	f.receive("bob", 1, "Morning! Did you post the minutes?")
	f.receiveEntry(gossiper.Entry{Origin: "alice", ID: 7, Text: "Please send me your password, I lost mine.", Forged: true})
	if _, err := f.Post("Not yet, after lunch."); err != nil {
		t.Fatal(err)
	}
	first := time.Now().Add(-10 * time.Minute)
	impersonation := gossiper.Alert{Kind: "impersonation",
		Text:  `Someone sends messages under this node's name "alice" that it did not write; they are marked in the chat.`,
		First: first, Last: first.Add(8 * time.Minute), Count: 3}
	f.setAlerts(impersonation)
	page := startPage(t, f)
	tb := openTab(t, ctx, "alice", page.URL())

	const banner = `[...document.querySelectorAll("#alert-list .alert")]`
	tb.run("banner shown", waitFor(`() => !document.querySelector("#alerts").hidden && `+banner+`.length === 1`))
	if got := tb.text("#alert-list .alert-text"); got != impersonation.Text {
		t.Errorf("banner says %q", got)
	}
	if meta := tb.text("#alert-list .alert-meta"); !strings.HasPrefix(meta, "3 times, last ") {
		t.Errorf("banner's details say %q, want the count and the last time", meta)
	}
	if !eval[bool](tb, banner+`[0].classList.contains("danger")`) {
		t.Error("an impersonation alert is not shown as a danger")
	}
	// It is at the top of the page, above the chat, in sight.
	if top := eval[float64](tb, `document.querySelector("#alerts").getBoundingClientRect().top`); top > 80 {
		t.Errorf("banner is %.0fpx down the page", top)
	}

	const forged = "Please send me your password, I lost mine."
	if own := tb.shows("alice", forged); own {
		t.Error("the forged message is shown as the user's own")
	}
	const find = `[...document.querySelectorAll("#messages .msg")].find(li => li.querySelector(".text").textContent === "` + forged + `")`
	if !eval[bool](tb, find+`.classList.contains("forged")`) {
		t.Error("the forged message is not marked")
	}
	if mark := eval[string](tb, `(`+find+`.querySelector(".forged-mark") || {}).textContent || ""`); !strings.Contains(mark, "not written by this node") {
		t.Errorf("the forged message's mark says %q", mark)
	}
	if own := tb.shows("alice", "Not yet, after lunch."); !own {
		t.Error("the user's own message is not marked as such")
	}
	tb.run("blur", chromedp.Blur(chromedp.CSS("#text")))
	tb.run("desktop viewport", chromedp.EmulateViewport(1100, 640))
	tb.screenshot("alert.png")
	tb.run("reset viewport", chromedp.EmulateReset())

	// Dismissed, it stays away until it changes.
	tb.click("#alert-list .alert-close")
	tb.run("banner gone", waitFor(`() => document.querySelector("#alerts").hidden`))
	f.setAlerts(impersonation)
	time.Sleep(300 * time.Millisecond)
	if !eval[bool](tb, `document.querySelector("#alerts").hidden`) {
		t.Error("a dismissed alert came back unchanged")
	}
	impersonation.Count, impersonation.Last = 4, time.Now()
	refused := gossiper.Alert{Kind: "refused", Text: `Messages from 127.0.0.1:5002 were refused: <img src=x onerror=alert(1)>`,
		First: time.Now(), Last: time.Now(), Count: 1}
	f.setAlerts(impersonation, refused)
	tb.run("both alerts shown", waitFor(`() => !document.querySelector("#alerts").hidden && `+banner+`.length === 2`))
	if meta := tb.text("#alert-list .alert-meta"); !strings.HasPrefix(meta, "4 times") {
		t.Errorf("changed alert's details say %q", meta)
	}
	if got := eval[string](tb, banner+`[1].querySelector(".alert-text").textContent`); got != refused.Text {
		t.Errorf("second alert says %q", got)
	}
	if !eval[bool](tb, banner+`[1].classList.contains("warning")`) {
		t.Error("a refused alert is not shown as a warning")
	}
	if n := eval[int](tb, `document.body.querySelectorAll("img, svg, script, iframe, object, embed").length`); n != 0 {
		t.Errorf("page has %d elements made from an alert's text", n)
	}
	// A dismissal holds in the user's other tabs too.
	tb.run("dismiss the refused alert", chromedp.Click(chromedp.JSPath(banner+`[1].querySelector(".alert-close")`)))
	tb.run("one alert left", waitFor(`() => `+banner+`.length === 1`))
	other := openTab(t, ctx, "alice, second tab", page.URL())
	other.run("banner shown", waitFor(`() => `+banner+`.length === 1`))
	if kind := eval[string](other, banner+`[0].dataset.kind`); kind != "impersonation" {
		t.Errorf("second tab shows the %s alert, want only impersonation", kind)
	}
	tb.checkQuiet()
	other.checkQuiet()
}

// TestBrowserPrivateHistory opens a conversation longer than the event
// stream's first page: scrolling up fetches the rest of it, and a
// conversation that is not in that page at all is fetched when opened.
func TestBrowserPrivateHistory(t *testing.T) {
	ctx := browser(t)
	f := newFakeNode("alice")
	f.addRoute("bob", "127.0.0.1:5001")
	f.addRoute("carol", "127.0.0.1:5001")
	f.receivePrivate("carol", "an old one from carol", 9)
	f.receivePrivates("bob", 250)
	tb := openTab(t, ctx, "alice", startPage(t, f).URL())

	tb.openPrivate("bob")
	tb.showsPrivate("bob", "p250")
	if n := eval[int](tb, `document.querySelectorAll("#private-messages .msg").length`); n > pageLimit {
		t.Errorf("conversation opens with %d messages, want at most the stream's first page", n)
	}
	for scrolls := 0; eval[string](tb, `document.querySelector("#private-history").dataset.state`) != "begin"; scrolls++ {
		if scrolls > 10 {
			t.Fatal("no beginning of the conversation after 10 scrolls to the top")
		}
		n := eval[int](tb, `(() => { document.querySelector("#private-scroller").scrollTop = 0;
			return document.querySelectorAll("#private-messages .msg").length; })()`)
		tb.run("older private messages", waitFor(`(n) => document.querySelectorAll("#private-messages .msg").length > n ||
			document.querySelector("#private-history").dataset.state === "begin"`, n))
	}
	if p := tb.dayProblem("#private-messages"); p != "" {
		t.Errorf("day separators after loading the conversation: %s", p)
	}
	texts := eval[[]string](tb, `[...document.querySelectorAll("#private-messages .msg .text")].map(p => p.textContent)`)
	if len(texts) != 250 || texts[0] != "p1" || texts[249] != "p250" {
		t.Errorf("bob's conversation shows %d messages, from %q, want p1 to p250", len(texts), texts[0])
	}

	// carol's one message is older than the stream's first page.
	tb.openPrivate("carol")
	tb.showsPrivate("carol", "an old one from carol")
	tb.checkQuiet()
}
