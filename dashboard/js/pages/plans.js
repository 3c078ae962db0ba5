// Action plans: the list (a manager's own stores', HQ's all, overdue ones on request) and one
// plan: why it opened, its causes and actions with owners and due dates, the baseline before
// it against the follow-up since it was done, and what the reader may do next: the store's
// manager (or an admin) writes the plan and marks actions done; HQ verifies it or reopens it.

import { h, mount, announce, problemBox } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../fmt.js';
import * as explain from '../explain.js';
import { link } from '../route.js';
import { scroller, section, verdictBadge } from '../widgets.js';

const CAUSE = { zero_mile: 'Zero-mile verdict', critical_failure: 'Critical failure', manual: 'Opened by HQ' };
const STATUS = {
  open: 'Open: waiting for its plan',
  planned: 'Planned: actions under way',
  done: 'Done: waiting for HQ to verify',
  verified: 'Verified',
  reopened: 'Reopened: needs a new plan',
};

export async function planList(ctx) {
  const { me, params } = ctx;
  const overdue = params.get('overdue') === 'true';
  const plans = await api.all('action-plans', overdue ? { overdue: true } : {}, 5);
  const rows = plans.items.map((p) => h('tr', { dataset: { plan: p.id } },
    h('th', { scope: 'row' }, h('a', { href: link('plan', p.id) }, p.location.name), h('div', { class: 'muted small' }, p.location.code)),
    h('td', {}, CAUSE[p.cause] || p.cause),
    h('td', {}, STATUS[p.status] || p.status),
    h('td', { class: 'num' }, `${p.actions.filter((a) => a.done_at).length} / ${p.actions.length}`),
    h('td', {}, p.overdue ? h('span', { class: 'flag' }, 'overdue') : h('span', { class: 'muted' }, '—')),
    h('td', {}, fmt.date(p.opened_at.slice(0, 10)))));
  const tabs = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Plans shown' },
    h('a', { href: link('plans'), 'aria-current': overdue ? null : 'true' }, 'All'),
    h('a', { href: link('plans', null, { overdue: 'true' }), 'aria-current': overdue ? 'true' : null }, 'Overdue'));
  return h('div', { class: 'page' },
    h('h1', {}, me.role === 'manager' ? 'Your action plans' : 'Action plans'),
    tabs,
    h('p', { class: 'muted' }, plans.items.length ? `${fmt.int(plans.items.length)}${plans.complete ? '' : '+'} plans, newest first.` : 'No action plan here.'),
    plans.items.length ? scroller(h('table', { class: 'grid', id: 'plans' },
      h('thead', {}, h('tr', {}, ['Location', 'Why', 'Status', 'Actions done', 'Overdue', 'Opened'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)), 'Action plans') : null);
}

/** The plan form: the causes and one row per action (a new row as the last one is used). */
function planForm(plan, done) {
  const result = h('div', { id: 'plan-result' });
  const causes = h('textarea', { id: 'plan-causes', name: 'causes', rows: 3, maxlength: 4000 }, plan.causes || '');
  const list = h('ol', { class: 'action-rows', id: 'action-rows' });
  const today = new Date().toISOString().slice(0, 10);
  const addRow = (a = {}) => {
    const n = list.children.length + 1;
    list.append(h('li', {},
      h('span', { class: 'field' }, h('label', { for: `action-${n}-description` }, `Action ${n}`),
        h('input', { id: `action-${n}-description`, name: 'description', maxlength: 500, value: a.description || '' })),
      h('span', { class: 'field' }, h('label', { for: `action-${n}-owner` }, 'Owner'),
        h('input', { id: `action-${n}-owner`, name: 'owner', maxlength: 100, value: a.owner || '' })),
      h('span', { class: 'field' }, h('label', { for: `action-${n}-due` }, 'Due'),
        h('input', { id: `action-${n}-due`, name: 'due_on', type: 'date', min: today, value: a.due_on || '' }))));
  };
  for (const a of plan.actions) addRow(a);
  if (!plan.actions.length) addRow();
  const more = h('button', { type: 'button', id: 'add-action', onclick: () => { if (list.children.length < 20) addRow(); } }, 'Add an action');
  const form = h('form', { class: 'panel plan-form', id: 'plan-form', novalidate: true },
    h('h2', {}, plan.actions.length ? 'Change the plan' : 'Write the plan'),
    h('label', { for: 'plan-causes' }, 'What causes the problem'),
    causes,
    list,
    h('div', { class: 'actions' }, more, h('button', { type: 'submit', class: 'primary', id: 'plan-submit' }, 'Save the plan')),
    result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const actions = [...list.children].map((li) => ({
      description: li.querySelector('[name=description]').value.trim(),
      owner: li.querySelector('[name=owner]').value.trim(),
      due_on: li.querySelector('[name=due_on]').value,
    })).filter((a) => a.description || a.owner || a.due_on);
    const button = form.querySelector('#plan-submit');
    button.disabled = true;
    try {
      await api.call(`action-plans/${encodeURIComponent(plan.id)}/plan`, { method: 'PUT', body: { causes: causes.value.trim(), actions } });
      announce('The plan was saved.', 'success');
      done();
    } catch (e) {
      mount(result, problemBox(e));
      button.disabled = false;
    }
  });
  return form;
}

function figuresRow(label, period) {
  if (!period) return h('tr', {}, h('th', { scope: 'row' }, label), h('td', { colspan: 4, class: 'muted' }, 'once the plan is done'));
  const f = period.figures;
  return h('tr', {},
    h('th', { scope: 'row' }, label, h('div', { class: 'muted small' }, `${fmt.date(period.from)} – ${fmt.date(period.to)}`)),
    h('td', { class: 'num' }, fmt.int(f.visits)),
    h('td', { class: 'num' }, fmt.score(f.mean_score)),
    h('td', { class: 'num' }, fmt.pct(f.zero_mile.rate)),
    h('td', {}, verdictBadge(f.verdict)));
}

export async function planPage(ctx) {
  const { me, arg: id } = ctx;
  const plan = await api.get(`action-plans/${encodeURIComponent(id)}`);
  const writes = ['admin', 'manager'].includes(me.role);
  const reviews = ['admin', 'reviewer', 'analyst'].includes(me.role);
  const plannable = ['open', 'planned', 'reopened'].includes(plan.status);
  const result = h('div', { id: 'plan-action-result' });
  const actionRows = plan.actions.map((a) => {
    const done = plan.status === 'planned' && writes && !a.done_at
      ? h('button', { type: 'button', id: `done-${a.number}`, onclick: async (event) => {
        event.target.disabled = true;
        try {
          await api.call(`action-plans/${encodeURIComponent(id)}/actions/${a.number}/done`, { method: 'POST', body: {} });
          announce(`Action ${a.number} is done.`, 'success');
          ctx.refresh();
        } catch (e) {
          mount(result, problemBox(e));
          event.target.disabled = false;
        }
      } }, 'Mark done')
      : null;
    return h('tr', { dataset: { action: a.number } },
      h('td', { class: 'num' }, a.number),
      h('th', { scope: 'row' }, a.description, a.done_note ? h('div', { class: 'muted small' }, a.done_note) : null),
      h('td', {}, a.owner),
      h('td', {}, fmt.date(a.due_on)),
      h('td', {}, a.done_at ? `done ${fmt.date(a.done_at.slice(0, 10))}` : a.overdue ? h('span', { class: 'flag' }, 'overdue') : 'to do', ' ', done));
  });
  let review = null;
  if (reviews && plan.status === 'done') {
    const note = h('textarea', { id: 'review-note', rows: 2, maxlength: 2000 });
    const decide = async (decision) => {
      try {
        await api.call(`action-plans/${encodeURIComponent(id)}/review`, { method: 'POST', body: { decision, note: note.value.trim() || undefined } });
        announce(decision === 'verify' ? 'The plan is verified.' : 'The plan was reopened.', 'success');
        ctx.refresh();
      } catch (e) {
        mount(result, problemBox(e));
      }
    };
    review = h('section', { class: 'panel decide' }, h('h2', {}, 'Did it work?'),
      h('label', { for: 'review-note' }, 'Note (optional)'), note,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', id: 'verify-plan', onclick: () => decide('verify') }, 'Verify'),
        h('button', { type: 'button', id: 'reopen-plan', onclick: () => decide('reopen') }, 'Reopen')));
  }
  const c = plan.changes;
  return h('div', { class: 'page plan' },
    h('p', { class: 'crumbs' }, h('a', { href: link('plans') }, '← Action plans'), ' · ',
      h('a', { href: link('location', plan.location.id) }, plan.location.name)),
    h('h1', { id: 'plan-title' }, `Action plan: ${plan.location.name}`),
    h('p', { class: 'muted' }, `${CAUSE[plan.cause] || plan.cause} · opened ${fmt.dateTime(plan.opened_at)} · `, h('strong', { id: 'plan-status' }, STATUS[plan.status] || plan.status)),
    plan.summary ? h('p', {}, plan.summary) : null,
    plan.causes ? section('Causes', h('p', { class: 'narrative' }, plan.causes)) : null,
    section('Actions', plan.actions.length ? scroller(h('table', { class: 'grid', id: 'plan-actions' },
      h('thead', {}, h('tr', {}, ['#', 'Action', 'Owner', 'Due', 'State'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, actionRows)), 'Actions') : h('p', { class: 'muted' }, 'No action planned yet.'), result),
    writes && plannable ? planForm(plan, () => ctx.refresh()) : null,
    review,
    section('Before and after', scroller(h('table', { class: 'grid', id: 'plan-figures' },
      h('thead', {}, h('tr', {}, ['Period', 'Visits', 'Mean (0–100)', 'Zero mile', 'Verdict'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, figuresRow('Baseline: 90 days before it opened', plan.baseline), figuresRow('Follow-up: since it was done', plan.follow_up))), 'Before and after'),
    c ? h('p', { id: 'plan-change' }, `Mean ${explain.change(c.mean_score, 'points')}; zero-mile rate ${explain.change(c.zero_mile_rate, 'rate')}.`) : null),
    plan.review_note ? section('HQ\'s note', h('blockquote', {}, plan.review_note)) : null);
}
