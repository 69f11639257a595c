// The Peerster chat page. It follows the node through /events (Server-Sent
// Events) and changes it through the JSON API. Text from the network is only
// ever put into the page with textContent, never parsed as HTML. The private
// conversations are in private.js.
import { $, atBottom, bubble, busy, messageBox, post, sentOff, showError, span } from "./common.js";
import { privatePanel } from "./private.js";

(() => {
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

  // New messages that came while the reader was up the log (see atBottom);
  // a button offers to jump down to them.
  let unseen = 0;
  // Set when this page has just sent a message: its arrival scrolls into
  // view even if the user had scrolled up. Messages the node sends for
  // other clients do not move the reader.
  let sentHere = false;

  const privates = privatePanel();

  function scrollToBottom() {
    el.scroller.scrollTop = el.scroller.scrollHeight;
    unseen = 0;
    el.jump.hidden = true;
  }

  function renderMessage(m) {
    return bubble(m.origin, m.own, [span("seq", "#" + m.id)], m.received, m.text);
  }

  // New messages are appended; what is already shown is never rebuilt, so
  // a long log stays cheap and a selection or scroll position survives.
  function addMessages(list) {
    if (list.length === 0) return;
    const follow = atBottom(el.scroller);
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
    on("routes", privates.routes);
    on("private", privates.messages);
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

  el.jump.addEventListener("click", scrollToBottom);
  el.scroller.addEventListener("scroll", () => {
    if (atBottom(el.scroller)) {
      unseen = 0;
      el.jump.hidden = true;
    }
  }, { passive: true });

  connect();
})();
