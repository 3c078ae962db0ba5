// Pages live in the URL's fragment: #/page/argument?filters, so a view can be bookmarked.

export function parseHash() {
  const raw = window.location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || '', arg: parts[1] || null, params: new URLSearchParams(query) };
}

export function link(page, arg = null, params = {}) {
  let text = `#/${page}`;
  if (arg) text += `/${encodeURIComponent(arg)}`;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(name, value);
  }
  const q = query.toString();
  return q ? `${text}?${q}` : text;
}
