package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/peerster/Peerster/gossiper"
)

// findFile finds a file of the Files box's list by its name.
const findFile = `((name) => [...document.querySelectorAll("#files .file")].find(li =>
	li.querySelector(".file-name").textContent === name))`

// findDownload finds a download of the Files box by its name.
const findDownload = `((name) => [...document.querySelectorAll("#downloads .dl")].find(li =>
	li.querySelector(".dl-name").textContent === name))`

// pick shares files by picking them with the Files box's file input, as a
// user does in the browser's file dialog.
func (tb *tab) pick(paths ...string) {
	tb.t.Helper()
	tb.run("pick "+strings.Join(paths, ", "), chromedp.SetUploadFiles(chromedp.CSS("#file-input"), paths))
}

// listsFile waits until the Files box lists name, and returns its metahash
// as the page shows it.
func (tb *tab) listsFile(name string) string {
	tb.t.Helper()
	tb.run("wait for "+name+" in the Files box", waitFor(`(name) => `+findFile+`(name) !== undefined`, name))
	return eval[string](tb, findFile+`(`+jsString(name)+`).querySelector(".hash").textContent`)
}

// shareError waits until the Files box shows an error under its picker, and
// returns it.
func (tb *tab) shareError() string {
	tb.t.Helper()
	tb.run("share error shown", waitFor(`() => !document.querySelector("#share-error").hidden`))
	return tb.text("#share-error")
}

// downloadError waits until the download form shows an error, and returns
// it.
func (tb *tab) downloadError() string {
	tb.t.Helper()
	tb.run("download error shown", waitFor(`() => !document.querySelector("#download-error").hidden`))
	return tb.text("#download-error")
}

// startDownload fills in the download form and presses Enter in it.
func (tb *tab) startDownload(name, node, metahash string) {
	tb.t.Helper()
	for sel, v := range map[string]string{"#dl-name": name, "#dl-node": node, "#dl-hash": metahash} {
		tb.clear(sel)
		if v != "" {
			tb.typeIn(sel, v)
		}
	}
	tb.run("press Enter", pressEnter("#dl-hash"))
}

// isRed reports whether the element at sel is shown in the page's error
// colour.
func (tb *tab) isRed(sel string) bool {
	tb.t.Helper()
	return eval[bool](tb, `(() => {
		const probe = document.createElement("p");
		probe.style.color = "var(--error)";
		document.body.append(probe);
		const red = getComputedStyle(probe).color;
		probe.remove();
		const el = document.querySelector(`+jsString(sel)+`);
		return el !== null && !el.hidden && el.offsetParent !== null && getComputedStyle(el).color === red;
	})()`)
}

// evalAsync is eval of an expression whose value is a promise, which it
// waits for.
func evalAsync[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, wait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s's page: %s: %v", tb.name, expr, err)
	}
	return v
}

// writeFile writes data to a file of that name in a folder of the test's,
// for the browser to pick, and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBrowserFiles drives the Files box of two real gossipers' pages in
// chromium: alice shares a file by picking it, copies its metahash, and
// bob downloads it from her, through their UDP sockets, and saves it from
// his page.
func TestBrowserFiles(t *testing.T) {
	ctx := browser(t)
	trA, trB := udpNode(t), udpNode(t)
	a := runFileNode(t, trA, "alice", trB.Addr())
	b := runFileNode(t, trB, "bob", trA.Addr())
	pageA, pageB := startPage(t, a.Node), startPage(t, b.Node)
	for _, url := range []string{pageA.URL(), pageB.URL()} {
		for _, perm := range []string{"clipboard-read", "clipboard-write"} {
			_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission: &cdpbrowser.PermissionDescriptor{Name: perm}, Setting: cdpbrowser.PermissionSettingGranted, Origin: url})
			if err != nil {
				t.Fatalf("granting %s: %v", perm, err)
			}
		}
	}
	tabA := openTab(t, ctx, "alice", pageA.URL())
	tabB := openTab(t, ctx, "bob", pageB.URL())
	src := t.TempDir()
	photos := randomBytes(300000, 7) // 37 chunks, the last short
	var metahash string

	t.Run("share a file by picking it", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		tabA.pick(writeFile(t, src, "holiday photos.bin", photos))
		metahash = tabA.listsFile("holiday photos.bin")
		if want := metaHashOf(t, photos); metahash != want {
			t.Errorf("page shows metahash %s, want %s", metahash, want)
		}
		if got := a.SharedFiles(); len(got) != 1 || hexHash(got[0].MetaHash) != metahash {
			t.Errorf("alice's node shares %+v", got)
		}
		if got, _ := os.ReadFile(filepath.Join(a.dir, "_SharedFiles", "holiday photos.bin")); !bytes.Equal(got, photos) {
			t.Error("the picked file is not in alice's _SharedFiles byte for byte")
		}
		if got := eval[string](tabA, findFile+`("holiday photos.bin").querySelector(".file-size").textContent`); got != "293 KiB" {
			t.Errorf("size shown as %q", got)
		}
		if !eval[bool](tabA, `document.querySelector("#share-error").hidden`) {
			t.Errorf("an error shows after a share: %q", tabA.text("#share-error"))
		}
	})

	t.Run("copy the metahash", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		// The clipboard is the focused page's.
		tabA.run("bring to front", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.BringToFront, cdp.Empty{})
			return err
		}))
		tabA.run("click Copy", chromedp.Click(chromedp.JSPath(findFile+`("holiday photos.bin").querySelector(".copy")`)))
		tabA.run("copied", waitFor(`() => `+findFile+`("holiday photos.bin").querySelector(".copy").textContent === "Copied ✓"`))
		got := evalAsync[string](tabA, `navigator.clipboard.readText()`)
		if got != metahash {
			t.Errorf("clipboard holds %q, want %s", got, metahash)
		}
	})

	t.Run("refused shares say why", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		tabA.pick(writeFile(t, src, "empty.txt", nil))
		if got := tabA.shareError(); !strings.Contains(got, "empty.txt is empty") {
			t.Errorf("empty file: error %q", got)
		}
		if !tabA.isRed("#share-error") {
			t.Error("the error is not shown in red")
		}
		other := t.TempDir()
		tabA.pick(writeFile(t, other, "holiday photos.bin", []byte("other bytes")))
		tabA.run("name taken shown", waitFor(`() => document.querySelector("#share-error").textContent.includes("a different file of that name")`))
		tabA.pick(writeFile(t, src, "too big.bin", make([]byte, MaxFileBytes+1)))
		tabA.run("too big shown", waitFor(`() => document.querySelector("#share-error").textContent === "too big.bin is 2.0 MiB, more than the 2 MiB a shared file may be."`))
		if n := len(a.SharedFiles()); n != 1 {
			t.Errorf("alice shares %d files after refused ones, want 1", n)
		}
		// A file dropped on the box is shared as a picked one is, and
		// the success clears the error.
		tabA.run("drop a file", chromedp.Evaluate[chromedp.Void](`(() => {
			const dt = new DataTransfer();
			dt.items.add(new File(["dropped on the box\n"], "dropped.txt"));
			const box = document.querySelector("#files-box");
			for (const type of ["dragenter", "dragover", "drop"]) {
				box.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
			}
		})()`))
		tabA.listsFile("dropped.txt")
		tabA.run("error cleared", waitFor(`() => document.querySelector("#share-error").hidden`))
		if got, _ := os.ReadFile(filepath.Join(a.dir, "_SharedFiles", "dropped.txt")); string(got) != "dropped on the box\n" {
			t.Errorf("alice's _SharedFiles/dropped.txt holds %q", got)
		}
		if eval[bool](tabA, `document.querySelector("#files-box").classList.contains("dragging")`) {
			t.Error("the box stays lit after the drop")
		}
	})

	t.Run("download on bob's page", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		// Bob's form offers the names he has routes to.
		tabB.run("alice offered", waitFor(`() => [...document.querySelectorAll("#dl-nodes option")].some(o => o.value === "alice")`))
		// Every value the progress bar shows, from the download's first
		// appearance on.
		tabB.run("watch progress", chromedp.Evaluate[chromedp.Void](`(() => {
			window.__progress = [];
			new MutationObserver(() => {
				const bar = document.querySelector("#downloads .dl-bar");
				if (bar) window.__progress.push(bar.hasAttribute("value") ? bar.value + "/" + bar.max : "?");
			}).observe(document.querySelector("#downloads"), { subtree: true, childList: true, attributes: true, characterData: true });
		})()`))
		tabB.startDownload("copy of photos.bin", "alice", metahash)
		tabB.run("download done", waitFor(`() => `+findDownload+`("copy of photos.bin")?.dataset.state === "done"`))
		dl := findDownload + `("copy of photos.bin")`
		if got := eval[string](tabB, dl+`.querySelector(".dl-state").textContent`); got != "done" {
			t.Errorf("state shown as %q", got)
		}
		if got := eval[string](tabB, dl+`.querySelector(".dl-from").textContent`); got != "from alice" {
			t.Errorf("from shown as %q", got)
		}
		if v, max := eval[float64](tabB, dl+`.querySelector(".dl-bar").value`), eval[float64](tabB, dl+`.querySelector(".dl-bar").max`); v != 37 || max != 37 {
			t.Errorf("progress bar at %v of %v, want 37 of 37", v, max)
		}
		if got := eval[string](tabB, dl+`.querySelector(".dl-meta").textContent`); !strings.HasPrefix(got, "37 / 37 chunks · 293 KiB · ") || !strings.HasSuffix(got, "/s") {
			t.Errorf("progress says %q", got)
		}
		progress := eval[[]string](tabB, `window.__progress`)
		if len(progress) == 0 || progress[len(progress)-1] != "37/37" {
			t.Errorf("progress bar went %q", progress)
		}
		t.Logf("progress bar went %q", progress)
		if got := tabB.value("#dl-hash"); got != "" {
			t.Errorf("metahash box still holds %q after the download started", got)
		}
		if !strings.Contains(b.out.String(), "RECONSTRUCTED file copy of photos.bin\n") {
			t.Errorf("bob's stdout lacks the RECONSTRUCTED line:\n%s", b.out)
		}
		if got, _ := os.ReadFile(filepath.Join(b.dir, "_Downloads", "copy of photos.bin")); !bytes.Equal(got, photos) {
			t.Error("bob's _Downloads/copy of photos.bin is not the file")
		}

		// The link saves the file: fetched from bob's page, the bytes are
		// the original's, under the name bob gave it.
		if got := eval[string](tabB, dl+`.querySelector(".dl-save").getAttribute("href")`); got != "files/"+metahash {
			t.Errorf("link to %q", got)
		}
		if got := eval[string](tabB, dl+`.querySelector(".dl-save").download`); got != "copy of photos.bin" {
			t.Errorf("link saves as %q", got)
		}
		type fetched struct {
			Status      int    `json:"status"`
			Disposition string `json:"disposition"`
			Body        string `json:"body"`
		}
		got := evalAsync[fetched](tabB, `(async () => {
			const res = await fetch(`+dl+`.querySelector(".dl-save").href);
			const bytes = new Uint8Array(await res.arrayBuffer());
			let s = "";
			for (const b of bytes) s += String.fromCharCode(b);
			return { status: res.status, disposition: res.headers.get("Content-Disposition"), body: btoa(s) };
		})()`)
		body, err := base64.StdEncoding.DecodeString(got.Body)
		if err != nil || got.Status != 200 || !bytes.Equal(body, photos) {
			t.Errorf("fetching the link: %d, %d bytes (%v), want the %d of the file", got.Status, len(body), err, len(photos))
		}
		if got.Disposition != `attachment; filename="copy of photos.bin"` {
			t.Errorf("Content-Disposition %q", got.Disposition)
		}
		// Bob shares it in turn, marked as downloaded.
		if got := tabB.listsFile("copy of photos.bin"); got != metahash {
			t.Errorf("bob's Files box shows metahash %s", got)
		}
		if got := eval[string](tabB, findFile+`("copy of photos.bin").querySelector(".badge")?.textContent ?? ""`); got != "downloaded" {
			t.Errorf("bob's copy is marked %q", got)
		}
	})

	t.Run("refused and failed downloads say why", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		tabB.startDownload("x.bin", "alice", "abc")
		if got := tabB.downloadError(); !strings.Contains(got, `metahash "abc" is not a hash`) {
			t.Errorf("bad metahash: error %q", got)
		}
		if !tabB.isRed("#download-error") {
			t.Error("the error is not shown in red")
		}
		if got := tabB.value("#dl-hash"); got != "abc" {
			t.Errorf("the metahash box holds %q after a refusal, want what was typed", got)
		}
		tabB.startDownload("x.bin", "zed", strings.Repeat("ab", 32))
		tabB.run("no route shown", waitFor(`() => document.querySelector("#download-error").textContent === 'no route to "zed": this node has not heard from it yet'`))
		tabB.startDownload("", "alice", "")
		tabB.run("missing fields shown", waitFor(`() => document.querySelector("#download-error").textContent === "Fill in the name to save as, the metahash first."`))
		// A file alice does not have: the download fails, and says why.
		unknown := hexHash(gossiper.Hash{1, 2, 3})
		tabB.startDownload("nothing.bin", "alice", unknown)
		tabB.run("download failed", waitFor(`() => `+findDownload+`("nothing.bin")?.dataset.state === "failed"`))
		tabB.run("error cleared", waitFor(`() => document.querySelector("#download-error").hidden`))
		if got := eval[string](tabB, findDownload+`("nothing.bin").querySelector(".dl-error").textContent`); got != "alice does not have the file" {
			t.Errorf("failed download says %q", got)
		}
		if !eval[bool](tabB, findDownload+`("nothing.bin").querySelector(".dl-bar").hasAttribute("value")`) {
			t.Error("a failed download's bar still waits for its metafile")
		}
		if !tabB.isRed(`#downloads .dl[data-state="failed"] .dl-error`) {
			t.Error("the failure is not shown in red")
		}
		if !eval[bool](tabB, findDownload+`("nothing.bin").querySelector(".dl-save").hidden`) {
			t.Error("a failed download offers to save it")
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		if _, err := a.Post("The holiday photos are in my Files box, copy the metahash from there"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Post("Got them, thanks!"); err != nil {
			t.Fatal(err)
		}
		tabB.shows("alice", "The holiday photos are in my Files box, copy the metahash from there")
		tabB.shows("bob", "Got them, thanks!")
		tabB.run("blur", chromedp.Evaluate[chromedp.Void](`document.activeElement?.blur()`))
		tabB.run("desktop viewport", chromedp.EmulateViewport(1100, 900))
		tabB.run("Files box in view", chromedp.Evaluate[chromedp.Void](`document.querySelector("#files-box").scrollIntoView({ block: "start" })`))
		// The side column scrolls, never the page.
		if top := eval[float64](tabB, `document.querySelector(".bar").getBoundingClientRect().top`); top != 0 {
			t.Errorf("the page scrolled: its top bar is at %vpx", top)
		}
		tabB.screenshot("files.png")
		tabB.run("reset viewport", chromedp.EmulateReset())
	})

	t.Run("phone-sized screen", func(t *testing.T) {
		tabA.t, tabB.t = t, t
		tabB.run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		defer tabB.run("reset viewport", chromedp.EmulateReset())
		tabB.run("layout settles", waitFor(`() => window.innerWidth === 390`))
		tabB.tap("files")
		tabB.onScreen("#files-box", ".share-row .button", "#files .copy", "#files .hash")
		// Further down the box, within the phone's width.
		for _, sel := range []string{"#download", "#dl-hash", "#downloads .dl-bar", "#downloads .dl-error"} {
			if !tabB.displayed(sel) {
				t.Errorf("%s is not shown in the Files tab", sel)
			}
			right := eval[float64](tabB, `document.querySelector(`+jsString(sel)+`).getBoundingClientRect().right`)
			if right > 390 {
				t.Errorf("%s ends at %.0fpx, past the 390px screen", sel, right)
			}
		}
		tabB.screenshot("files-phone.png")
		tabB.tap("chat")
	})

	tabA.t, tabB.t = t, t
	tabA.checkQuiet()
	tabB.checkQuiet()
}

// TestBrowserDownloadProgress shows a download's every stage on the page of
// a node whose downloads the test moves on: the wait for the metafile, the
// progress bar, the rate, a warning, the end, and a failure, each update
// changing the same element in place.
func TestBrowserDownloadProgress(t *testing.T) {
	ctx := browser(t)
	f := newFileNode(t, "A")
	f.addRoute("B", "127.0.0.1:5001")
	tb := openTab(t, ctx, "A", startPage(t, f).URL())
	meta := strings.Repeat("5a", 32)
	dl := findDownload + `("big.iso")`

	tb.startDownload("big.iso", "B", meta)
	tb.run("download listed", waitFor(`() => `+findDownload+`("big.iso")?.dataset.state === "metafile"`))
	tb.run("mark its element", chromedp.Evaluate[chromedp.Void](dl+`.__mark = true`))
	if got := tb.text("#downloads .dl-state"); got != "asking for the metafile…" {
		t.Errorf("state shown as %q", got)
	}
	if eval[bool](tb, dl+`.querySelector(".dl-bar").hasAttribute("value")`) {
		t.Error("the bar shows progress before the metafile came")
	}

	info := f.Downloads()[0]
	info.State, info.Chunks, info.Have, info.Bytes, info.Started = gossiper.DownloadChunks, 200, 50, 50*8192, time.Now().Add(-2*time.Second)
	f.setDownload(info, false)
	tb.run("progress shown", waitFor(`() => `+dl+`.querySelector(".dl-bar").value === 50`))
	if max := eval[float64](tb, dl+`.querySelector(".dl-bar").max`); max != 200 {
		t.Errorf("bar's max is %v, want 200", max)
	}
	if got := tb.text("#downloads .dl-meta"); !strings.HasPrefix(got, "50 / 200 chunks · 400 KiB · ") || !strings.HasSuffix(got, " KiB/s") {
		t.Errorf("progress says %q", got)
	}
	if got := tb.text("#downloads .dl-state"); got != "downloading" {
		t.Errorf("state shown as %q", got)
	}

	info.Have, info.Bytes = 120, 120*8192
	info.Warning = "B sent bytes that do not match their hash; they were dropped and asked for again"
	f.setDownload(info, false)
	tb.run("warning shown", waitFor(`() => !`+dl+`.querySelector(".dl-warning").hidden`))
	if got := tb.text("#downloads .dl-warning"); got != "⚠ "+info.Warning {
		t.Errorf("warning says %q", got)
	}
	if eval[float64](tb, dl+`.querySelector(".dl-bar").value`) != 120 {
		t.Error("the bar did not move with the warning")
	}

	info.State, info.Have, info.Bytes, info.Updated = gossiper.DownloadDone, 200, 200*8192, time.Now()
	f.setDownload(info, false)
	tb.run("done", waitFor(`() => `+dl+`.dataset.state === "done" && !`+dl+`.querySelector(".dl-save").hidden`))
	if !eval[bool](tb, dl+`.__mark === true`) {
		t.Error("the download's element was replaced rather than updated")
	}
	if !eval[bool](tb, dl+`.querySelector(".dl-error").hidden`) {
		t.Error("a done download shows an error")
	}

	failed := gossiper.DownloadInfo{Name: "lost.bin", Dest: "B", MetaHash: gossiper.Hash{9}, State: gossiper.DownloadFailed, Chunks: 4, Have: 1,
		Bytes: 8192, Started: time.Now().Add(-40 * time.Second), Updated: time.Now(), Error: "no reply from B for 30s"}
	f.setDownload(failed, false)
	tb.run("failure shown", waitFor(`() => `+findDownload+`("lost.bin")?.dataset.state === "failed"`))
	if got := eval[string](tb, findDownload+`("lost.bin").querySelector(".dl-error").textContent`); got != "no reply from B for 30s" {
		t.Errorf("failure says %q", got)
	}
	if !tb.isRed(`#downloads .dl[data-state="failed"] .dl-error`) {
		t.Error("the failure is not shown in red")
	}
	// Newest first.
	if got := eval[string](tb, `document.querySelector("#downloads .dl .dl-name").textContent`); got != "lost.bin" {
		t.Errorf("first in the list: %q, want the newest", got)
	}

	// A download that fails at once: the stream's news of the failure may
	// reach the page before the answer to its POST, which is older, and
	// must not undo it. The page's fetch is slowed to make it so.
	f.mu.Lock()
	f.afterDownload = func(d gossiper.DownloadInfo) {
		time.Sleep(20 * time.Millisecond)
		d.State, d.Error, d.Updated = gossiper.DownloadFailed, "B does not have the file", time.Now()
		f.setDownload(d, false)
	}
	f.mu.Unlock()
	tb.run("slow down the answers", chromedp.Evaluate[chromedp.Void](`(() => {
		const fetch = window.fetch;
		window.fetch = async (...args) => {
			const res = await fetch(...args);
			await new Promise((ok) => setTimeout(ok, 1000));
			return res;
		};
	})()`))
	tb.startDownload("missing.bin", "B", strings.Repeat("6b", 32))
	tb.run("failure shown", waitFor(`() => `+findDownload+`("missing.bin")?.dataset.state === "failed"`))
	tb.run("answer taken", waitFor(`() => !document.querySelector("#download").disabled`))
	if got := eval[string](tb, findDownload+`("missing.bin").dataset.state`); got != "failed" {
		t.Errorf("after the POST's answer the download shows %q, want failed", got)
	}
	tb.checkQuiet()
}
