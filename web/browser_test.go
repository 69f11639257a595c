package web

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/peerster/Peerster/gossiper"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the browser tests' screenshots to docs/ (screenshot.png, phone.png, private.png, alert.png, files.png, files-phone.png)")

// docsScreenshots are the screenshots the README shows, which
// -update-screenshot writes to docs/.
var docsScreenshots = map[string]bool{"screenshot.png": true, "phone.png": true, "private.png": true, "alert.png": true, "files.png": true, "files-phone.png": true}

// wait bounds every wait on the page; the conditions normally hold within
// a fraction of a second.
const wait = 10 * time.Second

// chromiumPath finds Debian's chromium. Without it the browser tests skip,
// except in CI, where a missing browser must fail the run.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	const msg = "chromium not found; install it with `apt-get install -y chromium` to run the browser tests"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser starts a headless chromium with a fresh profile and returns a
// context whose tabs run in it. The browser is stopped when the test ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.WindowSize(1100, 720),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc) // waits for the browser process to end
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(ctx, 10*time.Second)
		defer stop()
		_ = chromedp.Cancel(stopCtx)
		cancel()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// tab is one page open in the browser, with what it has said in its console
// and the dialogs it tried to open.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string

	mu       sync.Mutex
	dialogs  []string
	problems []string
}

func openTab(t *testing.T, browserCtx context.Context, name, url string) *tab {
	t.Helper()
	return openTabWith(t, browserCtx, name, url, chromedp.Steps())
}

// openTabWith is openTab with setup run in the tab before the page opens,
// such as clockAt.
func openTabWith(t *testing.T, browserCtx context.Context, name, url string, setup chromedp.Action[chromedp.Void]) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, name: name}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	// An alert would block the page; record it and dismiss it from another
	// goroutine, since the listener must not call into the browser.
	err := chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			tb.mu.Lock()
			tb.dialogs = append(tb.dialogs, string(d.Type)+": "+d.Message)
			tb.mu.Unlock()
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			// The network's own log lines are left out: the tests make
			// requests that the node refuses on purpose.
			if m.Source != "network" && (m.IsException() || m.Type == "error" || m.Type == "warning") {
				tb.mu.Lock()
				tb.problems = append(tb.problems, m.String())
				tb.mu.Unlock()
			}
		}
	}()
	tb.run("set up the tab", setup)
	tb.run("open the page", chromedp.Steps(
		chromedp.Navigate(url),
		chromedp.WaitReady(chromedp.CSS("#text")),
	))
	tb.markLive()
	return tb
}

// markLive waits until the page follows the node, and marks it: a reload
// would lose the mark, which must survive every update.
func (tb *tab) markLive() {
	tb.t.Helper()
	tb.run("mark the page", chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`window.__notReloaded = true`),
		waitFor(`() => document.querySelector("#conn").dataset.state === "live"`),
	))
}

// reload reloads the page, as a user does, and waits until it follows the
// node again.
func (tb *tab) reload() {
	tb.t.Helper()
	tb.run("reload", chromedp.Reload())
	tb.markLive()
}

// clockAt makes the tab's clock read now when the page opens, and go on
// from there, in the time zone UTC and the locale en-GB: what is Today
// and Yesterday on the page is the test's, whatever day it runs.
func clockAt(now time.Time) chromedp.Action[chromedp.Void] {
	script := `(() => {
		const Real = Date;
		const offset = ` + strconv.FormatInt(now.UnixMilli(), 10) + ` - Real.now();
		class Clock extends Real {
			constructor(...args) {
				if (args.length === 0) super(Real.now() + offset);
				else super(...args);
			}
			static now() { return Real.now() + offset; }
		}
		globalThis.Date = Clock;
	})();`
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "UTC"}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "en_GB"}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	})
}

// waitFor polls a JavaScript predicate, given as a function of args.
func waitFor(fn string, args ...any) chromedp.Action[chromedp.Void] {
	return chromedp.PollFunction[chromedp.Void](fn, chromedp.WithPollingArgs(args...), chromedp.WithPollingTimeout(wait))
}

func (tb *tab) run(what string, a chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, wait+5*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, a); err != nil {
		tb.t.Fatalf("%s's page: %s: %v", tb.name, what, err)
	}
}

func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, wait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("%s's page: %s: %v", tb.name, expr, err)
	}
	return v
}

func (tb *tab) checkQuiet() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.dialogs) > 0 {
		tb.t.Errorf("%s's page opened dialogs: %q", tb.name, tb.dialogs)
	}
	if len(tb.problems) > 0 {
		tb.t.Errorf("%s's page logged problems: %q", tb.name, tb.problems)
	}
	if !eval[bool](tb, `window.__notReloaded === true`) {
		tb.t.Errorf("%s's page was reloaded", tb.name)
	}
}

// shows waits until the page shows a message with this origin and text, and
// returns whether it is marked as the user's own.
func (tb *tab) shows(origin, text string) bool {
	tb.t.Helper()
	const find = `(origin, text) => [...document.querySelectorAll("#messages .msg")].find(li =>
		li.querySelector(".origin").textContent === origin && li.querySelector(".text").textContent === text)`
	tb.run("wait for "+strconv.Quote(origin+": "+text), waitFor(find, origin, text))
	return eval[bool](tb, `(`+find+`)(`+jsString(origin)+`, `+jsString(text)+`).classList.contains("own")`)
}

func jsString(s string) string { return strconv.Quote(s) }

func (tb *tab) typeIn(sel, text string) {
	tb.t.Helper()
	tb.run("type in "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// pressEnter presses Enter in the element as a keyboard does: one keyDown
// that carries the text, so that a handler that prevents the default also
// keeps the newline out. (kb.Enter sends the text in a separate char event
// that no handler can stop, which no real keyboard does.)
func pressEnter(sel string) chromedp.Action[chromedp.Void] { return enterKey(sel, 0) }

// pressShiftEnter presses Shift+Enter in the element, as pressEnter does.
func pressShiftEnter(sel string) chromedp.Action[chromedp.Void] {
	const shift = 8 // the protocol's bit for Shift
	return enterKey(sel, shift)
}

func enterKey(sel string, modifiers int64) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Focus(chromedp.CSS(sel)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			key := input.DispatchKeyEventParams{Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13, Modifiers: modifiers}
			down, up := key, key
			down.Type, down.Text, down.UnmodifiedText = input.DispatchKeyEventTypeKeyDown, "\r", "\r"
			up.Type = input.DispatchKeyEventTypeKeyUp
			for _, p := range []input.DispatchKeyEventParams{down, up} {
				if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p); err != nil {
					return err
				}
			}
			return nil
		}),
	)
}

func (tb *tab) clear(sel string) {
	tb.t.Helper()
	// The input event is what a user's deleting would fire, and what makes
	// a message box shrink back.
	tb.run("clear "+sel, chromedp.Evaluate[chromedp.Void](`(el => { el.value = ""; el.dispatchEvent(new Event("input")); })(document.querySelector(`+jsString(sel)+`))`))
}

func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.run("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

func (tb *tab) value(sel string) string {
	tb.t.Helper()
	return eval[string](tb, `document.querySelector(`+jsString(sel)+`).value`)
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return eval[string](tb, `document.querySelector(`+jsString(sel)+`).textContent`)
}

func (tb *tab) screenshot(file string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, wait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("PEERSTER_ARTIFACTS")
	if dir == "" {
		dir = tb.t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("screenshot of %s's page: %s (set PEERSTER_ARTIFACTS to keep it)", tb.name, path)
	if *updateScreenshot && docsScreenshots[file] {
		docs := filepath.Join("..", "docs")
		if err := os.MkdirAll(docs, 0o755); err != nil {
			tb.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(docs, file), png, 0o644); err != nil {
			tb.t.Fatal(err)
		}
	}
}

// udpNode runs a gossiper on a real UDP socket on loopback.
func udpNode(t *testing.T) gossiper.Transport {
	t.Helper()
	tr, err := gossiper.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestBrowser drives two gossipers' pages in headless chromium: two real
// nodes on UDP, each with its real HTTP server, and one tab on each page.
func TestBrowser(t *testing.T) {
	ctx := browser(t)
	trA, trB := udpNode(t), udpNode(t)
	a, outA := runNode(t, trA, "alice", trB.Addr())
	b, _ := runNode(t, trB, "bob", trA.Addr())
	pageA, pageB := startPage(t, a), startPage(t, b)
	tabA := openTab(t, ctx, "alice", pageA.URL())
	tabB := openTab(t, ctx, "bob", pageB.URL())

	t.Run("page shows the node", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		if got := tabA.text("#name"); got != "alice" {
			t.Errorf("ID box says %q, want alice", got)
		}
		tabA.run("peer list", waitFor(`(p) => [...document.querySelectorAll("#peers li")].some(li => li.textContent === p)`, trB.Addr()))
	})

	t.Run("Send on A shows on B", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		tabA.typeIn("#text", "Hi Bob, the page works!")
		tabA.click("#send")
		if own := tabB.shows("alice", "Hi Bob, the page works!"); own {
			t.Error("bob's page marks alice's message as his own")
		}
		if own := tabA.shows("alice", "Hi Bob, the page works!"); !own {
			t.Error("alice's page does not mark her message as her own")
		}
		if got := tabA.value("#text"); got != "" {
			t.Errorf("message box still holds %q after sending", got)
		}
		if !strings.Contains(outA.String(), "CLIENT MESSAGE Hi Bob, the page works!\n") {
			t.Errorf("alice's stdout lacks the CLIENT MESSAGE line:\n%s", outA)
		}
	})

	t.Run("typed text survives updates and Enter sends", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		tabB.typeIn("#text", "Hi Alice, half typed")
		if _, err := a.Post("sent while bob types"); err != nil {
			t.Fatal(err)
		}
		tabB.shows("alice", "sent while bob types")
		if got := tabB.value("#text"); got != "Hi Alice, half typed" {
			t.Errorf("bob's message box holds %q after an update", got)
		}
		if id := eval[string](tabB, `document.activeElement.id`); id != "text" {
			t.Errorf("focus moved to %q after an update", id)
		}
		tabB.typeIn("#text", " and sent with Enter")
		tabB.run("press Enter", pressEnter("#text"))
		tabA.shows("bob", "Hi Alice, half typed and sent with Enter")
		tabB.run("message box emptied", waitFor(`() => document.querySelector("#text").value === ""`))
	})

	t.Run("Add node", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		tabA.typeIn("#address", "127.0.0.1:5999")
		tabA.click("#add")
		tabA.run("new peer listed", waitFor(`() => [...document.querySelectorAll("#peers li")].some(li => li.textContent === "127.0.0.1:5999")`))
		if peers := a.Peers(); !contains(peers, "127.0.0.1:5999") {
			t.Errorf("node's peers %q lack the added one", peers)
		}
		// A bad address is refused with a reason, and what was typed stays
		// for the user to fix.
		tabA.typeIn("#address", "not-an-address")
		tabA.click("#add")
		tabA.run("error shown", waitFor(`() => !document.querySelector("#node-error").hidden`))
		if got := tabA.text("#node-error"); !strings.Contains(got, "not an ip:port") {
			t.Errorf("error says %q", got)
		}
		if got := tabA.value("#address"); got != "not-an-address" {
			t.Errorf("address box holds %q after a refused address", got)
		}
		tabA.clear("#address")
		// A peer the node learns by itself appears without any action.
		if err := b.AddPeer("127.0.0.1:6001"); err != nil {
			t.Fatal(err)
		}
		tabB.run("learned peer listed", waitFor(`() => [...document.querySelectorAll("#peers li")].some(li => li.textContent === "127.0.0.1:6001")`))
	})

	t.Run("Change name", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		tabA.typeIn("#new-name", "a b")
		tabA.click("#change")
		tabA.run("error shown", waitFor(`() => !document.querySelector("#name-error").hidden`))
		if got := tabA.text("#name-error"); !strings.Contains(got, "white space") {
			t.Errorf("error says %q", got)
		}
		tabA.clear("#new-name")
		tabA.typeIn("#new-name", "Alice_2")
		tabA.click("#change")
		tabA.run("ID box shows the new name", waitFor(`() => document.querySelector("#name").textContent === "Alice_2"`))
		tabA.typeIn("#text", "new name, same me")
		tabA.run("press Enter", pressEnter("#text"))
		tabB.shows("Alice_2", "new name, same me")
		// The number is not shown, but kept for the tooltip.
		if id := eval[string](tabB, `[...document.querySelectorAll("#messages .msg")].at(-1).dataset.id`); id != "1" {
			t.Errorf("first message under the new name is numbered %s, want 1", id)
		}
		if !tabA.shows("Alice_2", "new name, same me") || !tabA.shows("alice", "Hi Bob, the page works!") {
			t.Error("alice's page stopped marking her messages after the name change")
		}
	})

	t.Run("XSS payload shows as text and runs nothing", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		const payload = `<img src=x onerror=alert(1)>`
		const name = `<svg/onload=alert(2)>`
		tabA.clear("#new-name")
		tabA.typeIn("#new-name", name)
		tabA.click("#change")
		tabA.run("ID box shows the name as text", waitFor(`(n) => document.querySelector("#name").textContent === n`, name))
		tabA.typeIn("#text", payload)
		tabA.run("press Enter", pressEnter("#text"))
		tabB.shows(name, payload)
		tabA.shows(name, payload)
		for _, tb := range []*tab{tabA, tabB} {
			if n := eval[int](tb, `document.body.querySelectorAll("img, svg, script, iframe, object, embed").length`); n != 0 {
				t.Errorf("%s's page has %d elements made from message text", tb.name, n)
			}
		}
		// Back to a friendly name for the screenshot.
		tabA.clear("#new-name")
		tabA.typeIn("#new-name", "alice")
		tabA.run("press Enter", pressEnter("#new-name"))
		tabA.run("renamed", waitFor(`() => document.querySelector("#name").textContent === "alice"`))
	})

	t.Run("phone-sized screen", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		tabB.run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		defer tabB.run("reset viewport", chromedp.EmulateReset())
		tabB.run("layout settles", waitFor(`() => window.innerWidth === 390`))
		// The chat and its Send button are on the first screen, and the
		// rest one tap away.
		tabB.onScreen("#send", "#text")
		tabB.tap("node")
		tabB.onScreen("#add", "#change", "#address", "#new-name")
		tabB.tap("chat")
		tabB.onScreen("#send", "#text")
		tabB.screenshot("screenshot-phone.png")
	})

	tabA.t, tabB.t = t, t
	tabA.checkQuiet()
	tabB.checkQuiet()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
