// The Files box: sharing a file from the browser (picked or dropped), the
// files this node shares with their metahashes to copy, and downloads from
// other nodes with their progress. Names and errors come from the network
// or the node, so they go into the page with textContent only.
import { $, busy, post, showError, span } from "./common.js";

// The protocol's largest file: 256 chunks of 8 KiB. A larger one is refused
// here, before its bytes travel to the node, which would refuse it too.
const MAX_FILE_BYTES = 2 * 1024 * 1024;

const STATE_TEXT = {
  metafile: "asking for the metafile…",
  chunks: "downloading",
  done: "done",
  failed: "failed",
};

// bytes writes a size the way a user reads it.
export function bytes(n) {
  if (n < 1024) return n + " B";
  if (n < 1024 * 1024) return (n / 1024).toFixed(n < 10 * 1024 ? 1 : 0) + " KiB";
  return (n / (1024 * 1024)).toFixed(1) + " MiB";
}

export function filesPanel() {
  const el = {
    box: $("files-box"),
    input: $("file-input"),
    status: $("share-status"),
    shareError: $("share-error"),
    list: $("files"),
    count: $("file-count"),
    none: $("no-files"),
    form: $("download-form"),
    name: $("dl-name"),
    node: $("dl-node"),
    nodes: $("dl-nodes"),
    hash: $("dl-hash"),
    downloadError: $("download-error"),
    downloads: $("downloads"),
  };
  // metahash -> its element in the downloads list, updated in place so
  // that a progress bar moves rather than flickers and focus stays put.
  const shownDownloads = new Map();

  // share uploads the files one after another; each error names its file.
  async function share(fileList) {
    const picked = [...fileList];
    if (picked.length === 0) return;
    const errors = [];
    for (const file of picked) {
      if (file.size > MAX_FILE_BYTES) {
        errors.push(file.name + " is " + bytes(file.size) + ", more than the 2 MiB a shared file may be.");
        continue;
      }
      el.status.textContent = "Sharing " + file.name + "…";
      el.status.hidden = false;
      try {
        await upload(file);
      } catch (err) {
        errors.push(err.message);
      }
    }
    el.status.hidden = true;
    showError(el.shareError, errors.join("\n"));
  }

  async function upload(file) {
    let res;
    try {
      res = await fetch("files?name=" + encodeURIComponent(file.name), {
        method: "POST",
        headers: { "Content-Type": "application/octet-stream" },
        body: file,
      });
    } catch {
      throw new Error("Cannot reach the node. Is it still running?");
    }
    let data = null;
    try {
      data = await res.json();
    } catch {
      // The status says enough.
    }
    if (!res.ok) throw new Error((data && data.error) || "The node answered " + res.status + ".");
    return data;
  }

  // copy puts a metahash on the clipboard. Where the browser offers no
  // clipboard, or refuses it, the hash is selected for the user to copy.
  async function copy(button, code) {
    const hash = code.textContent;
    let copied = false;
    try {
      await navigator.clipboard.writeText(hash);
      copied = true;
    } catch {
      const range = document.createRange();
      range.selectNodeContents(code);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
    button.textContent = copied ? "Copied ✓" : "Selected: press Ctrl+C";
    button.dataset.copied = String(copied);
    setTimeout(() => {
      button.textContent = "Copy";
      delete button.dataset.copied;
    }, 2000);
  }

  function fileItem(f) {
    const li = document.createElement("li");
    li.className = "file";
    li.dataset.metahash = f.metahash;
    const head = document.createElement("div");
    head.className = "file-head";
    const link = document.createElement("a");
    link.className = "file-name";
    link.href = "files/" + f.metahash;
    link.download = f.name;
    link.textContent = f.name;
    link.title = "Save " + f.name;
    head.append(link, span("file-size", bytes(f.size)));
    if (f.downloaded) head.append(span("badge", "downloaded"));
    const row = document.createElement("div");
    row.className = "hash-row";
    const code = document.createElement("code");
    code.className = "hash";
    code.textContent = f.metahash;
    code.title = "Metahash: other nodes download " + f.name + " by it";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy the metahash of " + f.name);
    button.addEventListener("click", () => copy(button, code));
    row.append(code, button);
    li.append(head, row);
    return li;
  }

  // The list of files is redrawn whole when it changes, which is when a
  // file is shared or a download completes; focus stays on the same file's
  // button or link.
  function setFiles(files) {
    const focused = el.list.contains(document.activeElement) ? document.activeElement : null;
    const focusHash = focused?.closest(".file")?.dataset.metahash;
    const focusSel = focused?.classList.contains("copy") ? ".copy" : ".file-name";
    el.list.replaceChildren(...files.map(fileItem));
    el.count.textContent = "(" + files.length + ")";
    el.none.hidden = files.length > 0;
    if (focusHash !== undefined) {
      const li = [...el.list.children].find((x) => x.dataset.metahash === focusHash);
      li?.querySelector(focusSel)?.focus();
    }
  }

  function downloadItem() {
    const li = document.createElement("li");
    li.className = "dl";
    const head = document.createElement("div");
    head.className = "dl-head";
    head.append(span("dl-name", ""), span("dl-from", ""), span("dl-state", ""));
    const bar = document.createElement("progress");
    bar.className = "dl-bar";
    const meta = document.createElement("p");
    meta.className = "dl-meta";
    const warning = document.createElement("p");
    warning.className = "dl-warning";
    const error = document.createElement("p");
    error.className = "dl-error error";
    const save = document.createElement("a");
    save.className = "dl-save";
    save.textContent = "Save file";
    li.append(head, bar, meta, warning, error, save);
    return li;
  }

  function updateDownload(li, d) {
    li.dataset.metahash = d.metahash;
    li.dataset.state = d.state;
    li.dataset.updated = String(Date.parse(d.updated));
    li.querySelector(".dl-name").textContent = d.name;
    li.querySelector(".dl-from").textContent = "from " + d.destination;
    li.querySelector(".dl-state").textContent = STATE_TEXT[d.state] || d.state;
    const bar = li.querySelector(".dl-bar");
    if (d.chunks > 0) {
      bar.max = d.chunks;
      bar.value = d.have;
    } else if (d.state === "metafile") {
      // Until the metafile comes, nobody knows how many chunks there are:
      // an indeterminate bar.
      bar.removeAttribute("value");
    } else {
      // Ended before the metafile came: nothing was had.
      bar.max = 1;
      bar.value = 0;
    }
    bar.setAttribute("aria-label", d.name + ": " + d.have + " of " + (d.chunks || "?") + " chunks");
    const parts = [];
    if (d.chunks > 0) parts.push(d.have + " / " + d.chunks + " chunks");
    if (d.bytes > 0) parts.push(bytes(d.bytes));
    if (d.rate > 0) parts.push(bytes(d.rate) + "/s");
    const meta = li.querySelector(".dl-meta");
    meta.textContent = parts.join(" · ");
    meta.hidden = parts.length === 0;
    const warning = li.querySelector(".dl-warning");
    warning.textContent = d.warning ? "⚠ " + d.warning : "";
    warning.hidden = !d.warning;
    const error = li.querySelector(".dl-error");
    error.textContent = d.state === "failed" ? d.error || "The download failed." : "";
    error.hidden = d.state !== "failed";
    const save = li.querySelector(".dl-save");
    save.hidden = d.state !== "done";
    if (d.state === "done") {
      save.href = "files/" + d.metahash;
      save.download = d.name;
      save.title = "Save " + d.name;
    }
  }

  // Downloads are listed newest first; the node keeps each metahash's
  // latest, so it is the key.
  function setDownloads(list) {
    const keep = new Set(list.map((d) => d.metahash));
    for (const [hash, li] of shownDownloads) {
      if (!keep.has(hash)) {
        li.remove();
        shownDownloads.delete(hash);
      }
    }
    for (const d of list) showDownload(d);
  }

  // showDownload shows d, a download as the event stream or a POST's answer
  // has it. The answer may arrive after an event that is newer (a download
  // that failed at once): it is shown only if it is newer than what is.
  function showDownload(d, answer = false) {
    let li = shownDownloads.get(d.metahash);
    if (answer && li !== undefined && !(Date.parse(d.updated) > Number(li.dataset.updated))) return;
    if (li === undefined) {
      li = downloadItem();
      shownDownloads.set(d.metahash, li);
      el.downloads.prepend(li);
    }
    updateDownload(li, d);
  }

  function setRoutes(routes) {
    el.nodes.replaceChildren(
      ...routes.map((r) => {
        const o = document.createElement("option");
        o.value = r.origin;
        return o;
      }),
    );
  }

  el.input.addEventListener("change", () => {
    share(el.input.files).finally(() => {
      // The same file picked again after a fix is a change again.
      el.input.value = "";
    });
  });

  // Drag and drop onto the box: it lights up while a file is over it.
  let depth = 0;
  const carriesFiles = (ev) => [...(ev.dataTransfer?.types || [])].includes("Files");
  el.box.addEventListener("dragenter", (ev) => {
    if (!carriesFiles(ev)) return;
    ev.preventDefault();
    depth++;
    el.box.classList.add("dragging");
  });
  el.box.addEventListener("dragover", (ev) => {
    if (!carriesFiles(ev)) return;
    // Without this the browser opens the dropped file instead.
    ev.preventDefault();
    ev.dataTransfer.dropEffect = "copy";
  });
  el.box.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) el.box.classList.remove("dragging");
  });
  el.box.addEventListener("drop", (ev) => {
    ev.preventDefault();
    depth = 0;
    el.box.classList.remove("dragging");
    if (ev.dataTransfer?.files) share(ev.dataTransfer.files);
  });

  el.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = el.name.value.trim();
    const destination = el.node.value.trim();
    const metahash = el.hash.value.trim();
    if (name === "" || destination === "" || metahash === "") {
      const missing = [];
      if (name === "") missing.push("the name to save as");
      if (destination === "") missing.push("the node");
      if (metahash === "") missing.push("the metahash");
      showError(el.downloadError, "Fill in " + missing.join(", ") + " first.");
      return;
    }
    busy($("download"), async () => {
      try {
        // Shown at once; the event stream brings its progress.
        showDownload(await post("downloads", { name, destination, metahash }), true);
        el.name.value = "";
        el.hash.value = "";
        showError(el.downloadError, "");
      } catch (err) {
        showError(el.downloadError, err.message);
      }
    });
  });

  return { files: setFiles, downloads: setDownloads, routes: setRoutes };
}
