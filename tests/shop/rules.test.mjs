// The shoppers' app's own checks (shop/js/rules.js), run by Node's test runner:
//   node --test tests/shop/
// They must agree with the server: questions shown as the server decides it, the body the
// server is sent, and each server pointer placed on the question it names.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// The browser loads rules.js as a module; Node, without a package.json saying so, would not:
// it is read from a copy named .mjs (it imports nothing).
const copy = join(mkdtempSync(join(tmpdir(), 'shop-rules-')), 'rules.mjs');
writeFileSync(copy, readFileSync(new URL('../../shop/js/rules.js', import.meta.url)));
const { visibility, check, body, place, withOffset, questions } = await import(pathToFileURL(copy).href);

const storeVisit = {
  ...JSON.parse(readFileSync(new URL('../../examples/questionnaire.json', import.meta.url))),
  id: 'q1', language: 'en',
};

const chained = {
  id: 'q2', language: 'de',
  sections: [{
    key: 's', title: 'S', questions: [
      { key: 'kind', type: 'multi_choice', text: 'Kind', options: [{ value: 'a' }, { value: 'b' }] },
      { key: 'level', type: 'scale', min: 1, max: 5, text: 'Level', show_if: { question: 'kind', equals: ['b'] } },
      { key: 'why', type: 'text', text: 'Why', max_length: 5, show_if: { question: 'level', equals: [1, 2] } },
      { key: 'count', type: 'number', text: 'Count', min: 0, max: 10, required: false },
      { key: 'wait', type: 'duration_seconds', text: 'Wait', na_allowed: true },
    ],
  }],
};

function record(answers, extra = {}) {
  return {
    id: 'r1', location_id: 'l1', questionnaire_id: 'q1', answers, narrative: '', staff: [], kept: [],
    check_in: null, receipt: null, started: '2026-03-01T10:00', ended: '2026-03-01T10:20', ...extra,
  };
}

test('a condition follows the answer, and a hidden question hides the ones that depend on it', () => {
  assert.equal(visibility(storeVisit, {}).protocol, false);
  assert.equal(visibility(storeVisit, { had_issue: { value: 'yes' } }).protocol, true);
  assert.equal(visibility(storeVisit, { had_issue: { value: 'no' } }).protocol, false);
  assert.equal(visibility(storeVisit, { companion: { value: 'child' } }).personal_touch, true);
  // Multi-choice: any chosen value; numbers compare as numbers; a chain hides with its source.
  assert.equal(visibility(chained, { kind: { value: ['a', 'b'] }, level: { value: 2 } }).why, true);
  assert.equal(visibility(chained, { kind: { value: ['a'] }, level: { value: 2 } }).why, false);
  assert.equal(visibility(chained, { kind: { value: ['b'] }, level: { na: true } }).why, false);
});

test('every visible required answer is asked for, ranges and lengths are checked, hidden ones are not', () => {
  const problems = check(record({}), storeVisit, new Map());
  const required = questions(storeVisit).filter((q) => q.required !== false && !q.show_if).map((q) => q.key);
  for (const key of required) assert.ok(problems[key], key);
  assert.equal(problems.protocol, undefined);
  assert.match(problems.clean_outside, /not applicable/);

  const found = check(record({
    kind: { value: ['b'] }, level: { value: 1 }, why: { value: 'far too long' }, count: { value: 11 }, wait: { na: true },
  }), chained, new Map());
  assert.deepEqual(found, { why: 'Keep it to 5 characters.', count: 'Enter 10 or less.' });
});

test('the visit must end after it starts, within twelve hours, and not in the future', () => {
  const answered = { kind: { value: ['a'] }, wait: { value: 30 } };
  assert.deepEqual(check(record(answered), chained, new Map()), {});
  assert.match(check(record(answered, { ended: '2026-03-01T09:00' }), chained, new Map()).visit, /before it starts/);
  assert.match(check(record(answered, { ended: '2026-03-01T23:00' }), chained, new Map()).visit, /12 hours/);
  assert.match(check(record(answered, { started: '2999-01-01T10:00', ended: '2999-01-01T10:10' }), chained, new Map()).visit, /future/);
  assert.match(check(record(answered, { staff: [{ description: ' ', role: '', first_name: '' }] }), chained, new Map())['staff-0'], /Describe/);
});

test('a photo must be on the phone, or kept from an earlier revision', () => {
  const photo = { storefront_photo: { value: 'p1' } };
  const base = check(record(photo), storeVisit, new Map());
  assert.match(base.storefront_photo, /no longer on this phone/);
  assert.equal(check(record(photo), storeVisit, new Map([['p1', {}]])).storefront_photo, undefined);
  assert.equal(check(record(photo, { kept: ['p1'] }), storeVisit, new Map()).storefront_photo, undefined);
});

test('the body sends visible answers in order, N/A without a value, and times with their offset', () => {
  const sent = body(record({
    had_issue: { value: 'no' }, protocol: { value: 'fully' }, greeted: { value: true, comment: ' ok ' },
    clean_outside: { na: true, value: null }, highlights: { value: '' },
  }, { narrative: '  Fine.  ', staff: [{ description: 'Red scarf', role: '', first_name: 'Ana' }], receipt: 'f1' }), storeVisit, 'abc');
  assert.deepEqual(sent.answers, [
    { question: 'greeted', value: true, comment: 'ok' },
    { question: 'had_issue', value: 'no' },
    { question: 'clean_outside', na: true },
  ]);
  assert.equal(sent.narrative, 'Fine.');
  assert.deepEqual(sent.staff_observed, [{ description: 'Red scarf', first_name: 'Ana' }]);
  assert.deepEqual(sent.client, { app: 'secondmile-shop', version: 'abc' });
  assert.equal(sent.receipt, 'f1');
  assert.equal(sent.language, 'en');
  assert.match(sent.visit.started_at, /^2026-03-01T10:00:00[+-]\d\d:\d\d$/);
  assert.equal(new Date(sent.visit.started_at).getTime(), new Date('2026-03-01T10:00').getTime());
  assert.equal(withOffset('not a time'), null);
});

test('a server pointer lands on the question the sent body names there', () => {
  const sent = { answers: [{ question: 'greeted' }, { question: 'courtesy' }] };
  assert.equal(place('/answers/1/value', sent), 'courtesy');
  assert.equal(place('/answers/0', sent), 'greeted');
  assert.equal(place('/visit/ended_at', sent), 'visit');
  assert.equal(place('/staff_observed/2/description', sent), 'staff-2');
  assert.equal(place('/check_in/lat', sent), 'check-in');
  assert.equal(place('/questionnaire_id', sent), null);
  assert.equal(place('/answers/9/value', sent), null);
});
