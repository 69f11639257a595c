// The Peerster chat page. It follows the node through /events (Server-Sent
// Events) and changes it through the JSON API. Text from the network is only
// ever put into the page with textContent, never parsed as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = {
    conn: $("conn"),
    scroller: $("scroller"),
    messages: $("messages"),
    empty: $("empty"),
    jump: $("jump"),
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

  // Within this many pixels of the bottom, the reader is following the
  // conversation and new messages scroll into view; further up, they are
  // reading older ones and a button offers to jump down instead.
  const FOLLOW_SLACK = 48;
  let unseen = 0;
  // Set when this page has just sent a message: its arrival scrolls into
  // view even if the user had scrolled up. Messages the node sends for
  // other clients do not move the reader.
  let sentHere = false;

  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

  function atBottom() {
    const s = el.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight <= FOLLOW_SLACK;
  }

  function scrollToBottom() {
    el.scroller.scrollTop = el.scroller.scrollHeight;
    unseen = 0;
    el.jump.hidden = true;
  }

  function renderMessage(m) {
    const li = document.createElement("li");
    li.className = m.own ? "msg own" : "msg";
    const meta = document.createElement("div");
    meta.className = "meta";
    const origin = document.createElement("span");
    origin.className = "origin";
    origin.textContent = m.origin;
    meta.append(origin);
    if (m.own) {
      const you = document.createElement("span");
      you.className = "you";
      you.textContent = "you";
      meta.append(you);
    }
    const seq = document.createElement("span");
    seq.className = "seq";
    seq.textContent = "#" + m.id;
    meta.append(seq);
    const received = new Date(m.received);
    if (!Number.isNaN(received.getTime())) {
      const time = document.createElement("time");
      time.dateTime = m.received;
      time.title = dateFormat.format(received);
      time.textContent = timeFormat.format(received);
      meta.append(time);
    }
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = m.text;
    li.append(meta, text);
    return li;
  }

  // New messages are appended; what is already shown is never rebuilt, so
  // a long log stays cheap and a selection or scroll position survives.
  function addMessages(list) {
    if (list.length === 0) return;
    const follow = atBottom();
    const fragment = document.createDocumentFragment();
    for (const m of list) fragment.append(renderMessage(m));
    el.messages.append(fragment);
    el.empty.hidden = true;
    const mine = sentHere && list.some((m) => m.own);
    if (follow || mine) {
      sentHere = false;
      scrollToBottom();
    } else {
      unseen += list.length;
      el.jump.textContent = unseen === 1 ? "1 new message ↓" : unseen + " new messages ↓";
      el.jump.hidden = false;
    }
  }

  function clearMessages() {
    el.messages.replaceChildren();
    el.empty.hidden = false;
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
    source.addEventListener("open", () => setConn("live", "live"));
    // The browser reconnects by itself, resuming after the last message.
    source.addEventListener("error", () => setConn("lost", "reconnecting…"));
  }

  function showError(node, message) {
    node.textContent = message;
    node.hidden = !message;
  }

  // post sends body to the API and returns the decoded answer; it throws an
  // Error that says what went wrong in words a user can act on.
  async function post(path, body) {
    let res;
    try {
      res = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch {
      throw new Error("Cannot reach the node. Is it still running?");
    }
    let data = null;
    try {
      data = await res.json();
    } catch {
      // Leave data null: the status says enough.
    }
    if (!res.ok) {
      throw new Error((data && data.error) || "The node answered " + res.status + ".");
    }
    return data;
  }

  // busy disables a form's button while its request is out, so a double
  // press does not send twice, and re-enables it whatever happens.
  async function busy(button, fn) {
    button.disabled = true;
    try {
      await fn();
    } finally {
      button.disabled = false;
    }
  }

  el.sendForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = el.text.value;
    if (text.trim() === "" || el.send.disabled) return;
    busy(el.send, async () => {
      try {
        await post("message", { text });
        sentHere = true;
        scrollToBottom();
        // Keep anything typed while the message was on its way.
        const now = el.text.value;
        el.text.value = now.startsWith(text) ? now.slice(text.length) : now;
        autosize();
        showError(el.sendError, "");
      } catch (err) {
        showError(el.sendError, err.message);
      }
    });
  });

  el.text.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      el.sendForm.requestSubmit();
    }
  });

  // The box grows with its text up to a few lines, then scrolls.
  function autosize() {
    el.text.style.height = "auto";
    el.text.style.height = Math.min(el.text.scrollHeight, 160) + "px";
  }
  el.text.addEventListener("input", autosize);

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

  el.jump.addEventListener("click", scrollToBottom);
  el.scroller.addEventListener("scroll", () => {
    if (atBottom()) {
      unseen = 0;
      el.jump.hidden = true;
    }
  }, { passive: true });

  connect();
})();
