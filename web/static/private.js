// Private conversations: the names this node can reach (its routing table)
// and one conversation at a time, beside the chat. A private message goes
// hop by hop to one node and nothing confirms its arrival, so the page says
// a message was sent, never that it was delivered.
import { $, atBottom, bubble, busy, getPage, messageBox, olderPages, post, sentOff, showError, span } from "./common.js";

// The hop limit a private message starts with, here and in the other
// Peerster implementations, from which a received one's hops are counted.
const START_HOP_LIMIT = 10;

// privatePanel wires the Private box and the conversation, and returns the
// handlers of the event stream's routes and private events.
export function privatePanel() {
  const el = {
    layout: $("layout"),
    people: $("people"),
    peopleCount: $("people-count"),
    noPeople: $("no-people"),
    box: $("private-box"),
    with: $("private-with"),
    via: $("private-via"),
    close: $("private-close"),
    scroller: $("private-scroller"),
    list: $("private-messages"),
    empty: $("private-empty"),
    history: $("private-history"),
    emptyName: $("private-empty-name"),
    form: $("private-form"),
    text: $("private-text"),
    send: $("private-send"),
    error: $("private-error"),
  };
  const routes = new Map(); // name -> next hop
  // name -> its newest messages, oldest first: the event stream's first
  // page holds the newest of each conversation, and scrolling up fetches
  // older ones, so each is the end of its conversation without a gap.
  const convs = new Map();
  const unread = new Map(); // name -> messages received while closed
  const drafts = new Map(); // name -> what was typed and not sent
  let current = null; // the name whose conversation is open
  let fresh = true; // the next private event is a stream's first
  let sentHere = false;
  const autosize = messageBox(el.text, el.form);

  function scrollDown() {
    el.scroller.scrollTop = el.scroller.scrollHeight;
  }

  function privateBubble(m) {
    let label;
    if (m.sent) {
      label = span("seq", "sent");
      label.title = "Private messages have no delivery receipt: one lost on the way is lost.";
    } else {
      const hops = START_HOP_LIMIT + 1 - m.hopLimit;
      label = span("seq", hops === 1 ? "direct" : hops > 1 ? hops + " hops" : "hop limit " + m.hopLimit);
      label.title = "Arrived with hop limit " + m.hopLimit;
    }
    const li = bubble(m.origin, m.sent, [label], m.time, m.text);
    li.dataset.seq = String(m.seq);
    return li;
  }

  const older = olderPages({
    scroller: el.scroller,
    list: el.list,
    status: el.history,
    path: (seq) => "private?with=" + encodeURIComponent(current) + "&before=" + seq,
    render: privateBubble,
    took: (list) => convs.set(current, [...list, ...(convs.get(current) || [])]),
  });

  function person(name) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "person";
    b.dataset.name = name;
    b.setAttribute("aria-pressed", String(name === current));
    const hop = routes.get(name);
    b.append(span("person-name", name), span("hop", hop === undefined ? "no route yet" : "via " + hop));
    const n = unread.get(name) || 0;
    if (n > 0) {
      const badge = span("unread", String(n));
      badge.title = n === 1 ? "1 unread message" : n + " unread messages";
      b.append(badge);
    }
    b.addEventListener("click", () => open(name));
    const li = document.createElement("li");
    li.append(b);
    return li;
  }

  function button(name) {
    return [...el.people.querySelectorAll(".person")].find((b) => b.dataset.name === name);
  }

  // The list is short and holds no input, so it is redrawn whole; the
  // focus stays on the name that had it. Names with a conversation but no
  // route (as after a restart) stay, so their messages can still be read.
  function renderPeople() {
    const focused = el.people.contains(document.activeElement) ? document.activeElement.dataset.name : undefined;
    const names = [...new Set([...routes.keys(), ...convs.keys()])].sort();
    el.people.replaceChildren(...names.map(person));
    el.peopleCount.textContent = "(" + names.length + ")";
    el.noPeople.hidden = names.length > 0;
    if (focused !== undefined) button(focused)?.focus();
  }

  function showVia() {
    if (current === null) return;
    const hop = routes.get(current);
    el.via.textContent = hop === undefined ? "No route yet: you can write once this node hears from " + current + "." : "via " + hop;
    el.via.classList.toggle("no-route", hop === undefined);
  }

  function renderConversation() {
    const list = convs.get(current) || [];
    older.reset();
    el.list.replaceChildren(...list.map(privateBubble));
    el.emptyName.textContent = current;
    el.empty.hidden = list.length > 0;
    scrollDown();
    older.check();
  }

  // fetchNewest fetches the newest page of a conversation none of whose
  // messages came with the stream's first page.
  async function fetchNewest(name) {
    let page;
    try {
      page = await getPage("private?with=" + encodeURIComponent(name));
    } catch (err) {
      if (current === name) showError(el.error, err.message);
      return;
    }
    if (current !== name || convs.has(name) || page.list.length === 0) return;
    convs.set(name, page.list);
    renderConversation();
  }

  function open(name) {
    if (current !== null) drafts.set(current, el.text.value);
    current = name;
    unread.delete(name);
    el.with.textContent = name;
    el.box.hidden = false;
    el.layout.classList.add("with-private");
    showVia();
    showError(el.error, "");
    el.text.value = drafts.get(name) || "";
    autosize();
    renderConversation();
    if (!convs.has(name)) fetchNewest(name);
    renderPeople();
    // On a phone the conversation is below the chat: bring it into view.
    el.box.scrollIntoView({ block: "nearest" });
    el.text.focus({ preventScroll: true });
  }

  function close() {
    const was = current;
    drafts.set(was, el.text.value);
    current = null;
    el.box.hidden = true;
    el.layout.classList.remove("with-private");
    renderPeople();
    // Back to the name, so that a keyboard user is not lost.
    button(was)?.focus();
  }

  // addMessages files messages under their conversations. The first event
  // of a stream holds the newest page of them and replaces what the page
  // holds; later ones hold only new messages.
  function addMessages(list) {
    const replace = fresh;
    fresh = false;
    if (replace) convs.clear();
    const follow = atBottom(el.scroller);
    const shown = [];
    for (const m of list) {
      if (!convs.has(m.with)) convs.set(m.with, []);
      convs.get(m.with).push(m);
      if (m.with === current) shown.push(m);
      else if (!replace && !m.sent) unread.set(m.with, (unread.get(m.with) || 0) + 1);
    }
    renderPeople();
    if (current === null) return;
    if (replace) {
      renderConversation();
      if (!convs.has(current)) fetchNewest(current);
      return;
    }
    if (shown.length === 0) return;
    el.list.append(...shown.map(privateBubble));
    el.empty.hidden = true;
    if (follow || (sentHere && shown.some((m) => m.sent))) {
      sentHere = false;
      scrollDown();
    }
  }

  function setRoutes(list) {
    routes.clear();
    for (const r of list) routes.set(r.origin, r.nextHop);
    renderPeople();
    showVia();
  }

  el.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const to = current;
    const text = el.text.value;
    if (to === null || text.trim() === "" || el.send.disabled) return;
    busy(el.send, async () => {
      try {
        await post("private", { destination: to, text });
        sentHere = true;
        // The user may have opened another conversation meanwhile.
        if (current === to) {
          scrollDown();
          el.text.value = sentOff(el.text.value, text);
          autosize();
          showError(el.error, "");
        } else {
          drafts.set(to, sentOff(drafts.get(to) || "", text));
        }
      } catch (err) {
        if (current === to) showError(el.error, err.message);
      }
    });
  });

  el.close.addEventListener("click", close);
  el.box.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !ev.isComposing) close();
  });

  return {
    routes: setRoutes,
    messages: addMessages,
    streamOpened: () => {
      fresh = true;
    },
  };
}
