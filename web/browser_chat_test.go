package web

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/peerster/Peerster/gossiper"
)

// The tests here check that the page reads like a chat app: day separators
// rather than bare times, no sequence numbers in the bubbles, unread counts
// that survive a reload, a tab bar on a phone, and empty states that say
// what to do.

// tap taps a tab of the phone's tab bar and waits until it is the chosen
// one.
func (tb *tab) tap(name string) {
	tb.t.Helper()
	sel := `#tabs .tab[data-tab="` + name + `"]`
	tb.click(sel)
	tb.run("tab "+name+" chosen", waitFor(`(sel) => document.querySelector(sel).getAttribute("aria-current") === "page"`, sel))
}

// displayed says whether the element is laid out: not in a part of the
// page that is hidden.
func (tb *tab) displayed(sel string) bool {
	tb.t.Helper()
	return eval[bool](tb, `(el => el !== null && el.getClientRects().length > 0)(document.querySelector(`+jsString(sel)+`))`)
}

// box is where an element is on the screen, and the screen's size.
type box struct {
	Shown                    bool
	Left, Right, Top, Bottom float64
	Width, Height            float64
}

// onScreen checks that each element is displayed within the screen, and
// that the page does not scroll sideways.
func (tb *tab) onScreen(sels ...string) {
	tb.t.Helper()
	for _, sel := range sels {
		b := eval[box](tb, `(el => {
			const r = el?.getBoundingClientRect();
			return {Shown: el !== null && el.getClientRects().length > 0, Left: r?.left ?? 0, Right: r?.right ?? 0,
				Top: r?.top ?? 0, Bottom: r?.bottom ?? 0, Width: window.innerWidth, Height: window.innerHeight};
		})(document.querySelector(`+jsString(sel)+`))`)
		switch {
		case !b.Shown:
			tb.t.Errorf("%s's page: %s is not shown", tb.name, sel)
		case b.Left < -0.5 || b.Right > b.Width+0.5 || b.Top < -0.5 || b.Bottom > b.Height+0.5:
			tb.t.Errorf("%s's page: %s spans %.0f-%.0f x %.0f-%.0f, not within the %.0fx%.0f screen",
				tb.name, sel, b.Left, b.Right, b.Top, b.Bottom, b.Width, b.Height)
		}
	}
	if over := eval[int](tb, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
		tb.t.Errorf("%s's page is %dpx wider than the screen", tb.name, over)
	}
}

// phone makes the tab's screen a phone's, 390 px wide, until the test ends.
func (tb *tab) phone() {
	tb.t.Helper()
	tb.run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	tb.run("layout settles", waitFor(`() => window.innerWidth === 390`))
}

// rows lists what a list of messages shows, top to bottom: "day:LABEL" for
// a day separator, the text of a message.
func (tb *tab) rows(list string) []string {
	tb.t.Helper()
	return eval[[]string](tb, `[...document.querySelectorAll(`+jsString(list+" > li")+`)].map(li =>
		li.classList.contains("day") ? "day:" + li.textContent : li.querySelector(".text").textContent)`)
}

// dayProblem says what is wrong with the day separators of a list of
// messages, "" if nothing: there must be one before the first message of
// each day, and none elsewhere.
func (tb *tab) dayProblem(list string) string {
	tb.t.Helper()
	return eval[string](tb, `(() => {
		let day = null; // the day of the message above, or of the separator just above
		let separated = false;
		for (const li of document.querySelectorAll(`+jsString(list+" > li")+`)) {
			if (li.classList.contains("day")) {
				if (separated) return "two separators in a row, at " + li.dataset.day;
				if (li.dataset.day === day) return "a second separator for " + day;
				day = li.dataset.day;
				separated = true;
				continue;
			}
			if (li.dataset.day !== day) return "no separator before a message of " + li.dataset.day;
			separated = false;
		}
		return separated ? "a separator with no message after it" : "";
	})()`)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestBrowserDays opens the page of a node with messages from several days,
// its clock set to a Wednesday afternoon: a separator says the day before
// the first message of each (Today, Yesterday, else the date), in the chat
// and in a private conversation, and the bubbles show no sequence numbers.
func TestBrowserDays(t *testing.T) {
	ctx := browser(t)
	now := time.Date(2024, 5, 1, 15, 0, 0, 0, time.UTC) // a Wednesday
	day := func(d, h, m int) time.Time { return time.Date(2024, 4, d, h, m, 0, 0, time.UTC) }
	f := newFakeNode("alice")
	if err := f.AddPeer("127.0.0.1:5001"); err != nil {
		t.Fatal(err)
	}
	f.addRoute("bob", "127.0.0.1:5001")
	// The ids jump, as they do when route rumors take some.
	for _, e := range []gossiper.Entry{
		{Origin: "bob", ID: 45, Text: "Happy new year!", Received: time.Date(2023, 12, 31, 23, 59, 0, 0, time.UTC)},
		{Origin: "bob", ID: 56, Text: "The minutes are up.", Received: day(26, 9, 0)},
		{Origin: "carol", ID: 3, Text: "See you tomorrow", Received: day(30, 18, 0)},
		{Origin: "bob", ID: 57, Text: "Good night", Received: day(30, 23, 59)},
		{Origin: "alice", ID: 1, Text: "Morning!", Received: time.Date(2024, 5, 1, 0, 1, 0, 0, time.UTC)},
		{Origin: "carol", ID: 4, Text: "Morning, Alice", Received: now.Add(-5 * time.Hour)},
	} {
		f.receiveEntry(e)
	}
	f.receivePrivateAt("bob", "Are you free on Friday?", 9, day(29, 10, 0))
	f.sentPrivateAt("bob", "Yes, after lunch", day(30, 12, 0))
	f.receivePrivateAt("bob", "Great, see you then", 10, now.Add(-time.Hour))
	tb := openTabWith(t, ctx, "alice", startPage(t, f).URL(), clockAt(now))

	tb.shows("carol", "Morning, Alice")
	want := []string{"day:Sun, 31 Dec 2023", "Happy new year!", "day:Fri 26 Apr", "The minutes are up.",
		"day:Yesterday", "See you tomorrow", "Good night", "day:Today", "Morning!", "Morning, Alice"}
	if got := tb.rows("#messages"); !equal(got, want) {
		t.Errorf("chat shows\n%q\nwant\n%q", got, want)
	}

	// A bubble shows who and when, not the number its origin gave it,
	// which stays in the time's tooltip.
	metas := eval[[]string](tb, `[...document.querySelectorAll("#messages .msg .meta")].map(m => m.textContent)`)
	for _, m := range metas {
		if strings.Contains(m, "#") || strings.Contains(m, "45") || strings.Contains(m, "57") {
			t.Errorf("a bubble's line says %q, with its number", m)
		}
	}
	if got := eval[string](tb, `document.querySelector('#messages .msg[data-id="45"] time').title`); !strings.Contains(got, "bob's message #45") {
		t.Errorf("the first message's time says %q on hover, want its number", got)
	}

	// A message today goes under Today, without a separator of its own.
	f.receiveEntry(gossiper.Entry{Origin: "bob", ID: 58, Text: "Lunch?", Received: now.Add(-time.Minute)})
	tb.shows("bob", "Lunch?")
	if got := tb.rows("#messages"); !equal(got, append(want, "Lunch?")) {
		t.Errorf("after one more message today the chat shows %q", got)
	}

	tb.openPrivate("bob")
	tb.showsPrivate("bob", "Great, see you then")
	wantPrivate := []string{"day:Mon 29 Apr", "Are you free on Friday?", "day:Yesterday", "Yes, after lunch", "day:Today", "Great, see you then"}
	if got := tb.rows("#private-messages"); !equal(got, wantPrivate) {
		t.Errorf("the conversation shows\n%q\nwant\n%q", got, wantPrivate)
	}
	// What a private bubble tells is the hops or that it was sent.
	tags := eval[[]string](tb, `[...document.querySelectorAll("#private-messages .msg .tag")].map(s => s.textContent)`)
	if !equal(tags, []string{"2 hops", "sent", "direct"}) {
		t.Errorf("private bubbles are tagged %q, want 2 hops, sent, direct", tags)
	}
	if strings.Contains(tb.text("#private-messages"), "#") {
		t.Errorf("the conversation shows a number: %q", tb.text("#private-messages"))
	}
	tb.checkQuiet()
}

// TestBrowserUnreadAfterReload has private messages arrive while their
// conversation is closed: the count beside the name survives a reload, and
// a restart of the node that numbers its messages anew; what was read stays
// read, for this node's page only.
func TestBrowserUnreadAfterReload(t *testing.T) {
	ctx := browser(t)
	base := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	f := newFakeNode("alice")
	f.addRoute("bob", "127.0.0.1:5001")
	f.addRoute("carol", "127.0.0.1:5001")
	f.receivePrivateAt("carol", "hi from carol", 10, base)
	f.receivePrivateAt("bob", "first", 10, base)
	f.receivePrivateAt("carol", "are you there?", 10, base)
	page := startPage(t, f)
	tb := openTab(t, ctx, "alice", page.URL())
	// badge waits until name is marked with want, "none" for no mark.
	badge := func(name, want string) {
		t.Helper()
		tb.run(name+" marked "+want, waitFor(`(name, want) => (`+findPerson+`(name)?.querySelector(".unread")?.textContent ?? "none") === want`, name, want))
	}

	// Nothing was read in this browser yet.
	badge("bob", "1 new")
	badge("carol", "2 new")
	tb.openPrivate("bob")
	tb.showsPrivate("bob", "first")
	badge("bob", "none")
	tb.click("#private-close")
	f.receivePrivateAt("bob", "second", 10, base.Add(time.Minute))
	f.receivePrivateAt("bob", "third", 10, base.Add(2*time.Minute))
	badge("bob", "2 new")
	if got := eval[string](tb, findPerson+`("bob").querySelector(".unread").title`); got != "2 new from bob" {
		t.Errorf("the count says %q on hover", got)
	}

	tb.reload()
	badge("bob", "2 new")
	badge("carol", "2 new")

	// The node restarts with its first two messages forgotten: the others
	// are numbered from 1, and "second" now has the number "first" had
	// when it was read.
	f.restartWithout(2)
	tb.reload()
	badge("bob", "2 new")
	badge("carol", "1 new")

	// Read, it stays read.
	tb.openPrivate("bob")
	tb.showsPrivate("bob", "third")
	badge("bob", "none")
	tb.click("#private-close")
	tb.reload()
	badge("carol", "1 new") // the private messages are in
	if n := tb.unread("bob"); n != 0 {
		t.Errorf("bob marked with %d new after reading and a reload", n)
	}

	// Another tab of this page shows what the first one read.
	other := openTab(t, ctx, "alice, second tab", page.URL())
	other.lists("carol", "via 127.0.0.1:5001")
	if got := other.unread("carol"); got != 1 {
		t.Errorf("second tab marks carol with %d new, want 1", got)
	}
	tb.openPrivate("carol")
	other.run("carol read in the other tab", waitFor(`() => `+findPerson+`("carol")?.querySelector(".unread") === null`))

	// Another node's page, on another port, has its own marks.
	g := newFakeNode("dave")
	g.addRoute("bob", "127.0.0.1:5001")
	g.receivePrivateAt("bob", "third", 10, base.Add(2*time.Minute))
	daves := openTab(t, ctx, "dave", startPage(t, g).URL())
	daves.run("bob marked on dave's page", waitFor(`() => `+findPerson+`("bob")?.querySelector(".unread")?.textContent === "1 new"`))

	tb.checkQuiet()
	other.checkQuiet()
	daves.checkQuiet()
}

// TestBrowserPhoneTabs opens the page on a phone: a tab bar at the bottom
// shows one part at a time, each one tap away from any other, and counts
// what came unseen on the Chat and Private tabs. A desktop has no bar.
func TestBrowserPhoneTabs(t *testing.T) {
	ctx := browser(t)
	f := newFakeNode("alice")
	if err := f.AddPeer("127.0.0.1:5001"); err != nil {
		t.Fatal(err)
	}
	f.addRoute("bob", "127.0.0.1:5001")
	f.receiveMany("bob", 40, func(i int) string { return "message " + strconv.Itoa(i+1) })
	tb := openTab(t, ctx, "alice", startPage(t, f).URL())
	tb.shows("bob", "message 40")
	tb.phone()

	boxes := []string{"#chat-box", "#private-box", "#people-box", "#files-box", "#id-box", "#node-box"}
	parts := map[string][]string{
		"chat":    {"#chat-box"},
		"private": {"#people-box"},
		"files":   {"#files-box"},
		"node":    {"#id-box", "#node-box"},
	}
	controls := map[string][]string{
		"chat":    {"#text", "#send"},
		"private": {"#people .person"},
		"files":   {".share-row .button"},
		"node":    {"#new-name", "#change", "#address", "#add"},
	}
	order := []string{"chat", "private", "files", "node"}
	tb.onScreen("#tabs", "#text", "#send")
	for _, from := range order {
		for _, to := range order {
			if from == to {
				continue
			}
			tb.tap(from)
			tb.tap(to)
			for _, b := range boxes {
				want := contains(parts[to], b)
				if got := tb.displayed(b); got != want {
					t.Errorf("from %s, one tap on %s: %s shown is %v, want %v", from, to, b, got, want)
				}
			}
			tb.onScreen(append([]string{"#tabs", parts[to][0]}, controls[to]...)...)
		}
	}

	// A private message that comes while the chat shows is counted on the
	// Private tab, and beside its name; it is read once its conversation
	// is on the screen.
	privateCount := `() => (b => b.hidden ? "" : b.textContent)(document.querySelector('#tabs .tab[data-tab="private"] .tab-count'))`
	tb.tap("chat")
	f.receivePrivateAt("bob", "Are you there?", 10, time.Date(2024, 5, 1, 12, 5, 0, 0, time.UTC))
	tb.run("counted on the Private tab", waitFor(privateCount+` === "1"`))
	if got := eval[string](tb, `document.querySelector('#tabs .tab[data-tab="private"] .tab-count').title`); got != "1 new from bob" {
		t.Errorf("the Private tab's count says %q on hover", got)
	}
	tb.tap("private")
	if n := tb.unread("bob"); n != 1 {
		t.Errorf("bob marked with %d new in the list, want 1", n)
	}
	tb.openPrivate("bob")
	tb.onScreen("#private-box", "#private-text", "#private-send", "#private-close", "#tabs")
	if tb.displayed("#people-box") {
		t.Error("the names share the screen with the open conversation")
	}
	tb.run("read", waitFor(privateCount+` === ""`))

	// The conversation stays open behind the Chat tab, but is not seen.
	tb.tap("chat")
	f.receivePrivateAt("bob", "Hello?", 10, time.Date(2024, 5, 1, 12, 6, 0, 0, time.UTC))
	tb.run("counted on the Private tab", waitFor(privateCount+` === "1"`))
	tb.tap("private")
	tb.showsPrivate("bob", "Hello?")
	tb.run("read once shown", waitFor(privateCount+` === ""`))
	// The Private tab, tapped again, goes back to the names.
	tb.tap("private")
	tb.run("back to the names", waitFor(`() => document.querySelector("#private-box").hidden`))
	tb.onScreen("#people .person")

	// A chat message that comes while another part shows is counted on the
	// Chat tab; back in the chat, it is in view at the bottom.
	chatCount := `() => (b => b.hidden ? "" : b.textContent)(document.querySelector('#tabs .tab[data-tab="chat"] .tab-count'))`
	tb.tap("node")
	f.receive("carol", 1, "Anyone up for lunch?")
	tb.run("counted on the Chat tab", waitFor(chatCount+` === "1"`))
	tb.tap("chat")
	tb.run("count cleared", waitFor(chatCount+` === ""`))
	tb.shows("carol", "Anyone up for lunch?")
	tb.onScreen(`#messages .msg:last-child`)

	// Wide again, every box shows and the bar is gone. (The conversation
	// was closed above.)
	tb.run("desktop viewport", chromedp.EmulateViewport(1100, 720))
	tb.run("layout settles", waitFor(`() => window.innerWidth === 1100`))
	if tb.displayed("#tabs") {
		t.Error("a desktop shows the tab bar")
	}
	for _, b := range []string{"#chat-box", "#people-box", "#files-box", "#id-box", "#node-box"} {
		if !tb.displayed(b) {
			t.Errorf("a desktop does not show %s", b)
		}
	}
	tb.checkQuiet()
}

// TestBrowserEmptyStates opens the page of a node without peers or
// messages: the chat says how to get a peer, and its button leads to where
// one is added; with a peer and no message yet, it says to say hello.
func TestBrowserEmptyStates(t *testing.T) {
	ctx := browser(t)
	f := newFakeNode("alice")
	tb := openTab(t, ctx, "alice", startPage(t, f).URL())

	tb.run("no-peer state", waitFor(`() => !document.querySelector("#empty-alone").hidden`))
	if got := tb.text("#empty-alone"); !strings.Contains(got, "No peers yet") || !strings.Contains(got, "ip:port") || !strings.Contains(got, "-peers=") {
		t.Errorf("the empty chat of a node without peers says %q", got)
	}
	if tb.displayed("#empty-quiet") {
		t.Error("the page says to say hello with no one to hear it")
	}
	tb.screenshot("empty.png")
	tb.click("#empty-add")
	if id := eval[string](tb, `document.activeElement.id`); id != "address" {
		t.Errorf("Add a node focused %q, want the address box", id)
	}

	// On a phone the button leads to the Node tab.
	tb.phone()
	tb.tap("chat")
	tb.onScreen("#empty-add")
	tb.click("#empty-add")
	tb.run("Node tab chosen", waitFor(`() => document.querySelector('#tabs .tab[data-tab="node"]').getAttribute("aria-current") === "page"`))
	tb.onScreen("#address", "#add")
	if id := eval[string](tb, `document.activeElement.id`); id != "address" {
		t.Errorf("Add a node focused %q on a phone, want the address box", id)
	}
	tb.screenshot("empty-phone.png")
	tb.tap("chat")

	if err := f.AddPeer("127.0.0.1:5001"); err != nil {
		t.Fatal(err)
	}
	tb.run("say-hello state", waitFor(`() => document.querySelector("#empty-alone").hidden && !document.querySelector("#empty-quiet").hidden`))
	if got := tb.text("#empty-quiet"); !strings.Contains(got, "No messages yet") || !strings.Contains(got, "Say hello") {
		t.Errorf("the empty chat of a node with a peer says %q", got)
	}
	f.receive("bob", 1, "Hello Alice")
	tb.shows("bob", "Hello Alice")
	if tb.displayed("#empty-alone") || tb.displayed("#empty-quiet") {
		t.Error("an empty state shows beside a message")
	}
	tb.checkQuiet()
}

// TestBrowserScreenshot takes the README's main screenshots, of bob's page
// in a small group planning a hike, with the page's clock at a Thursday
// morning: the chat of yesterday and today beside the Private box, where
// carol's reply is new, and the Files box; and the same chat on a phone,
// with its tab bar. -update-screenshot writes them to docs/screenshot.png
// and docs/phone.png.
func TestBrowserScreenshot(t *testing.T) {
	ctx := browser(t)
	now := time.Date(2025, 6, 12, 10, 24, 0, 0, time.UTC)
	yesterday := func(h, m int) time.Time { return time.Date(2025, 6, 11, h, m, 0, 0, time.UTC) }
	today := func(h, m int) time.Time { return time.Date(2025, 6, 12, h, m, 0, 0, time.UTC) }
	f := newFileNode(t, "bob")
	for _, p := range []string{"127.0.0.1:5001", "127.0.0.1:5003"} {
		if err := f.AddPeer(p); err != nil {
			t.Fatal(err)
		}
	}
	f.addRoute("alice", "127.0.0.1:5001")
	f.addRoute("carol", "127.0.0.1:5003")
	f.addRoute("dave", "127.0.0.1:5001")
	chat := []struct {
		origin string
		id     uint32
		text   string
		at     time.Time
	}{
		{"alice", 12, "Is everyone still on for the hike on Saturday?", yesterday(17, 2)},
		{"carol", 8, "Yes! I'll bring the map.", yesterday(17, 5)},
		{"bob", 5, "Count me in. Meet at the station at 8?", yesterday(17, 11)},
		{"dave", 31, "The forecast says sun all day on Saturday.", today(8, 47)},
		{"carol", 11, "I shared the trail map in my Files box.", today(9, 58)},
		{"bob", 6, "Got it, thanks Carol! 14 km, nice.", today(10, 12)},
	}
	for _, m := range chat {
		f.receiveEntry(gossiper.Entry{Origin: m.origin, ID: m.id, Text: m.text, Received: m.at})
	}
	f.receivePrivateAt("carol", "Could you bring some snacks on Saturday?", 9, yesterday(18, 30))
	f.sentPrivateAt("carol", "Sure. Anything you'd like?", yesterday(18, 41))
	if _, err := f.ShareBytes("trail-map.pdf", []byte(strings.Repeat("a trail map\n", 8000))); err != nil {
		t.Fatal(err)
	}
	tb := openTabWith(t, ctx, "bob", startPage(t, f).URL(), clockAt(now))
	tb.shows("bob", "Got it, thanks Carol! 14 km, nice.")
	// Bob read yesterday's, and carol replied since.
	tb.openPrivate("carol")
	tb.showsPrivate("carol", "Could you bring some snacks on Saturday?")
	tb.click("#private-close")
	f.receivePrivateAt("carol", "Just fruit, thanks!", 9, today(9, 59))
	tb.run("carol's reply is new", waitFor(`() => `+findPerson+`("carol")?.querySelector(".unread")?.textContent === "1 new"`))
	if got := tb.rows("#messages"); got[0] != "day:Yesterday" || got[4] != "day:Today" {
		t.Errorf("the chat shows %q, want Yesterday and Today", got)
	}
	tb.run("blur", chromedp.Evaluate[chromedp.Void](`document.activeElement?.blur()`))
	tb.run("desktop viewport", chromedp.EmulateViewport(1100, 640))
	tb.run("layout settles", waitFor(`() => window.innerWidth === 1100`))
	tb.screenshot("screenshot.png")

	tb.phone()
	tb.onScreen("#tabs", "#text", `#messages .msg:last-child`)
	tb.run("the Private tab counts carol's reply", waitFor(`() => document.querySelector('#tabs .tab[data-tab="private"] .tab-count').textContent === "1"`))
	tb.screenshot("phone.png")
	tb.checkQuiet()
}
