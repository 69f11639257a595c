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

// atBottom says whether scroller is within FOLLOW_SLACK pixels of its
// bottom: the reader is following the conversation, and new messages
// scroll into view; further up, they are reading older ones.
const FOLLOW_SLACK = 48;
export function atBottom(scroller) {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= FOLLOW_SLACK;
}

// bubble makes one message of a list: its origin, "you" on the user's
// own, the labels that follow, when it was sent or received, and its text.
export function bubble(origin, own, labels, when, text) {
  const li = document.createElement("li");
  li.className = own ? "msg own" : "msg";
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.append(span("origin", origin));
  if (own) meta.append(span("you", "you"));
  meta.append(...labels);
  const time = timeOf(when);
  if (time) meta.append(time);
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
// message they were looking at: the list grows above it.
export function olderPages({ scroller, list, status, path, render, took }) {
  let loading = false;
  let done = false;
  let failed = false;
  let generation = 0;

  function show(state) {
    status.dataset.state = state;
    status.textContent = HISTORY_TEXT[state];
    status.hidden = list.firstElementChild === null;
  }

  async function load() {
    const first = list.firstElementChild;
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
      const anchor = list.firstElementChild;
      const top = anchor.getBoundingClientRect().top;
      // Old messages are not news: a screen reader is not to read out a
      // page of them.
      const live = list.getAttribute("aria-live");
      list.removeAttribute("aria-live");
      list.prepend(...older.map(render));
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
  // first messages came in a box that does not fill the screen.
  function check() {
    status.hidden = list.firstElementChild === null;
    if (!failed && scroller.scrollTop < NEAR_TOP) load();
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
