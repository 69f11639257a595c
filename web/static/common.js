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
