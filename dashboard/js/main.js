// The dashboard's shell: sign-in, the navigation each role gets, and the hash router.

import { h, mount, announce, problemBox } from './dom.js';
import * as api from './api.js';
import { link, parseHash } from './route.js';
import { signInForm } from './signin.js';
import overview from './pages/overview.js';
import leaderboard from './pages/leaderboard.js';
import location, { missedVisits } from './pages/location.js';
import reportPage from './pages/report.js';
import compare from './pages/compare.js';
import { planList, planPage } from './pages/plans.js';
import { appealQueue, appealPage } from './pages/appeals.js';
import { queue, reviewReport } from './pages/queue.js';

const HQ = ['admin', 'analyst', 'manager', 'reviewer'];
const FIGURES = HQ;
const DECIDE = ['admin', 'reviewer'];
// `parent`: the navigation entry a page belongs to.
const PAGES = {
  overview: { title: 'Overview', render: overview, roles: FIGURES, nav: true },
  leaderboard: { title: 'Leaderboard', render: leaderboard, roles: FIGURES, nav: true },
  location: { title: 'Location', render: location, roles: FIGURES, parent: 'leaderboard' },
  visits: { title: 'Visits', render: missedVisits, roles: FIGURES, parent: 'leaderboard' },
  compare: { title: 'Compare', render: compare, roles: FIGURES, nav: true },
  plans: { title: 'Action plans', render: planList, roles: HQ, nav: true },
  plan: { title: 'Action plan', render: planPage, roles: HQ, parent: 'plans' },
  report: { title: 'Report', render: reportPage, roles: HQ },
  queue: { title: 'Review queue', render: (ctx) => (ctx.arg ? reviewReport(ctx) : queue(ctx)), roles: DECIDE, nav: true },
  appeals: { title: 'Appeals', render: appealQueue, roles: DECIDE, nav: true },
  appeal: { title: 'Appeal', render: appealPage, roles: DECIDE, parent: 'appeals' },
};

const main = document.getElementById('main');
let me = null;
let sequence = 0;
let cleanups = [];

function home() {
  return me && me.role === 'reviewer' ? 'queue' : 'overview';
}


function renderChrome() {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  const signedIn = me !== null;
  nav.hidden = !signedIn;
  who.hidden = !signedIn;
  if (!signedIn) return;
  const current = parseHash().page || home();
  const usable = me.kind === 'user' && HQ.includes(me.role);
  mount(nav, usable ? Object.entries(PAGES)
    .filter(([, page]) => page.nav && page.roles.includes(me.role))
    .map(([name, page]) => h('a', {
      href: link(name),
      'aria-current': name === current || (PAGES[current] && PAGES[current].parent === name) ? 'page' : null,
    }, page.title)) : []);
  mount(who,
    h('span', { class: 'name' }, me.name, ' ', h('span', { class: 'role' }, me.role || me.kind), ' · ', me.organization.name),
    h('button', { type: 'button', class: 'quiet', id: 'sign-out', onclick: signOut }, 'Sign out'));
}

async function signOut() {
  await api.signOut();
  me = null;
  announce('Signed out.');
  window.location.hash = '#/';
  route();
}

function signInPage(reason) {
  return signInForm({
    intro: 'Programme results for HQ, analysts, franchise managers and reviewers.',
    reason,
    signedIn: () => route(),
  });
}

function notForYou() {
  return h('section', { class: 'panel', id: 'not-for-you' },
    h('h1', {}, 'This dashboard is not for shoppers'),
    h('p', {}, me.kind === 'user'
      ? `You are signed in as a ${me.role}. The dashboard shows programme results to HQ, analysts, franchise managers and reviewers; shoppers submit their visits from the mobile app, where their assignments and reports are.`
      : 'Integration clients use the API directly; see the API documentation.'),
    h('p', {}, h('a', { href: '/docs/' }, 'API documentation')));
}

async function route() {
  const token = ++sequence;
  for (const fn of cleanups) fn();
  cleanups = [];
  // A message of the page left behind (a sort) does not follow to the next, unless it was
  // said just now: the outcome of what moved here (a decision, a saved plan).
  if (Date.now() - (announce.at || 0) > 1500) announce('');
  if (!api.hasSession()) {
    me = null;
    renderChrome();
    document.title = 'Sign in · secondmile';
    mount(main, signInPage());
    main.querySelector('#email').focus();
    return;
  }
  if (!me) {
    try {
      me = await api.get('me');
    } catch (e) {
      if (token === sequence && api.hasSession()) mount(main, problemBox(e));
      return;
    }
  }
  renderChrome();
  if (me.kind !== 'user' || !HQ.includes(me.role)) {
    document.title = 'secondmile';
    mount(main, notForYou());
    return;
  }
  const { page, arg, params } = parseHash();
  const def = PAGES[page];
  if (!def || !def.roles.includes(me.role)) {
    window.location.replace(link(home()));
    return;
  }
  document.title = `${def.title} · secondmile`;
  const previous = main.dataset.page ? [...main.childNodes] : null;
  if (!api.isOffline()) mount(main, h('p', { class: 'loading' }, 'Loading…'));
  const ctx = {
    me,
    arg,
    params,
    current: () => token === sequence,
    onLeave: (fn) => cleanups.push(fn),
    refresh: () => route(),
  };
  try {
    const view = await def.render(ctx);
    if (token !== sequence) return;
    mount(main, view);
    main.dataset.page = page;
    const heading = main.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  } catch (e) {
    if (token !== sequence || !api.hasSession()) return;
    if (e.code === 'offline') {
      // The last view stays readable under the banner; the page is tried again on reconnect.
      if (previous) {
        mount(main, previous);
        return;
      }
      mount(main, h('section', { class: 'panel', id: 'offline-page' }, h('h1', {}, 'Not loaded'),
        h('p', {}, 'The server cannot be reached, and this page was not loaded before. It loads as soon as the server answers again.')));
      return;
    }
    mount(main, problemBox(e));
  }
}

// The server cannot be reached: a banner says so, what is shown stays, and the page is
// loaded again once the server answers.
const banner = h('div', { id: 'offline', class: 'offline', role: 'alert', hidden: true });
document.body.insertBefore(banner, document.getElementById('status'));
let probe = null;
api.onConnection((online, at) => {
  banner.hidden = online;
  if (!online) {
    mount(banner, h('strong', {}, 'The server cannot be reached.'),
      ` What you see was loaded ${at ? `at ${new Date(at).toLocaleTimeString()}` : 'earlier'}; this page reloads when the connection returns.`,
      ' ', h('button', { type: 'button', id: 'retry', onclick: () => route() }, 'Try again'));
    if (!probe) {
      probe = setInterval(async () => {
        if (await api.reachable()) {
          clearInterval(probe);
          probe = null;
          banner.hidden = true;
          route();
        }
      }, 5000);
    }
  }
});
window.addEventListener('online', () => route());

api.onSessionEnd(() => {
  // The page that was open stops listening (its keyboard shortcuts among them).
  sequence += 1;
  for (const fn of cleanups) fn();
  cleanups = [];
  me = null;
  renderChrome();
  mount(main, signInPage('Your session has ended; sign in again.'));
});

window.addEventListener('hashchange', route);
route();
