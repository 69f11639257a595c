// What the chat and the private conversations share: talking to the API,
// showing errors, the message box's keys, the bubbles and following the
// newest of them.
// Text from the network is only ever put into the page with textContent.

export const $ = (id) => document.getElementById(id);

export const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
export const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

// span makes a small element of the given class holding text.
export function span(className, text) {
  const s = document.createElement("span");
  s.className = className;
  s.textContent = text;
  return s;
}

// timeOf returns a <time> showing when, or null if when does not parse, so
// that a bad stamp costs the time and not the message.
export function timeOf(when) {
  const d = new Date(when);
  if (Number.isNaN(d.getTime())) return null;
  const time = document.createElement("time");
  time.dateTime = when;
  time.title = dateFormat.format(d);
  time.textContent = timeFormat.format(d);
  return time;
}

// dayKey names the day d falls on in the browser's time zone, as
// "2024-05-01": the bubbles of one day carry the same key.
export function dayKey(d) {
  const two = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate());
}

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
const yearDayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
const longDayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full" });

// dayOf is the local midnight that starts the day of key.
function dayOf(key) {
  const [y, m, d] = key.split("-").map(Number);
  return new Date(y, m - 1, d);
}

// dayLabel says a day as chats do: Today, Yesterday, else its date, with
// the year when it is not this one's.
export function dayLabel(key, now = new Date()) {
  const day = dayOf(key);
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  // Rounded: a day that changes to or from summer time is 23 or 25 hours.
  const ago = Math.round((today - day) / 86400000);
  if (ago === 0) return "Today";
  if (ago === 1) return "Yesterday";
  return (day.getFullYear() === now.getFullYear() ? dayFormat : yearDayFormat).format(day);
}

function daySeparator(key) {
  const li = document.createElement("li");
  li.className = "day";
  li.dataset.day = key;
  const time = document.createElement("time");
  time.dateTime = key;
  time.title = longDayFormat.format(dayOf(key));
  li.append(time);
  return li;
}

// markDays puts a separator naming the day (Today, Yesterday, Mon 30 Nov)
// before the first message of each day in list, and takes away those no
// longer first, as when older messages came in above them. Separators are
// <li class="day">, messages <li class="msg"> with their day in data-day.
// It also brings the labels up to date, so calling it after midnight
// turns Today into Yesterday.
export function markDays(list) {
  const now = new Date();
  let previous = null;
  let waiting = []; // the separators since the last message
  for (let node = list.firstElementChild; node !== null; ) {
    const next = node.nextElementSibling;
    if (node.classList.contains("day")) {
      waiting.push(node);
      node = next;
      continue;
    }
    const key = node.dataset.day;
    if (key !== undefined && key !== previous) {
      let sep = waiting.find((s) => s.dataset.day === key);
      if (sep === undefined) {
        sep = daySeparator(key);
        list.insertBefore(sep, node);
      }
      waiting = waiting.filter((s) => s !== sep);
      const label = dayLabel(key, now);
      if (sep.firstChild.textContent !== label) sep.firstChild.textContent = label;
      previous = key;
    }
    for (const s of waiting) s.remove();
    waiting = [];
    node = next;
  }
  for (const s of waiting) s.remove();
}

// firstMessage and lastMessage skip the day separators.
export function firstMessage(list) {
  return list.querySelector(":scope > .msg");
}

export function lastMessage(list) {
  let node = list.lastElementChild;
  while (node !== null && !node.classList.contains("msg")) node = node.previousElementSibling;
  return node;
}

// atBottom says whether scroller is within FOLLOW_SLACK pixels of its
// bottom: the reader is following the conversation, and new messages
// scroll into view; further up, they are reading older ones. A scroller
// that is not shown (a phone shows one part of the page at a time) is
// where it was when it was hidden (see hide).
const FOLLOW_SLACK = 48;
const hiddenAt = new WeakMap(); // scroller -> { top, bottom } when hidden
export function atBottom(scroller) {
  if (!shown(scroller)) return hiddenAt.get(scroller)?.bottom ?? true;
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= FOLLOW_SLACK;
}

// shown says whether an element is displayed: not in a part of the page
// that is hidden.
export function shown(node) {
  return node.getClientRects().length > 0;
}

// keepBottom keeps scroller at its bottom when it changes size (a window
// resized, a phone turned or its keyboard opened), if the reader was
// following it: they were at the bottom and have not scrolled up since. A
// scroller that grows taller by itself (narrower, its lines wrap) leaves
// the reader following; only scrolling up stops it.
const following = new WeakMap(); // scroller -> whether the reader follows its bottom
export function keepBottom(scroller) {
  following.set(scroller, true);
  let top = scroller.scrollTop;
  scroller.addEventListener(
    "scroll",
    () => {
      if (!shown(scroller)) return;
      if (atBottom(scroller)) following.set(scroller, true);
      else if (scroller.scrollTop < top) following.set(scroller, false);
      top = scroller.scrollTop;
    },
    { passive: true },
  );
  const pin = () => {
    if (following.get(scroller) && shown(scroller)) scroller.scrollTop = scroller.scrollHeight;
  };
  new ResizeObserver(pin).observe(scroller);
  // A window resized may move the scroller without changing its size (a
  // phone's browser lays the page out anew): the scroll event that follows
  // is not the reader's.
  window.addEventListener("resize", pin);
}

// hide notes where scroller is before the part of the page it is in is
// hidden, and unhide brings it back there once it is shown again: to the
// bottom, if it was there, whatever came in meanwhile. Where it was is
// where the reader last scrolled it: a resize whose keepBottom is still to
// come has not moved the reader.
export function hide(scroller) {
  if (!shown(scroller)) return;
  hiddenAt.set(scroller, { top: scroller.scrollTop, bottom: following.get(scroller) ?? atBottom(scroller) });
}

export function unhide(scroller) {
  const at = hiddenAt.get(scroller);
  if (at === undefined || !shown(scroller)) return;
  hiddenAt.delete(scroller);
  scroller.scrollTop = at.bottom ? scroller.scrollHeight : at.top;
}

// bubble makes one message of a list: its origin, "you" on the user's
// own, the labels that follow, when it was sent or received, and its text.
// Its day is in data-day, for markDays.
export function bubble(origin, own, labels, when, text) {
  const li = document.createElement("li");
  li.className = own ? "msg own" : "msg";
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.append(span("origin", origin));
  if (own) meta.append(span("you", "you"));
  meta.append(...labels);
  const time = timeOf(when);
  if (time) {
    meta.append(time);
    li.dataset.day = dayKey(new Date(when));
  }
  const p = document.createElement("p");
  p.className = "text";
  p.textContent = text;
  li.append(meta, p);
  return li;
}

// getPage reads one page of a history from the API: its messages, oldest
// first, and whether older ones remain (the answer's Link rel="prev").
export async function getPage(path) {
  let res;
  try {
    res = await fetch(path, { headers: { Accept: "application/json" } });
  } catch {
    throw new Error("Cannot reach the node. Is it still running?");
  }
  if (!res.ok) throw new Error("The node answered " + res.status + ".");
  const list = await res.json();
  return { list, older: /rel="prev"/.test(res.headers.get("Link") || "") };
}

// The reader is near the top of a history within NEAR_TOP pixels, and older
// messages are fetched before they get there.
const NEAR_TOP = 200;
const HISTORY_TEXT = {
  idle: "",
  loading: "Loading older messages…",
  begin: "Beginning of the history",
  error: "Could not load older messages. Scroll up to try again.",
};

// olderPages fetches older messages into list when the reader scrolls near
// the top of scroller: path(seq) is the page before the message seq, render
// makes an element of a message (with its seq in data-seq), took is told of
// the messages added. status says what is going on. The reader stays on the
// message they were looking at: the list grows above it, with its day
// separators (markDays).
export function olderPages({ scroller, list, status, path, render, took }) {
  let loading = false;
  let done = false;
  let failed = false;
  let generation = 0;

  function show(state) {
    status.dataset.state = state;
    status.textContent = HISTORY_TEXT[state];
    status.hidden = firstMessage(list) === null;
  }

  async function load() {
    const first = firstMessage(list);
    if (loading || done || first === null) return;
    const before = Number(first.dataset.seq);
    const mine = generation;
    loading = true;
    show("loading");
    let page;
    try {
      page = await getPage(path(before));
    } catch {
      if (mine !== generation) return;
      loading = false;
      failed = true;
      show("error");
      return;
    }
    // A reset meanwhile (a new stream, a trimmed list) makes the page
    // belong to a list no longer shown.
    if (mine !== generation) return;
    loading = false;
    const older = page.list.filter((m) => m.seq < before);
    if (older.length > 0) {
      took(older);
      // The first message, not the separator above it, which may go.
      const anchor = firstMessage(list);
      const top = anchor.getBoundingClientRect().top;
      // Old messages are not news: a screen reader is not to read out a
      // page of them.
      const live = list.getAttribute("aria-live");
      list.removeAttribute("aria-live");
      list.prepend(...older.map(render));
      markDays(list);
      if (live !== null) requestAnimationFrame(() => list.setAttribute("aria-live", live));
      // The new messages push the old ones down; scroll by as much, so
      // that what the reader sees does not move.
      scroller.scrollTop += anchor.getBoundingClientRect().top - top;
    }
    if (!page.older || older.length === 0) {
      done = true;
      show("begin");
      return;
    }
    show("idle");
    // A short page may leave the reader near the top still.
    check();
  }

  // check loads older messages if the reader is near the top, as after the
  // first messages came in a box that does not fill the screen. A box that
  // is not shown has no top to be near.
  function check() {
    status.hidden = firstMessage(list) === null;
    if (!failed && shown(scroller) && scroller.scrollTop < NEAR_TOP) load();
  }

  scroller.addEventListener(
    "scroll",
    () => {
      failed = false;
      check();
    },
    { passive: true },
  );

  return {
    check,
    // reset forgets what was fetched or found: the list was replaced or
    // cut at the top.
    reset() {
      generation++;
      loading = false;
      done = false;
      failed = false;
      show("idle");
    },
  };
}

export function showError(node, message) {
  node.textContent = message;
  node.hidden = !message;
}

// post sends body to the API and returns the decoded answer; it throws an
// Error that says what went wrong in words a user can act on.
export async function post(path, body) {
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
export async function busy(button, fn) {
  button.disabled = true;
  try {
    await fn();
  } finally {
    button.disabled = false;
  }
}

// messageBox makes Enter submit form (Shift+Enter starts a new line, and
// an input method's Enter stays its own), and lets the box grow with its
// text up to a few lines, then scroll. It returns the function that
// resizes the box, for when a script changes its text.
export function messageBox(textarea, form) {
  textarea.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  const autosize = () => {
    textarea.style.height = "auto";
    // The height includes the borders (box-sizing: border-box), which
    // scrollHeight leaves out.
    const borders = textarea.offsetHeight - textarea.clientHeight;
    textarea.style.height = Math.min(textarea.scrollHeight + borders, 160) + "px";
  };
  textarea.addEventListener("input", autosize);
  return autosize;
}

// sentOff removes text, just sent, from the start of what the box holds
// now, keeping anything typed while it was on its way.
export function sentOff(now, text) {
  return now.startsWith(text) ? now.slice(text.length) : now;
}
