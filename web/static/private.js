// Private conversations: the names this node can reach (its routing table)
// and one conversation at a time, beside the chat. A private message goes
// hop by hop to one node and nothing confirms its arrival, so the page says
// a message was sent, never that it was delivered.
import { $, atBottom, bubble, busy, getPage, keepBottom, markDays, messageBox, olderPages, post, sentOff, showError, shown, span } from "./common.js";

// The hop limit a private message starts with, here and in the other
// Peerster implementations, from which a received one's hops are counted.
const START_HOP_LIMIT = 10;

// What was read of each conversation is kept in the browser, under this
// key, so that a reload still counts what came since. Each node's page is
// its own origin (http://127.0.0.1:PORT), so each node has its own.
const READ_KEY = "peerster-read";

// A read mark is the arrival time (in milliseconds) of the newest message
// received in a conversation when it was last seen open, and how many
// received messages of that conversation arrived in that millisecond. It
// does not use the messages' seq, which starts again from 1 when a node
// restarts without -data: a seq once read would mark a new message read.
function loadMarks() {
  const marks = new Map();
  try {
    for (const [name, m] of Object.entries(JSON.parse(localStorage.getItem(READ_KEY) || "{}"))) {
      if (Number.isFinite(m?.at) && Number.isInteger(m?.n)) marks.set(name, { at: m.at, n: m.n });
    }
  } catch {
    // No storage, or something else in it: nothing was read.
  }
  return marks;
}

// later says whether read mark a is past b.
const later = (a, b) => b === undefined || a.at > b.at || (a.at === b.at && a.n > b.n);

// privatePanel wires the Private box and the conversation, and returns the
// handlers of the event stream's routes and private events. onUnread is
// told the count of unread messages, in all conversations, and a sentence
// saying whose they are, whenever it may have changed.
export function privatePanel(onUnread) {
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
  let marks = loadMarks(); // name -> read mark
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
      label = span("tag", "sent");
      label.title = "Private messages have no delivery receipt: one lost on the way is lost.";
    } else {
      const hops = START_HOP_LIMIT + 1 - m.hopLimit;
      label = span("tag", hops === 1 ? "direct" : hops > 1 ? hops + " hops" : "hop limit " + m.hopLimit);
      label.title = "Arrived with hop limit " + m.hopLimit;
    }
    const li = bubble(m.origin, m.sent, [label], m.time, m.text);
    li.dataset.seq = String(m.seq);
    return li;
  }

  // unreadOf counts the received messages of a conversation that arrived
  // after its read mark; all of them without one.
  function unreadOf(name) {
    const mark = marks.get(name);
    let count = 0;
    let tied = 0;
    for (const m of convs.get(name) || []) {
      if (m.sent) continue;
      const at = Date.parse(m.time);
      if (mark === undefined || at > mark.at) count++;
      else if (at === mark.at) tied++;
    }
    return mark === undefined ? count : count + Math.max(0, tied - mark.n);
  }

  // seeing says whether the open conversation is on the screen, where its
  // messages are read: a phone may show another part of the page.
  function seeing() {
    return current !== null && shown(el.box) && document.visibilityState !== "hidden";
  }

  // markRead moves the read mark of the open conversation to its newest
  // received message, if the user sees it, and keeps it in the browser.
  function markRead() {
    if (!seeing()) return;
    let mark;
    for (const m of convs.get(current) || []) {
      const at = Date.parse(m.time);
      if (m.sent || Number.isNaN(at)) continue;
      if (mark === undefined || at > mark.at) mark = { at, n: 1 };
      else if (at === mark.at) mark.n++;
    }
    if (mark === undefined || !later(mark, marks.get(current))) return;
    // Another tab of this page may have read further meanwhile.
    const stored = loadMarks();
    for (const [name, m] of marks) if (later(m, stored.get(name))) stored.set(name, m);
    if (later(mark, stored.get(current))) stored.set(current, mark);
    marks = stored;
    try {
      localStorage.setItem(READ_KEY, JSON.stringify(Object.fromEntries(marks)));
    } catch {
      // Without storage it is read until the page is reloaded.
    }
    renderPeople();
  }

  function tellUnread() {
    const names = [...convs.keys()].map((name) => [name, unreadOf(name)]).filter(([, n]) => n > 0);
    const total = names.reduce((sum, [, n]) => sum + n, 0);
    onUnread(total, names.map(([name, n]) => n + " new from " + name).join(", "));
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
    const n = unreadOf(name);
    if (n > 0) {
      const badge = span("unread", n + " new");
      badge.title = n + " new from " + name;
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
    tellUnread();
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
    markDays(el.list);
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
    renderPeople();
    markRead();
  }

  function open(name) {
    if (current !== null) drafts.set(current, el.text.value);
    current = name;
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
    markRead();
    el.text.focus({ preventScroll: true });
  }

  function close() {
    const was = current;
    if (was === null) return;
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
    const added = [];
    for (const m of list) {
      if (!convs.has(m.with)) convs.set(m.with, []);
      convs.get(m.with).push(m);
      if (m.with === current) added.push(m);
    }
    if (current !== null && replace) {
      renderConversation();
      if (!convs.has(current)) fetchNewest(current);
    } else if (added.length > 0) {
      el.list.append(...added.map(privateBubble));
      markDays(el.list);
      el.empty.hidden = true;
      if (follow || (sentHere && added.some((m) => m.sent))) {
        sentHere = false;
        scrollDown();
      }
    }
    renderPeople();
    markRead();
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
  // What another tab of this page read is read here too.
  window.addEventListener("storage", (ev) => {
    if (ev.key !== READ_KEY && ev.key !== null) return;
    marks = loadMarks();
    renderPeople();
  });
  document.addEventListener("visibilitychange", markRead);
  // After midnight, Today is Yesterday.
  setInterval(() => markDays(el.list), 60 * 1000);
  keepBottom(el.scroller);

  return {
    routes: setRoutes,
    messages: addMessages,
    streamOpened: () => {
      fresh = true;
    },
    // shown is called when the conversation may have come into sight.
    shown: markRead,
    close,
  };
}
