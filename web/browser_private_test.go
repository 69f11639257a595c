package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/peerster/Peerster/gossiper"

	"github.com/peerster/Peerster/internal/testkit"
)

// findPerson finds the button of a name in the Private box.
const findPerson = `((name) => [...document.querySelectorAll("#people .person")].find(b =>
	b.querySelector(".person-name").textContent === name))`

// lists waits until the Private box lists name, with "via <hop>" or "no
// route yet" beside it.
func (tb *tab) lists(name, via string) {
	tb.t.Helper()
	tb.run("wait for "+name+" in the Private box", waitFor(`(name, via) => {
		const b = `+findPerson+`(name);
		return b !== undefined && b.querySelector(".hop").textContent === via;
	}`, name, via))
}

// openPrivate clicks name in the Private box, as a user does, and waits for
// its conversation to open.
func (tb *tab) openPrivate(name string) {
	tb.t.Helper()
	tb.run("wait for "+name+" in the Private box", waitFor(`(name) => `+findPerson+`(name) !== undefined`, name))
	tb.run("click "+name, chromedp.Click(chromedp.JSPath(findPerson+`(`+jsString(name)+`)`)))
	tb.run("conversation with "+name+" open", waitFor(`(name) =>
		!document.querySelector("#private-box").hidden && document.querySelector("#private-with").textContent === name`, name))
}

// showsPrivate waits until the open conversation shows a message with this
// origin and text, and returns whether it is marked as sent by this node.
func (tb *tab) showsPrivate(origin, text string) bool {
	tb.t.Helper()
	const find = `((origin, text) => [...document.querySelectorAll("#private-messages .msg")].find(li =>
		li.querySelector(".origin").textContent === origin && li.querySelector(".text").textContent === text))`
	tb.run("wait for private "+jsString(origin+": "+text), waitFor(`(origin, text) => `+find+`(origin, text) !== undefined`, origin, text))
	return eval[bool](tb, find+`(`+jsString(origin)+`, `+jsString(text)+`).classList.contains("own")`)
}

// unread returns the unread count beside name in the Private box ("2
// new"), 0 when there is none.
func (tb *tab) unread(name string) int {
	tb.t.Helper()
	return eval[int](tb, `(b => parseInt(b?.querySelector(".unread")?.textContent ?? "0", 10))(`+findPerson+`(`+jsString(name)+`))`)
}

// privateLine is three gossipers in a line, alice - bob - carol, each with
// its page open in a tab.
type privateLine struct {
	a, b, c          *gossiper.Node
	trB              gossiper.Transport
	tabA, tabB, tabC *tab
}

// TestBrowserPrivate drives the pages of three gossipers in a line, alice -
// bob - carol, which learn their routes from route rumors: alice writes to
// carol privately through bob, whose page never shows it.
func TestBrowserPrivate(t *testing.T) {
	ctx := browser(t)
	trA, trB, trC := udpNode(t), udpNode(t), udpNode(t)
	l := &privateLine{trB: trB}
	l.a, _ = runRouted(t, trA, "alice", l.trB.Addr())
	l.b, _ = runRouted(t, trB, "bob", trA.Addr())
	l.tabA = openTab(t, ctx, "alice", startPage(t, l.a).URL())

	t.Run("names appear as routes do", func(t *testing.T) {
		l.tabA.t = t
		l.tabA.lists("bob", "via "+l.trB.Addr())
	})
	// carol starts after the page opened, knowing only bob; here rather
	// than in the subtest, so that she outlives it.
	l.c, _ = runRouted(t, trC, "carol", l.trB.Addr())
	t.Run("a new name appears live", func(t *testing.T) {
		l.tabA.t = t
		l.tabA.lists("carol", "via "+l.trB.Addr())
	})
	l.tabB = openTab(t, ctx, "bob", startPage(t, l.b).URL())
	l.tabC = openTab(t, ctx, "carol", startPage(t, l.c).URL())

	for _, st := range []struct {
		name string
		run  func(*testing.T, *privateLine)
	}{
		{"Enter sends to carol alone", privateEnterSends},
		{"typed text survives updates and conversations", privateDraftsSurvive},
		{"screenshot", privateScreenshot},
		{"no route: the error shows under the box", privateNoRoute},
		{"XSS payload shows as text and runs nothing", privateXSS},
		{"phone-sized screen", privatePhone},
	} {
		t.Run(st.name, func(t *testing.T) {
			l.use(t)
			st.run(t, l)
		})
	}
	l.use(t)
	for _, tb := range []*tab{l.tabA, l.tabB, l.tabC} {
		tb.checkQuiet()
	}
}

// use makes the tabs report to t.
func (l *privateLine) use(t *testing.T) {
	for _, tb := range []*tab{l.tabA, l.tabB, l.tabC} {
		tb.t = t
	}
}

// privateEnterSends has alice write to carol and press Enter: the message
// reaches carol's page through bob, and nothing of it shows on bob's page
// or in the chat.
func privateEnterSends(t *testing.T, l *privateLine) {
	tabA, tabB, tabC := l.tabA, l.tabB, l.tabC
	const text = "Hi Carol, this one is just for you."
	tabA.openPrivate("carol")
	tabA.typeIn("#private-text", text)
	tabA.run("press Enter", pressEnter("#private-text"))
	if own := tabA.showsPrivate("alice", text); !own {
		t.Error("alice's page does not mark her private message as sent by her")
	}
	tabA.run("message box emptied", waitFor(`() => document.querySelector("#private-text").value === ""`))

	tabC.lists("alice", "via "+l.trB.Addr())
	tabC.run("unread mark", waitFor(`() => `+findPerson+`("alice")?.querySelector(".unread")?.textContent === "1 new"`))
	tabC.openPrivate("alice")
	if own := tabC.showsPrivate("alice", text); own {
		t.Error("carol's page marks alice's message as her own")
	}
	if hops := eval[string](tabC, `document.querySelector("#private-messages .msg .tag").textContent`); hops != "2 hops" {
		t.Errorf("carol's page says the message came %q, want 2 hops", hops)
	}
	if n := tabC.unread("alice"); n != 0 {
		t.Errorf("alice still marked with %d unread after opening", n)
	}
	// bob passed it on and shows nothing of it, anywhere on his page.
	if entries, _ := l.b.PrivatesSince(0); len(entries) != 0 {
		t.Errorf("bob's node kept %+v", entries)
	}
	time.Sleep(300 * time.Millisecond) // time for bob's page to show it, were it told
	if eval[bool](tabB, `document.body.textContent.includes(`+jsString(text)+`)`) {
		t.Error("bob's page shows the private message")
	}
	if tabB.unread("alice") != 0 || tabB.unread("carol") != 0 {
		t.Error("bob's page marks an unread private message")
	}
	if n := eval[int](tabA, `document.querySelectorAll("#messages .msg").length`); n != 0 {
		t.Errorf("alice's chat shows %d messages, want the private one only in its conversation", n)
	}
}

// privateDraftsSurvive checks that what alice is typing stays through an
// incoming message, and that each conversation keeps its own draft.
func privateDraftsSurvive(t *testing.T, l *privateLine) {
	tabA := l.tabA
	tabA.typeIn("#private-text", "half typed")
	if _, err := l.c.SendPrivate("alice", "Hi Alice! Is it about Friday?"); err != nil {
		t.Fatal(err)
	}
	tabA.showsPrivate("carol", "Hi Alice! Is it about Friday?")
	if got := tabA.value("#private-text"); got != "half typed" {
		t.Errorf("alice's private message box holds %q after an update", got)
	}
	if id := eval[string](tabA, `document.activeElement.id`); id != "private-text" {
		t.Errorf("focus moved to %q after an update", id)
	}
	// Shift+Enter starts a new line and sends nothing.
	tabA.run("press Shift+Enter", pressShiftEnter("#private-text"))
	tabA.typeIn("#private-text", "second line")
	if got := tabA.value("#private-text"); got != "half typed\nsecond line" {
		t.Errorf("after Shift+Enter the box holds %q", got)
	}
	if n := eval[int](tabA, `document.querySelectorAll("#private-messages .msg").length`); n != 2 {
		t.Errorf("conversation shows %d messages after Shift+Enter, want 2", n)
	}
	// Each conversation keeps its own draft.
	tabA.openPrivate("bob")
	if got := tabA.value("#private-text"); got != "" {
		t.Errorf("bob's conversation opens with %q typed", got)
	}
	tabA.openPrivate("carol")
	if got := tabA.value("#private-text"); got != "half typed\nsecond line" {
		t.Errorf("back in carol's conversation the box holds %q", got)
	}
	tabA.clear("#private-text")
}

// privateScreenshot saves alice's page with her conversation with carol
// open, beside the chat; -update-screenshot writes it to docs/private.png.
func privateScreenshot(t *testing.T, l *privateLine) {
	tabA, tabC := l.tabA, l.tabC
	if _, err := l.a.Post("Morning, everyone!"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.b.Post("Morning! Carol just joined us."); err != nil {
		t.Fatal(err)
	}
	tabA.shows("bob", "Morning! Carol just joined us.")
	tabC.typeIn("#private-text", "Yes! Friday works for me.")
	tabC.run("press Enter", pressEnter("#private-text"))
	tabA.showsPrivate("carol", "Yes! Friday works for me.")
	tabA.run("blur", chromedp.Blur(chromedp.CSS("#private-text")))
	tabA.run("desktop viewport", chromedp.EmulateViewport(1100, 640))
	tabA.screenshot("private.png")
	tabA.run("reset viewport", chromedp.EmulateReset())
}

// privateNoRoute checks that a reply to a node this one has no route to is
// refused, and that the page says why under the box and keeps the text.
func privateNoRoute(t *testing.T, l *privateLine) {
	tabA := l.tabA
	// A node that sends no route rumor: it reaches alice, but nobody
	// learns a route back to it. Its name is markup, shown as text.
	const dave = `<img/src=x/onerror=alert(3)>`
	d, _ := runNode(t, udpNode(t), dave, l.trB.Addr())
	testkit.Eventually(t, 5*time.Second, "dave never learned a route to alice", func() bool {
		for _, r := range d.Routes() {
			if r.Origin == "alice" {
				return true
			}
		}
		return false
	})
	if _, err := d.SendPrivate("alice", "can you hear me?"); err != nil {
		t.Fatal(err)
	}
	tabA.lists(dave, "no route yet")
	tabA.openPrivate(dave)
	tabA.showsPrivate(dave, "can you hear me?")
	if via := tabA.text("#private-via"); !strings.Contains(via, "No route yet") {
		t.Errorf("conversation head says %q", via)
	}
	tabA.typeIn("#private-text", "yes")
	tabA.run("press Enter", pressEnter("#private-text"))
	tabA.run("error shown", waitFor(`() => !document.querySelector("#private-error").hidden`))
	if got, want := tabA.text("#private-error"), `no route to "`+dave+`"`; !strings.Contains(got, want) {
		t.Errorf("error says %q, want %q", got, want)
	}
	if got := tabA.value("#private-text"); got != "yes" {
		t.Errorf("message box holds %q after a refused message, want it kept", got)
	}
	tabA.clear("#private-text")
	if n := eval[int](tabA, `document.body.querySelectorAll("img, svg, script, iframe, object, embed").length`); n != 0 {
		t.Errorf("alice's page has %d elements made from a name", n)
	}
}

// privateXSS checks that markup in a private message shows as text and
// runs nothing.
func privateXSS(t *testing.T, l *privateLine) {
	tabA, tabB := l.tabA, l.tabB
	const payload = `<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>`
	tabA.openPrivate("bob")
	tabA.typeIn("#private-text", payload)
	tabA.run("press Enter", pressEnter("#private-text"))
	tabA.showsPrivate("alice", payload)
	tabB.openPrivate("alice")
	tabB.showsPrivate("alice", payload)
	for _, tb := range []*tab{tabA, tabB} {
		if n := eval[int](tb, `document.body.querySelectorAll("img, svg, script, iframe, object, embed").length`); n != 0 {
			t.Errorf("%s's page has %d elements made from message text", tb.name, n)
		}
		if ran := eval[bool](tb, `window.__xss !== undefined`); ran {
			t.Errorf("%s's page ran the payload", tb.name)
		}
	}
}

// privatePhone checks that on a phone the Private tab lists the names, and
// a conversation opened from them fills the screen above the tab bar.
func privatePhone(t *testing.T, l *privateLine) {
	tabC := l.tabC
	tabC.run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	defer tabC.run("reset viewport", chromedp.EmulateReset())
	tabC.run("layout settles", waitFor(`() => window.innerWidth === 390`))
	tabC.tap("private")
	tabC.click("#private-close")
	tabC.run("conversation closed", waitFor(`() => document.querySelector("#private-box").hidden`))
	tabC.onScreen("#people .person")
	tabC.openPrivate("alice")
	tabC.onScreen("#private-box", "#private-send", "#private-text", "#private-close", "#tabs")
	if tabC.displayed("#people-box") || tabC.displayed("#chat-box") {
		t.Error("the conversation shares the phone's screen with the names or the chat")
	}
	tabC.screenshot("private-phone.png")
}
