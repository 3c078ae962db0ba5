// The shoppers' app's service worker: it keeps the app shell (its pages, styles and modules)
// so the app opens without a network. The server writes VERSION and SHELL in front of this
// file: a new binary with other files is a new worker, which caches the new shell and drops
// the old one. API calls are never cached here: the app keeps its data in IndexedDB.
/* global VERSION, SHELL */

const CACHE = `secondmile-shop-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('secondmile-shop-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !SHELL.includes(url.pathname)) return;
  // The shell from the cache (it changes only with a new worker); the network if missing.
  event.respondWith(caches.open(CACHE)
    .then((cache) => cache.match(url.pathname))
    .then((hit) => hit || fetch(request)));
});
