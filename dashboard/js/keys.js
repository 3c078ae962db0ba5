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
