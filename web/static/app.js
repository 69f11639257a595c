// The Peerster chat page. It follows the node through /events (Server-Sent
// Events), fetches older messages page by page as the reader scrolls up, and
// changes the node through the JSON API. Text from the network is only ever
// put into the page with textContent, never parsed as HTML. The private
// conversations are in private.js, the Files box in files.js, the tab bar
// that a phone shows in tabs.js.
import { $, atBottom, bubble, busy, dateFormat, keepBottom, lastMessage, markDays, messageBox, olderPages, post, sentOff, showError, span } from "./common.js";
import { filesPanel } from "./files.js";
import { privatePanel } from "./private.js";
import { tabBar } from "./tabs.js";

(() => {
  const el = {
    conn: $("conn"),
    scroller: $("scroller"),
    messages: $("messages"),
    emptyAlone: $("empty-alone"),
    emptyQuiet: $("empty-quiet"),
    emptyAdd: $("empty-add"),
    history: $("history"),
    jump: $("jump"),
    alerts: $("alerts"),
    alertList: $("alert-list"),
    sendForm: $("send-form"),
    text: $("text"),
    send: $("send"),
    sendError: $("send-error"),
    name: $("name"),
    nameForm: $("name-form"),
    newName: $("new-name"),
    nameError: $("name-error"),
    peers: $("peers"),
    peerCount: $("peer-count"),
    noPeers: $("no-peers"),
    nodeForm: $("node-form"),
    address: $("address"),
    nodeError: $("node-error"),
  };

  // New messages that came while the reader was up the log (see atBottom);
  // a button offers to jump down to them.
  let unseen = 0;
  // Set when this page has just sent a message: its arrival scrolls into
  // view even if the user had scrolled up. Messages the node sends for
  // other clients do not move the reader.
  let sentHere = false;

  // The page keeps at most MAX_SHOWN messages while the reader follows the
  // newest: a node can be sent any number, and those cut off the top come
  // back, a page at a time, when the reader scrolls up.
  const MAX_SHOWN = 1000;

  // The messages that came while a phone showed another part of the page
  // than the chat, counted on its tab. The first page of a stream is not
  // news, and is not counted.
  let chatNew = 0;
  let backlog = true;
  // How many peers the node has, once it said.
  let peerCount = null;

  const tabs = tabBar((name, again) => {
    if (name === "chat") {
      chatNew = 0;
      tabs.count("chat", 0, "");
      if (atBottom(el.scroller)) {
        unseen = 0;
        el.jump.hidden = true;
      }
      older.check();
    } else if (name === "private") {
      // The Private tab, tapped again, goes back from a conversation to
      // the names.
      if (again) privates.close();
      privates.shown();
    }
  });
  const privates = privatePanel((n, whose) => tabs.count("private", n, whose));
  const files = filesPanel();

  function scrollToBottom() {
    el.scroller.scrollTop = el.scroller.scrollHeight;
    unseen = 0;
    el.jump.hidden = true;
  }

  // A forged message carries this node's name but another node wrote it:
  // it is never shown as the user's own, and says so. The number its origin
  // gave a message is no news to a reader, and jumps (route rumors take
  // numbers too): it is left to the time's tooltip, to match a node's log.
  function renderMessage(m) {
    const labels = [];
    if (m.forged) {
      const mark = span("forged-mark", "⚠ not written by this node");
      mark.title = "This message carries this node's name, but another node wrote it: someone is impersonating you.";
      labels.push(mark);
    }
    const li = bubble(m.origin, m.own && !m.forged, labels, m.received, m.text);
    if (m.forged) li.classList.add("forged");
    li.dataset.seq = String(m.seq);
    li.dataset.id = String(m.id);
    const time = li.querySelector("time");
    if (time) time.title += " · " + m.origin + "'s message #" + m.id;
    return li;
  }

  const older = olderPages({
    scroller: el.scroller,
    list: el.messages,
    status: el.history,
    path: (seq) => "message?before=" + seq,
    render: renderMessage,
    took: () => {},
  });

  function lastShownSeq() {
    const last = lastMessage(el.messages);
    return last === null ? 0 : Number(last.dataset.seq);
  }

  // trim cuts the oldest messages beyond MAX_SHOWN, for a reader at the
  // bottom, who does not see them.
  function trim() {
    const shown = el.messages.querySelectorAll(":scope > .msg");
    const extra = shown.length - MAX_SHOWN;
    if (extra <= 0) return;
    for (let i = 0; i < extra; i++) shown[i].remove();
    markDays(el.messages);
    older.reset();
  }

  // showEmpty says what to do in an empty chat: find a peer, when the node
  // has none, else say hello.
  function showEmpty() {
    const none = lastMessage(el.messages) === null;
    el.emptyAlone.hidden = !(none && peerCount === 0);
    el.emptyQuiet.hidden = !(none && peerCount > 0);
  }

  // New messages are appended; what is already shown is never rebuilt, so
  // a long log stays cheap and a selection or scroll position survives.
  function addMessages(all) {
    // A stream that resumes may repeat what is shown.
    const after = lastShownSeq();
    const list = all.filter((m) => m.seq > after);
    const news = !backlog;
    backlog = false;
    if (list.length === 0) {
      older.check();
      return;
    }
    const follow = atBottom(el.scroller);
    const fragment = document.createDocumentFragment();
    for (const m of list) fragment.append(renderMessage(m));
    el.messages.append(fragment);
    markDays(el.messages);
    showEmpty();
    if (news && !tabs.shows("chat")) {
      chatNew += list.filter((m) => !m.own).length;
      tabs.count("chat", chatNew, chatNew === 1 ? "1 new message" : chatNew + " new messages");
    }
    const mine = sentHere && list.some((m) => m.own);
    if (follow || mine) {
      sentHere = false;
      trim();
      scrollToBottom();
      older.check();
    } else {
      unseen += list.length;
      el.jump.textContent = unseen === 1 ? "1 new message ↓" : unseen + " new messages ↓";
      el.jump.hidden = false;
    }
  }

  function clearMessages() {
    el.messages.replaceChildren();
    backlog = true;
    showEmpty();
    older.reset();
  }

  // Alerts the user dismissed, by kind, with the alert as it was then: a
  // dismissed alert comes back when it changes (seen again, or anew). They
  // are kept in the browser, so a reload does not bring them back.
  let alerts = [];
  const DISMISSED_KEY = "peerster-dismissed-alerts";
  const dismissed = new Map();
  try {
    for (const [k, v] of Object.entries(JSON.parse(localStorage.getItem(DISMISSED_KEY) || "{}"))) dismissed.set(k, v);
  } catch {
    // No storage, or something else in it: nothing was dismissed.
  }
  const alertMark = (a) => a.last + "|" + a.count;

  function dismiss(a) {
    dismissed.set(a.kind, alertMark(a));
    try {
      localStorage.setItem(DISMISSED_KEY, JSON.stringify(Object.fromEntries(dismissed)));
    } catch {
      // Without storage it stays dismissed until the page is reloaded.
    }
    setAlerts(alerts);
  }

  function renderAlert(a) {
    const li = document.createElement("li");
    li.className = "alert " + (a.kind === "impersonation" ? "danger" : "warning");
    li.dataset.kind = a.kind;
    const body = document.createElement("div");
    body.className = "alert-body";
    const text = document.createElement("p");
    text.className = "alert-text";
    text.textContent = a.text;
    const meta = document.createElement("p");
    meta.className = "alert-meta";
    const last = new Date(a.last);
    meta.textContent =
      (a.count === 1 ? "Once" : a.count + " times") +
      (Number.isNaN(last.getTime()) ? "" : ", last " + dateFormat.format(last));
    body.append(text, meta);
    const close = document.createElement("button");
    close.type = "button";
    close.className = "close alert-close";
    close.textContent = "×";
    close.title = "Dismiss until it happens again";
    close.setAttribute("aria-label", "Dismiss this alert");
    close.addEventListener("click", () => dismiss(a));
    li.append(span("alert-icon", "⚠"), body, close);
    return li;
  }

  function setAlerts(list) {
    alerts = list;
    const shown = list.filter((a) => dismissed.get(a.kind) !== alertMark(a));
    el.alertList.replaceChildren(...shown.map(renderAlert));
    el.alerts.hidden = shown.length === 0;
  }

  function setName(name) {
    el.name.textContent = name;
    document.title = name + " · Peerster";
  }

  // The peer list is short, so it is redrawn whole; it holds no input.
  function setPeers(peers) {
    el.peers.replaceChildren(
      ...peers.map((p) => {
        const li = document.createElement("li");
        li.textContent = p;
        return li;
      }),
    );
    el.peerCount.textContent = "(" + peers.length + ")";
    el.noPeers.hidden = peers.length > 0;
    peerCount = peers.length;
    showEmpty();
  }

  function setConn(state, label) {
    el.conn.dataset.state = state;
    el.conn.textContent = label;
  }

  function connect() {
    const source = new EventSource("events");
    const on = (type, fn) =>
      source.addEventListener(type, (ev) => {
        let data;
        try {
          data = JSON.parse(ev.data);
        } catch (err) {
          console.error("bad event from the node", type, err);
          return;
        }
        fn(data);
      });
    on("id", (v) => setName(v.name));
    on("node", setPeers);
    on("message", (list) => {
      addMessages(list);
      // Announce arrivals to screen readers only after the backlog is in,
      // so that opening the page does not read out the whole log.
      el.messages.setAttribute("aria-live", "polite");
    });
    on("reset", clearMessages);
    on("routes", (list) => {
      privates.routes(list);
      files.routes(list);
    });
    on("private", privates.messages);
    on("alerts", setAlerts);
    on("files", files.files);
    on("downloads", files.downloads);
    source.addEventListener("open", () => {
      // Each stream starts with every private message again.
      privates.streamOpened();
      setConn("live", "live");
    });
    // The browser reconnects by itself, resuming after the last message.
    source.addEventListener("error", () => setConn("lost", "reconnecting…"));
  }

  const autosize = messageBox(el.text, el.sendForm);

  el.sendForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = el.text.value;
    if (text.trim() === "" || el.send.disabled) return;
    busy(el.send, async () => {
      try {
        await post("message", { text });
        sentHere = true;
        scrollToBottom();
        el.text.value = sentOff(el.text.value, text);
        autosize();
        showError(el.sendError, "");
      } catch (err) {
        showError(el.sendError, err.message);
      }
    });
  });

  // oneFieldForm makes a form of one input post the input's trimmed value as
  // {[field]: value} to path, pass the answer to done and clear the input.
  // An empty value is refused with empty; errors show in errorNode.
  function oneFieldForm({ form, input, errorNode, path, field, empty, done }) {
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const value = input.value.trim();
      if (value === "") {
        showError(errorNode, empty);
        return;
      }
      busy(form.querySelector("button"), async () => {
        try {
          done(await post(path, { [field]: value }));
          input.value = "";
          showError(errorNode, "");
        } catch (err) {
          showError(errorNode, err.message);
        }
      });
    });
  }

  oneFieldForm({
    form: el.nameForm,
    input: el.newName,
    errorNode: el.nameError,
    path: "id",
    field: "name",
    empty: "Type a name first.",
    done: (v) => setName(v.name),
  });
  oneFieldForm({
    form: el.nodeForm,
    input: el.address,
    errorNode: el.nodeError,
    path: "node",
    field: "address",
    empty: "Type an address like 127.0.0.1:5001 first.",
    done: setPeers,
  });

  // From the empty chat of a node without peers to where one is added:
  // on a phone, the Node tab.
  el.emptyAdd.addEventListener("click", () => {
    tabs.show("node");
    el.address.focus();
  });

  // After midnight, Today is Yesterday.
  setInterval(() => markDays(el.messages), 60 * 1000);
  keepBottom(el.scroller);

  el.jump.addEventListener("click", () => {
    trim();
    scrollToBottom();
  });
  el.scroller.addEventListener("scroll", () => {
    if (atBottom(el.scroller)) {
      unseen = 0;
      el.jump.hidden = true;
    }
  }, { passive: true });

  connect();
})();
