// Sending what was recorded on the phone. A finished report is kept with its body frozen
// (the same bytes on every retry, so the server's idempotency holds), sent when the network
// allows, and its files uploaded once the server has acknowledged it. Each step is written
// to IndexedDB before the next begins, so a reload or a closed tab resumes where it stopped.
// Retries follow the README: network errors, 408 and 5xx with exponential back-off and
// jitter (1 s, 2 s, 4 s … up to a minute), 429 and 503 never before their Retry-After, and
// no other 4xx retried unchanged (the shopper sees it and decides).

import * as api from '/app/js/api.js';
import * as db from './db.js';

const MAX_DELAY_S = 60;
const listeners = new Set();
let timer = null;
let running = null;

/** Called after each step, so the screen shows what is waiting, sent or refused. */
export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function changed(record) {
  for (const fn of listeners) fn(record);
}

function retryable(error) {
  return error.code === 'offline' || error.status === 408 || error.status === 429 || error.status >= 500;
}

function delay(error, attempts) {
  if (error.retryAfter !== null && error.retryAfter !== undefined) return error.retryAfter;
  const base = Math.min(MAX_DELAY_S, 2 ** Math.max(0, attempts - 1));
  return base * (0.5 + Math.random());
}

function refusal(error) {
  return {
    status: error.status,
    code: error.code || null,
    message: error.message,
    violations: error.violations || [],
  };
}

async function postpone(record, error) {
  record.attempts = (record.attempts || 0) + 1;
  record.next_at = Date.now() + delay(error, record.attempts) * 1000;
  record.last_error = error.code === 'offline' ? 'No connection.' : error.message;
  await db.put('reports', record);
  changed(record);
}

/** The report itself: POST (new) or PUT (a revision), the same body every time. */
async function sendReport(record) {
  const path = record.kind === 'revise' ? `reports/${record.id}` : 'reports';
  const method = record.kind === 'revise' ? 'PUT' : 'POST';
  const { data } = await api.call(path, { method, body: record.sent });
  record.answer = {
    status: data.status,
    revision: data.revision,
    score: data.score ? data.score.overall : null,
    mile_level: data.score ? data.score.mile_level : null,
    attachments: data.attachments,
  };
  record.state = 'uploading';
  record.attempts = 0;
  record.next_at = 0;
  record.last_error = null;
  record.acknowledged_at = new Date().toISOString();
  await db.put('reports', record);
  changed(record);
}

async function digest(blob) {
  if (!(crypto && crypto.subtle)) return null;
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  let text = '';
  for (const byte of hash) text += String.fromCharCode(byte);
  return `sha-256=:${btoa(text)}:`;
}

/** Each file the report names that is still on the phone and not yet received. */
async function uploadFiles(record) {
  const files = await db.filesOf(record.id);
  const named = new Set(record.file_ids || []);
  for (const file of files) {
    if (file.uploaded || !named.has(file.id)) continue;
    const headers = { 'content-type': file.blob.type || 'application/octet-stream' };
    const sum = await digest(file.blob);
    if (sum) headers['content-digest'] = sum;
    try {
      await api.call(`reports/${record.id}/attachments/${file.id}`, { method: 'PUT', raw: file.blob, headers });
      file.uploaded = true;
      file.error = null;
    } catch (error) {
      if (retryable(error)) throw error;
      file.error = refusal(error);
    }
    await db.put('files', file);
    changed(record);
  }
  const left = files.filter((f) => named.has(f.id) && !f.uploaded);
  record.state = left.length ? 'refused' : 'sent';
  if (left.length) {
    record.error = { status: 0, code: 'file_refused', message: 'The report arrived, but the server refused a file.', violations: [] };
  } else {
    record.sent_at = new Date().toISOString();
    record.error = null;
  }
  await db.put('reports', record);
  changed(record);
}

async function step(record) {
  try {
    if (record.state === 'waiting') await sendReport(record);
    if (record.state === 'uploading') await uploadFiles(record);
  } catch (error) {
    if (error.status === 401) throw error;
    if (retryable(error)) {
      await postpone(record, error);
      return;
    }
    // Refused: kept, shown with the server's words; the shopper corrects it or deletes it.
    record.state = 'refused';
    record.error = refusal(error);
    record.attempts = 0;
    await db.put('reports', record);
    changed(record);
  }
}

async function pass(force) {
  const records = (await db.all('reports'))
    .filter((r) => r.state === 'waiting' || r.state === 'uploading')
    .sort((a, b) => (a.queued_at || '').localeCompare(b.queued_at || ''));
  let sent = 0;
  for (const record of records) {
    if (!force && record.next_at && record.next_at > Date.now()) continue;
    if (!api.hasSession()) return sent;
    await step(record);
    if (record.state === 'sent') sent += 1;
  }
  return sent;
}

function schedule() {
  clearTimeout(timer);
  db.all('reports').then((records) => {
    const due = records.filter((r) => r.state === 'waiting' || r.state === 'uploading')
      .map((r) => r.next_at || 0);
    if (!due.length) return;
    const wait = Math.max(0, Math.min(...due) - Date.now());
    timer = setTimeout(() => flush(), Math.min(wait, MAX_DELAY_S * 1000) + 50);
  });
}

/**
 * Sends whatever is due (everything when `force`, as when the network returns). One pass at a
 * time in this tab, and one across tabs where the browser has Web Locks. Answers how many
 * reports were completed.
 */
export function flush(force = false) {
  if (running) return running.then(() => (force ? flush(true) : 0));
  const work = () => pass(force);
  running = (navigator.locks ? navigator.locks.request('secondmile-shop-outbox', work) : work())
    .catch((error) => { if (error.status !== 401) console.warn('outbox', error); return 0; })
    .finally(() => { running = null; schedule(); });
  return running;
}

/** How many reports are on the phone and not yet wholly with the server. */
export async function unsent() {
  return (await db.all('reports')).filter((r) => r.state !== 'sent').length;
}
