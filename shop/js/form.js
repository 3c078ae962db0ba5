// The visit form: the questionnaire in the shopper's language, every question type, questions
// shown and hidden as answers change, N/A where allowed, the visit's times and check-in, the
// narrative, staff observed, photos and the receipt. Every change is saved on the phone at
// once, so nothing typed is lost to a reload, a closed tab or a flat battery.

import { h, mount } from '/app/js/dom.js';
import * as db from './db.js';
import { questions, visibility, localNow } from './rules.js';
import { t } from './words.js';

const MAX_STAFF = 20;

/** A new id: the report's idempotency key, or a file's. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Renders `record`'s form for `questionnaire`. `files` maps a file id to its kept record (with
 * its blob); `problems` maps a question key (or `visit`, `staff-0`, …) to a message. `save`
 * is called after every change.
 */
export function render(record, questionnaire, files, problems, save) {
  const urls = [];
  const blobUrl = (blob) => {
    const url = URL.createObjectURL(blob);
    urls.push(url);
    return url;
  };
  const errorFor = (key) => h('p', { class: 'field-error', id: `err-${key}`, hidden: !problems[key] }, problems[key] || '');
  const wrappers = {};
  // The questionnaire's texts are in its language (the shopper's, where translated); the
  // app's own words are English. Screen readers read each in its language.
  const lang = questionnaire.language;

  function refresh() {
    const shown = visibility(questionnaire, record.answers);
    for (const [key, el] of Object.entries(wrappers)) el.hidden = !shown[key];
    save();
  }

  /** An answered question's problem is shown no more (the next check decides again). */
  function settle(key) {
    if (!problems[key]) return;
    delete problems[key];
    const box = wrappers[key];
    const error = form.querySelector(`#err-${CSS.escape(key)}`);
    if (error) error.hidden = true;
    if (box) {
      box.classList.remove('invalid');
      box.removeAttribute('aria-invalid');
      for (const el of box.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    }
  }

  function answerOf(key) {
    if (!record.answers[key]) record.answers[key] = {};
    return record.answers[key];
  }

  function question(q) {
    const id = `q-${q.key}`;
    const answer = record.answers[q.key] || {};
    const invalid = Boolean(problems[q.key]);
    const described = [q.help ? `${id}-help` : null, `err-${q.key}`].filter(Boolean).join(' ');
    const mark = q.required !== false ? h('span', { class: 'required' }, t(' (required)')) : h('span', { class: 'optional' }, t(' (optional)'));
    const help = q.help ? h('p', { class: 'help', id: `${id}-help`, lang }, q.help) : null;
    const set = (value) => {
      const a = answerOf(q.key);
      a.value = value;
      settle(q.key);
      refresh();
    };
    const group = (type, name, choices, selected, own) => choices.map(([value, label]) => {
      const input = h('input', {
        type, name, value: String(value), id: `${name}-${String(value)}`,
        checked: type === 'radio' ? selected === value : (selected || []).includes(value),
        disabled: answer.na,
        onchange: (event) => {
          if (type === 'radio') set(value);
          else {
            const chosen = new Set(answerOf(q.key).value || []);
            if (event.target.checked) chosen.add(value); else chosen.delete(value);
            set(choices.map(([v]) => v).filter((v) => chosen.has(v)));
          }
        },
      });
      return h('label', { class: 'choice', for: `${name}-${String(value)}` }, input, h('span', { lang: own ? lang : null }, label));
    });
    let control;
    let asFieldset = true;
    switch (q.type) {
      case 'yes_no':
        control = h('div', { class: 'choices row' }, group('radio', id, [[true, t('Yes')], [false, t('No')]], answer.value));
        break;
      case 'scale': {
        const steps = [];
        for (let v = q.min; v <= q.max; v += 1) steps.push([v, String(v)]);
        control = h('div', { class: 'choices row scale' }, group('radio', id, steps, answer.value));
        break;
      }
      case 'single_choice':
        control = h('div', { class: 'choices' }, group('radio', id, q.options.map((o) => [o.value, o.label]), answer.value, true));
        break;
      case 'multi_choice':
        control = h('div', { class: 'choices' }, group('checkbox', id, q.options.map((o) => [o.value, o.label]), answer.value, true));
        break;
      case 'number':
        asFieldset = false;
        control = h('input', {
          id, type: 'number', step: 'any', inputmode: 'decimal', min: q.min ?? null, max: q.max ?? null,
          value: answer.value ?? '', disabled: answer.na, 'aria-invalid': invalid ? 'true' : null, 'aria-describedby': described,
          oninput: (event) => set(event.target.value === '' ? null : Number(event.target.value)),
        });
        break;
      case 'duration_seconds': {
        const total = typeof answer.value === 'number' ? answer.value : null;
        const minutes = h('input', { id: `${id}-min`, type: 'number', min: 0, step: 1, inputmode: 'numeric', value: total === null ? '' : Math.floor(total / 60), disabled: answer.na });
        const seconds = h('input', { id: `${id}-sec`, type: 'number', min: 0, max: 59, step: 1, inputmode: 'numeric', value: total === null ? '' : total % 60, disabled: answer.na });
        const update = () => {
          if (minutes.value === '' && seconds.value === '') set(null);
          else set(Number(minutes.value || 0) * 60 + Number(seconds.value || 0));
        };
        minutes.addEventListener('input', update);
        seconds.addEventListener('input', update);
        control = h('div', { class: 'duration' },
          h('label', { for: `${id}-min` }, t('Minutes')), minutes, h('label', { for: `${id}-sec` }, t('Seconds')), seconds);
        break;
      }
      case 'text':
        asFieldset = false;
        control = h('textarea', {
          id, rows: 4, maxlength: q.max_length || 2000, disabled: answer.na,
          'aria-invalid': invalid ? 'true' : null, 'aria-describedby': described,
          oninput: (event) => set(event.target.value),
        }, answer.value || '');
        break;
      case 'photo':
        control = photo(q, id, answer, set);
        break;
      default:
        control = h('p', { class: 'notice' }, t('This app cannot show a question of type {type}.', { type: q.type }));
    }
    const na = q.na_allowed ? h('label', { class: 'choice na', for: `${id}-na` },
      h('input', {
        type: 'checkbox', id: `${id}-na`, checked: Boolean(answer.na),
        onchange: (event) => {
          const a = answerOf(q.key);
          a.na = event.target.checked;
          if (a.na) a.value = null;
          save();
          rebuild();
        },
      }), h('span', {}, t('Not applicable'))) : null;
    const comment = h('details', { class: 'comment', open: Boolean(answer.comment) },
      h('summary', {}, t('Add a comment')),
      h('label', { for: `${id}-comment`, class: 'visually-hidden' }, t('Comment on: {question}', { question: q.text })),
      h('textarea', {
        id: `${id}-comment`, rows: 2, maxlength: 2000,
        oninput: (event) => { answerOf(q.key).comment = event.target.value; save(); },
      }, answer.comment || ''));
    const attrs = { class: `q${invalid ? ' invalid' : ''}`, id: `${id}-box`, 'data-question': q.key };
    const body = [help, control, na, errorFor(q.key), q.type === 'photo' ? null : comment];
    const box = asFieldset
      ? h('fieldset', { ...attrs, 'aria-describedby': described, 'aria-invalid': invalid ? 'true' : null },
        h('legend', {}, h('span', { lang }, q.text), mark), ...body)
      : h('div', attrs, h('label', { for: id, class: 'qtext' }, h('span', { lang }, q.text), mark), ...body);
    wrappers[q.key] = box;
    return box;
  }

  function photo(q, id, answer, set) {
    const kept = answer.value && files.get(answer.value);
    const preview = kept
      ? h('img', { src: blobUrl(kept.blob), alt: t('Your photo for: {question}', { question: q.text }), class: 'preview' })
      : answer.value ? h('p', { class: 'muted' }, t('A photo sent with an earlier revision is kept.')) : null;
    const choose = (capture) => h('input', {
      type: 'file', accept: 'image/*', capture: capture ? 'environment' : null,
      id: `${id}-${capture ? 'camera' : 'file'}`, class: 'file-input',
      onchange: async (event) => {
        const file = event.target.files[0];
        if (!file) return;
        await keepFile(answer.value, file, q.key, (fileId) => set(fileId));
        rebuild();
      },
    });
    return h('div', { class: 'photo' },
      preview,
      h('div', { class: 'row wrap' },
        choose(true), h('label', { class: 'button', for: `${id}-camera` }, answer.value ? t('Take another photo') : t('Take a photo')),
        choose(false), h('label', { class: 'button', for: `${id}-file` }, t('Choose a file')),
        answer.value && q.required === false ? h('button', {
          type: 'button', class: 'quiet', onclick: () => { answerOf(q.key).value = null; save(); rebuild(); },
        }, t('Remove photo')) : null));
  }

  /** A chosen file kept on the phone under a new id (a replaced photo gets a new id). */
  async function keepFile(previous, file, purpose, use) {
    if (previous && files.has(previous) && !files.get(previous).uploaded) {
      await db.remove('files', previous);
      files.delete(previous);
    }
    const id = uuid();
    const kept = { id, report_id: record.id, blob: file, name: file.name, size: file.size, purpose, uploaded: false };
    await db.put('files', kept);
    files.set(id, kept);
    use(id);
  }

  const form = h('div', { class: 'visit-form' });
  function rebuild() {
    // The control in use keeps the focus across the redraw.
    const focused = document.activeElement && document.activeElement.id;
    for (const url of urls.splice(0)) URL.revokeObjectURL(url);
    const shown = visibility(questionnaire, record.answers);
    const sections = questionnaire.sections.map((section) => h('section', { class: 'section' },
      h('h2', { lang }, section.title),
      section.questions.map((q) => {
        const box = question(q);
        box.hidden = !shown[q.key];
        return box;
      })));
    mount(form, visit(), sections, extras());
    const again = focused && form.querySelector(`#${CSS.escape(focused)}`);
    if (again) again.focus();
  }

  function visit() {
    const field = (name, label) => h('div', { class: 'field' },
      h('label', { for: `visit-${name}` }, label),
      h('input', {
        id: `visit-${name}`, type: 'datetime-local', value: record[name] || '', 'aria-describedby': 'err-visit',
        'aria-invalid': problems.visit ? 'true' : null,
        oninput: (event) => { record[name] = event.target.value; save(); },
      }));
    const checkIn = h('div', { class: 'check-in', id: 'check-in' });
    const showCheckIn = () => mount(checkIn,
      record.check_in
        ? h('p', { id: 'checked-in' }, t('Checked in at {time} (within {metres} m).', { time: new Date(record.check_in.at).toLocaleTimeString(), metres: Math.round(record.check_in.accuracy_m ?? 0) }))
        : h('p', { class: 'muted' }, t('Not checked in. Checking in shows the reviewer you were at the store.')),
      'geolocation' in navigator ? h('button', { type: 'button', id: 'check-in-button', onclick: locate }, record.check_in ? t('Check in again') : t('Check in here')) : null,
      h('p', { class: 'field-error', id: 'err-check-in', hidden: !problems['check-in'] }, problems['check-in'] || ''));
    function locate(event) {
      event.target.disabled = true;
      navigator.geolocation.getCurrentPosition((position) => {
        record.check_in = {
          lat: Number(position.coords.latitude.toFixed(6)),
          lon: Number(position.coords.longitude.toFixed(6)),
          accuracy_m: Math.round(position.coords.accuracy),
          at: new Date(position.timestamp).toISOString(),
        };
        save();
        showCheckIn();
      }, (error) => {
        showCheckIn();
        checkIn.append(h('p', { class: 'notice', role: 'alert' }, error.code === 1
          ? t('The phone did not share its position. The report can be sent without a check-in.')
          : t('The position could not be found. Try again outside, or send the report without it.')));
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    }
    showCheckIn();
    return h('section', { class: 'section', id: 'visit-box' },
      h('h2', {}, t('The visit')),
      h('div', { class: 'row wrap' }, field('started', t('Started')), field('ended', t('Ended')),
        h('button', { type: 'button', id: 'ended-now', onclick: () => { record.ended = localNow(); save(); rebuild(); } }, t('Ended now'))),
      errorFor('visit'),
      checkIn);
  }

  function extras() {
    const staff = record.staff.map((person, i) => h('fieldset', { class: 'person', id: `staff-${i}` },
      h('legend', {}, t('Person {n}', { n: i + 1 })),
      ['description', 'role', 'first_name'].map((name) => {
        const labels = { description: t('What they did and how to recognise them'), role: t('Role (optional)'), first_name: t('First name, from a badge (optional)') };
        const limits = { description: 500, role: 100, first_name: 50 };
        const attrs = {
          id: `staff-${i}-${name}`, maxlength: limits[name], value: person[name],
          oninput: (event) => { person[name] = event.target.value; save(); },
        };
        return h('div', { class: 'field' }, h('label', { for: attrs.id }, labels[name]),
          name === 'description' ? h('textarea', { ...attrs, rows: 2, 'aria-describedby': `err-staff-${i}` }, person[name]) : h('input', attrs));
      }),
      errorFor(`staff-${i}`),
      h('button', { type: 'button', class: 'quiet', onclick: () => { record.staff.splice(i, 1); save(); rebuild(); } }, t('Remove person {n}', { n: i + 1 }))));
    const receipt = record.receipt && files.get(record.receipt);
    return [
      h('section', { class: 'section' },
        h('h2', {}, t('In your words')),
        h('label', { for: 'narrative' }, t('Narrative: what happened, in order')),
        h('textarea', { id: 'narrative', rows: 6, maxlength: 20000, 'aria-describedby': 'err-narrative', oninput: (event) => { record.narrative = event.target.value; save(); } }, record.narrative),
        errorFor('narrative')),
      h('section', { class: 'section' },
        h('h2', {}, t('Staff observed')),
        h('p', { class: 'muted' }, t('Only reviewers read these descriptions.')),
        staff,
        record.staff.length < MAX_STAFF ? h('button', {
          type: 'button', id: 'add-person', onclick: () => { record.staff.push({ description: '', role: '', first_name: '' }); save(); rebuild(); },
        }, t('Add a person')) : null),
      h('section', { class: 'section' },
        h('h2', {}, t('Receipt')),
        receipt ? h('p', { id: 'receipt-name' }, t('Kept: {name} ({size} KB)', { name: receipt.name, size: Math.ceil(receipt.size / 1024) }))
          : record.receipt ? h('p', { class: 'muted' }, t('The receipt sent with an earlier revision is kept.')) : null,
        h('input', {
          type: 'file', id: 'receipt-file', class: 'file-input', accept: 'image/*,application/pdf',
          onchange: async (event) => {
            const file = event.target.files[0];
            if (!file) return;
            await keepFile(record.receipt, file, 'receipt', (id) => { record.receipt = id; save(); });
            rebuild();
          },
        }),
        h('label', { class: 'button', for: 'receipt-file' }, record.receipt ? t('Replace the receipt') : t('Add the receipt (photo or PDF)')),
        errorFor('receipt')),
    ];
  }

  rebuild();
  return { element: form, rebuild, dispose: () => urls.splice(0).forEach((u) => URL.revokeObjectURL(u)) };
}

/** The ids of the files a record names (photos that are shown, and the receipt). */
export function fileIds(record, questionnaire) {
  const shown = visibility(questionnaire, record.answers);
  const ids = questions(questionnaire)
    .filter((q) => q.type === 'photo' && shown[q.key])
    .map((q) => record.answers[q.key])
    .filter((a) => a && !a.na && a.value)
    .map((a) => a.value);
  if (record.receipt) ids.push(record.receipt);
  return ids;
}
