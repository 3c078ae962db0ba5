// Signing in (as a shopper: other roles are sent to the dashboard), the phone's owner (a
// shared phone never shows one shopper's reports to another), and the app's confirmations.

import { h, mount } from '/app/js/dom.js';
import { signInForm } from '/app/js/signin.js';
import * as api from '/app/js/api.js';
import * as db from './db.js';
import * as outbox from './outbox.js';
import { t } from './words.js';

/**
 * A modal dialog: a title, its content and its choices ({ value, label, kind, id, ready }).
 * A choice whose `ready()` answers false keeps the dialog open. Answers the value chosen, or
 * null for Esc. `focus` is the element focused first.
 */
export function modal({ id, title, content, choices, focus }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', id, 'aria-labelledby': `${id}-title` },
      h('h2', { id: `${id}-title` }, title),
      content,
      h('div', { class: 'actions' }, choices.map((choice) => h('button', {
        type: 'button', class: choice.kind, id: choice.id,
        onclick: () => { if (!choice.ready || choice.ready()) dialog.close(choice.value); },
      }, choice.label))));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(choices.some((c) => c.value === dialog.returnValue) ? dialog.returnValue : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    (focus || dialog.querySelector('button:last-child')).focus();
  });
}

/** A question; answers true when the first (destructive) choice is taken. */
export async function confirmDialog(title, text, yes, no) {
  const chosen = await modal({
    id: 'confirm',
    title,
    content: h('p', {}, text),
    choices: [
      { value: 'yes', label: yes, kind: 'danger', id: 'confirm-yes' },
      { value: 'no', label: no, kind: 'primary', id: 'confirm-no' },
    ],
  });
  return chosen === 'yes';
}

/** The phone is handed to `me`: another shopper's data goes first (their unsent reports only
 * when confirmed). Answers false when the shopper chose to keep them (and is signed out). */
async function takeOver(me) {
  db.unseal();
  const owner = await db.get('meta', 'owner');
  if (owner && owner !== me.id) {
    const waiting = await outbox.unsent();
    if (waiting && !(await confirmDialog(
      t('This phone holds another shopper’s unsent reports'),
      waiting === 1 ? t('One report of the shopper who used the app before you never reached the server. Only they can send them. Signing in deletes them.')
        : t('{n} reports of the shopper who used the app before you never reached the server. Only they can send them. Signing in deletes them.', { n: waiting }),
      t('Delete them and sign in'), t('Keep them'),
    ))) return false;
    await db.clear();
  }
  await db.put('meta', me.id, 'owner');
  await db.put('meta', me, 'me');
  return true;
}

/** The sign-in page; `done(me)` once a shopper is in. */
export async function signInPage(done, reason) {
  return signInForm({
    intro: t('For mystery shoppers: your visits, the questionnaires and your reports, also without a network.'),
    reason,
    t,
    signedIn: async (error) => {
      const me = await api.get('me');
      if (me.kind !== 'user' || me.role !== 'shopper') {
        await api.signOut();
        mount(error, h('div', { class: 'panel notice', id: 'not-a-shopper' },
          h('p', {}, t('This app is for shoppers; you are signed up as {role}. ', { role: me.role || me.kind }),
            h('a', { href: '/app/' }, t('The HQ dashboard')), t(' is yours.'))));
        return;
      }
      if (!(await takeOver(me))) {
        await api.signOut();
        mount(error, h('p', { class: 'notice' }, t('Not signed in: the other shopper’s reports are kept.')));
        return;
      }
      await done(me);
    },
  });
}
