// The shoppers' app's shell: sign-in, the router, the network banner, sign-out, and the
// outbox kept sending. Works offline from what the last sync kept.

import { h, mount, announce, problemBox } from '/app/js/dom.js';
import * as api from '/app/js/api.js';
import * as db from './db.js';
import * as sync from './sync.js';
import * as outbox from './outbox.js';
import { signInPage, confirmDialog } from './session.js';
import { home, forgetSearch } from './home.js';
import * as report from './report.js';
import { t, choose } from './words.js';
import { speak } from './rules.js';

const main = document.getElementById('main');
const net = document.getElementById('net');
let me = null;
let picture = null;
let sequence = 0;
let leaving = [];

function showNetwork() {
  const offline = !navigator.onLine || api.isOffline();
  net.textContent = offline ? t('Offline: reports wait on this phone') : '';
  net.hidden = !offline;
}

async function refreshPicture(loud) {
  try {
    picture = await sync.pull();
    if (loud) announce(t('Up to date.'), 'success');
  } catch (error) {
    if (loud) announce(error.code === 'offline' ? t('No connection: showing what the phone kept.') : error.message, 'error');
  }
  showNetwork();
  if (onHome()) route();
}

function onHome() {
  const hash = window.location.hash;
  return main.dataset.page === 'home' && (hash === '' || hash === '#/' || hash === '#');
}

async function show(build, page) {
  const token = ++sequence;
  const view = await build();
  if (token !== sequence) return;
  mount(main, view);
  if (page) main.dataset.page = page;
}

async function route() {
  for (const fn of leaving.splice(0)) fn();
  const token = ++sequence;
  if (!api.hasSession() || !me) {
    me = null;
    renderWho();
    mount(main, await signInPage(signedIn));
    main.dataset.page = 'sign-in';
    document.title = `${t('Sign in')} · secondmile shopper`;
    return;
  }
  renderWho();
  if (!picture) picture = await sync.held();
  report.use({ picture, route, show, onLeave: (fn) => leaving.push(fn) });
  const [path, query] = (window.location.hash.slice(1) || '/').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query || '');
  try {
    let view;
    let page;
    if (parts[0] === 'new' && parts.length === 3) {
      await report.start(parts[1], parts[2], params);
      return;
    } else if (parts[0] === 'revise' && parts[1]) {
      await report.revise(parts[1]);
      return;
    } else if (parts[0] === 'report' && parts[1]) {
      view = await report.reportPage(parts[1]);
      page = view.id === 'receipt' ? 'receipt' : 'form';
    } else {
      view = await home({ picture, me, refresh: refreshPicture });
      page = 'home';
    }
    if (token !== sequence) return;
    mount(main, view);
    main.dataset.page = page;
    document.title = `${main.querySelector('h1') ? main.querySelector('h1').textContent : 'secondmile'} · secondmile shopper`;
    const heading = main.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  } catch (error) {
    if (token === sequence) mount(main, problemBox(error));
  }
}

function renderWho() {
  const who = document.getElementById('who');
  who.hidden = !me;
  if (!me) return;
  mount(who, h('span', {}, me.name), h('button', { type: 'button', class: 'quiet', id: 'sign-out', onclick: signOut }, t('Sign out')));
}

async function signedIn(user) {
  me = user;
  choose(me.preferred_language);
  picture = await sync.held();
  await refreshPicture(false);
  window.location.hash = '#/';
  await route();
  outbox.flush(true);
}

/** Signing out leaves nothing of the shopper on the phone; unsent reports only when confirmed. */
async function signOut() {
  const waiting = await outbox.unsent();
  if (waiting && !(await confirmDialog(
    waiting === 1 ? t('One report has not reached the server') : t('{n} reports have not reached the server', { n: waiting }),
    t('Signing out deletes everything of yours on this phone, these reports too. Stay signed in to send them first.'),
    t('Delete them and sign out'), t('Stay signed in'),
  ))) return;
  db.seal();
  for (const fn of leaving.splice(0)) fn();
  await db.clear();
  await api.signOut();
  me = null;
  picture = null;
  forgetSearch();
  choose(null);
  announce(t('Signed out. Nothing of yours is left on this phone.'));
  window.location.hash = '#/';
  route();
}

outbox.onChange(async (record) => {
  const hash = window.location.hash;
  if (onHome() || (main.dataset.page === 'receipt' && hash === `#/report/${record.id}`)) route();
  if (record.state === 'sent') refreshPicture(false);
});

window.addEventListener('online', () => { showNetwork(); outbox.flush(true); refreshPicture(false); });
window.addEventListener('offline', showNetwork);
api.onConnection(showNetwork);
api.onSessionEnd(async () => {
  me = null;
  const waiting = await outbox.unsent();
  mount(main, await signInPage(signedIn, `${t('Your session has ended; sign in again.')}${waiting ? ` ${t('{n} unsent reports stay on this phone and are sent once you do.', { n: waiting })}` : ''}`));
  main.dataset.page = 'sign-in';
  renderWho();
});
window.addEventListener('hashchange', route);

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js', { scope: './' }).catch((error) => console.warn('service worker', error));
}

(async () => {
  speak(t);
  me = api.hasSession() ? (await db.get('meta', 'me')) || null : null;
  choose(me && me.preferred_language);
  showNetwork();
  await route();
  if (me) {
    outbox.flush(true);
    refreshPicture(false);
  }
})();
