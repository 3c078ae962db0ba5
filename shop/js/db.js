// What the app keeps on the phone, in IndexedDB: the last sync (questionnaires, assignments,
// stores, the shopper's reports), the reports recorded here (drafts, waiting, sent) and their
// files. Everything belongs to the shopper named in `meta.owner`; signing out clears it all.

const NAME = 'secondmile-shop';
const STORES = ['meta', 'reports', 'files'];
let opened = null;
// Once a shopper signs out, nothing in flight (a sync answer, an upload's outcome) may write
// their data back: writes are dropped until the next shopper signs in.
let sealed = false;

export function seal() {
  sealed = true;
}

export function unseal() {
  sealed = false;
}

function open() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const request = indexedDB.open(NAME, 1);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore('meta');
        db.createObjectStore('reports', { keyPath: 'id' });
        db.createObjectStore('files', { keyPath: 'id' }).createIndex('report', 'report_id');
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opened;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(store, mode, fn) {
  const db = await open();
  const tx = db.transaction(store, mode);
  const result = fn(tx.objectStore(store));
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('The phone refused to save (is its storage full?).'));
  });
  return result instanceof IDBRequest ? result.result : result;
}

export function get(store, key) {
  return run(store, 'readonly', (s) => s.get(key));
}

/** `meta` takes a key; the other stores read it from the value. */
export function put(store, value, key) {
  if (sealed) return Promise.resolve();
  return run(store, 'readwrite', (s) => (key === undefined ? s.put(value) : s.put(value, key)));
}

export function remove(store, key) {
  return run(store, 'readwrite', (s) => s.delete(key));
}

export function all(store) {
  return run(store, 'readonly', (s) => s.getAll());
}

export async function filesOf(reportId) {
  const db = await open();
  return done(db.transaction('files').objectStore('files').index('report').getAll(reportId));
}

/** A report and its files go together (a report deleted here leaves no photo behind). */
export async function removeReport(id) {
  const db = await open();
  const tx = db.transaction(['reports', 'files'], 'readwrite');
  tx.objectStore('reports').delete(id);
  const files = tx.objectStore('files');
  const keys = await done(files.index('report').getAllKeys(id));
  for (const key of keys) files.delete(key);
  return new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
}

/** Everything kept, gone (sign-out). */
export async function clear() {
  const db = await open();
  const tx = db.transaction(STORES, 'readwrite');
  for (const name of STORES) tx.objectStore(name).clear();
  return new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
}
