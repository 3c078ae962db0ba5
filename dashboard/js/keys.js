// Keyboard shortcuts of a page: listened to while the page is shown, never while typing.

/** Whether a key went to a field being typed in. */
export function typing(event) {
  const t = event.target;
  return t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
}

/** Calls `handler` on each key pressed while the page of `ctx` is the current one. */
export function shortcuts(ctx, handler) {
  const listener = (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || !ctx.current()) return;
    handler(event);
  };
  document.addEventListener('keydown', listener);
  ctx.onLeave(() => document.removeEventListener('keydown', listener));
}

/** j / k (or the arrow keys) move the focus along the links of `selector`; Enter opens one. */
export function listKeys(ctx, selector) {
  shortcuts(ctx, (event) => {
    if (typing(event)) return;
    const links = [...document.querySelectorAll(selector)];
    if (!links.length) return;
    const at = links.indexOf(document.activeElement);
    if (event.key === 'j' || event.key === 'ArrowDown') {
      event.preventDefault();
      links[Math.min(links.length - 1, at + 1)].focus();
    } else if (event.key === 'k' || event.key === 'ArrowUp') {
      event.preventDefault();
      links[Math.max(0, at - 1)].focus();
    }
  });
}
