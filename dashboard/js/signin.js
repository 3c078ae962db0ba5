// The sign-in form both web apps use (the dashboard and the shoppers' app): email and
// password through the password grant, and a choice of organization when the same email
// and password open accounts in several.

import { h, mount, problemBox } from './dom.js';
import * as api from './api.js';

/**
 * The form. `intro` says who it is for; `reason` why it is shown (a session that ended);
 * `signedIn(error)` runs once the API has answered with tokens: it may put a message in the
 * `error` element (and sign out again) or go on. `t` puts the form's words in the reader's
 * language (the shoppers' app); by default they are English.
 */
export function signInForm({ intro, reason, signedIn, t = (text) => text }) {
  const error = h('div', { id: 'sign-in-error' });
  const organization = h('div', { id: 'organization-choice' });
  const form = h('form', { class: 'panel sign-in', id: 'sign-in', novalidate: true },
    h('h1', {}, t('Sign in')),
    h('p', { class: 'muted' }, intro),
    reason ? h('p', { class: 'notice' }, reason) : null,
    h('label', { for: 'email' }, t('Email')),
    h('input', { id: 'email', name: 'username', type: 'email', autocomplete: 'username', required: true, maxlength: 254 }),
    h('label', { for: 'password' }, t('Password')),
    h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 1024 }),
    organization,
    h('button', { type: 'submit', class: 'primary' }, t('Sign in')),
    error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const username = String(data.get('username') || '').trim();
    const password = String(data.get('password') || '');
    if (!username || !password) {
      mount(error, problemBox({ message: t('Enter your email and password.') }));
      return;
    }
    mount(error);
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await api.signIn(username, password, data.get('organization'));
      await signedIn(error);
    } catch (e) {
      if (e.code === 'organization_required') {
        // The same email and password open accounts in several organizations: choose one.
        mount(organization,
          h('label', { for: 'organization' }, t('Organization')),
          h('select', { id: 'organization', name: 'organization' },
            e.violations.map((v) => {
              const [id, ...name] = v.message.split(': ');
              return h('option', { value: id }, name.join(': ') || id);
            })));
        mount(error, h('p', { class: 'notice' }, t('This email has accounts in several organizations; choose one.')));
      } else {
        mount(error, problemBox(e.code === 'offline' ? { message: t('Signing in needs a connection.') } : e));
      }
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
