// On a phone the page shows one part at a time, chosen in a tab bar at the
// bottom: Chat, Private, Files and Node (the ID and node boxes), each one
// tap away, with a count beside Chat and Private of what came in unseen.
// On a wider screen every part shows and the bar is hidden: style.css
// decides from the layout's data-tab what a phone shows.
import { $, hide, unhide } from "./common.js";

// The width under which the page is laid out for a phone, as in style.css.
const PHONE = "(max-width: 720px)";

// tabBar wires the tab bar. onShow(name, again) is called when a tab is
// chosen, again being true when it was the one shown already.
export function tabBar(onShow) {
  const layout = $("layout");
  const side = layout.querySelector(".side");
  const scrollers = [$("scroller"), $("private-scroller")];
  const tabs = new Map([...document.querySelectorAll("#tabs .tab")].map((b) => [b.dataset.tab, b]));
  const phone = window.matchMedia(PHONE);
  // The side column holds the boxes of three tabs, each scrolled its own
  // way: where it was in each is kept here.
  const sideTop = new Map();
  let current = layout.dataset.tab;

  function show(name) {
    if (!tabs.has(name)) return;
    if (name === current) {
      onShow(name, true);
      return;
    }
    // A part that is hidden forgets how far it was scrolled; the chats are
    // brought back where they were, at the bottom if they were there.
    for (const s of scrollers) hide(s);
    sideTop.set(current, side.scrollTop);
    current = name;
    layout.dataset.tab = name;
    for (const [n, b] of tabs) {
      if (n === name) b.setAttribute("aria-current", "page");
      else b.removeAttribute("aria-current");
    }
    for (const s of scrollers) unhide(s);
    side.scrollTop = sideTop.get(name) ?? 0;
    onShow(name, false);
  }

  for (const [name, b] of tabs) b.addEventListener("click", () => show(name));
  // From a phone's layout to a wide one, every part shows again.
  phone.addEventListener("change", () => {
    for (const s of scrollers) unhide(s);
    onShow(current, false);
  });

  return {
    show,
    // shows says whether a tab's part is on the screen: every part is on
    // a wide screen.
    shows: (name) => !phone.matches || current === name,
    // count shows n beside a tab, or nothing when n is 0; title says what
    // it counts.
    count(name, n, title) {
      const b = tabs.get(name);
      const badge = b.querySelector(".tab-count");
      badge.textContent = n > 0 ? String(n) : "";
      badge.hidden = n === 0;
      badge.title = n > 0 ? title : "";
    },
  };
}
