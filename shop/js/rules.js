// What the form checks before a report leaves the phone, and the body it sends. The server
// stays the judge (its 422 names each problem by a JSON pointer into this body); these checks
// only spare the shopper a round trip for what the questionnaire itself says.

export const MAX_HOURS = 12;
const SKEW_MS = 5 * 60 * 1000;

// The messages are English with `{name}` slots; the app hands in its translator (`speak`).
let say = (text, vars = {}) => text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));

/** Sets how messages are put in the shopper's language. */
export function speak(translate) {
  say = translate;
}

/** Every question of a version in document order, with its section. */
export function questions(questionnaire) {
  return questionnaire.sections.flatMap((section) => section.questions.map((q) => ({ ...q, section: section.key })));
}

function given(answer) {
  if (!answer || answer.na) return false;
  const v = answer.value;
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

/** Which questions are shown for these answers (key → bool), as the server decides it. */
export function visibility(questionnaire, answers) {
  const shown = {};
  for (const q of questions(questionnaire)) {
    let visible = true;
    if (q.show_if) {
      const source = answers[q.show_if.question];
      visible = Boolean(shown[q.show_if.question]) && given(source) && q.show_if.equals.some((wanted) => (
        Array.isArray(source.value) ? source.value.includes(wanted)
          : typeof source.value === 'number' ? Number(wanted) === source.value
            : source.value === wanted));
    }
    shown[q.key] = visible;
  }
  return shown;
}

function required(q) {
  return q.required !== false;
}

/** The problems of one answer, as a sentence (or null). */
function problem(q, answer) {
  if (answer && answer.na) return q.na_allowed ? null : say('Not applicable is not allowed here.');
  if (!given(answer)) {
    if (!required(q)) return null;
    if (q.type === 'photo') return say('Add a photo.');
    return q.na_allowed ? say('Answer this question, or mark it not applicable.') : say('Answer this question.');
  }
  const v = answer.value;
  switch (q.type) {
    case 'scale':
      return Number.isInteger(v) && v >= q.min && v <= q.max ? null : say('Choose from {min} to {max}.', { min: q.min, max: q.max });
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) return say('Enter a number.');
      if (q.min !== null && q.min !== undefined && v < q.min) return say('Enter {n} or more.', { n: q.min });
      if (q.max !== null && q.max !== undefined && v > q.max) return say('Enter {n} or less.', { n: q.max });
      return null;
    case 'duration_seconds':
      return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? null : say('Enter minutes and seconds (0 or more).');
    case 'text': {
      const most = q.max_length || 2000;
      return [...v].length <= most ? null : say('Keep it to {n} characters.', { n: most });
    }
    default:
      return null;
  }
}

/** A local date and time (`datetime-local`) as RFC 3339 with the phone's offset at that time. */
export function withOffset(local) {
  const at = new Date(local);
  if (Number.isNaN(at.getTime())) return null;
  const minutes = -at.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const pad = (n) => String(n).padStart(2, '0');
  const seconds = local.length === 16 ? `${local}:00` : local;
  return `${seconds}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The phone's time now as a `datetime-local` value. */
export function localNow() {
  return localValue(new Date());
}

/** A moment as this phone's `datetime-local` value (to the minute). */
export function localValue(at) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/**
 * Every problem of a report before sending, keyed by where it shows: a question's key, or
 * `visit`, `staff`, `narrative`. Answers { key: message }.
 */
export function check(record, questionnaire, files) {
  const problems = {};
  const shown = visibility(questionnaire, record.answers);
  for (const q of questions(questionnaire)) {
    if (!shown[q.key]) continue;
    const answer = record.answers[q.key];
    const found = problem(q, answer);
    if (found) problems[q.key] = found;
    else if (q.type === 'photo' && given(answer) && !files.has(answer.value) && !record.kept.includes(answer.value)) {
      problems[q.key] = say('Add the photo again: it is no longer on this phone.');
    }
  }
  const start = new Date(record.started || '');
  const end = new Date(record.ended || '');
  if (!record.started || !record.ended || Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
    problems.visit = say('Enter when the visit started and ended.');
  } else if (end < start) {
    problems.visit = say('The visit ends before it starts.');
  } else if (end - start > MAX_HOURS * 3600 * 1000) {
    problems.visit = say('A visit lasts at most {n} hours.', { n: MAX_HOURS });
  } else if (end.getTime() > Date.now() + SKEW_MS) {
    problems.visit = say('The visit cannot end in the future.');
  }
  record.staff.forEach((person, i) => {
    if (!person.description.trim()) problems[`staff-${i}`] = say('Describe this person (or remove them).');
  });
  return problems;
}

/**
 * The submission the server receives (`POST /reports`, or `PUT /reports/{id}` for a
 * revision). `version` names the app's files (the service worker's cache), for support.
 */
export function body(record, questionnaire, version) {
  const shown = visibility(questionnaire, record.answers);
  const answers = [];
  for (const q of questions(questionnaire)) {
    const answer = record.answers[q.key];
    if (!shown[q.key] || !answer) continue;
    const comment = (answer.comment || '').trim() || undefined;
    if (answer.na) answers.push({ question: q.key, na: true, comment });
    else if (given(answer)) answers.push({ question: q.key, value: answer.value, comment });
  }
  const out = {
    id: record.id,
    location_id: record.location_id,
    questionnaire_id: record.questionnaire_id,
    visit: { started_at: withOffset(record.started), ended_at: withOffset(record.ended) },
    answers,
    language: questionnaire.language,
    client: { app: 'secondmile-shop', version: version || 'uncached' },
  };
  if (record.assignment_id) out.assignment_id = record.assignment_id;
  if (record.narrative.trim()) out.narrative = record.narrative.trim();
  const staff = record.staff.filter((p) => p.description.trim()).map((p) => ({
    description: p.description.trim(), role: p.role.trim() || undefined, first_name: p.first_name.trim() || undefined,
  }));
  if (staff.length) out.staff_observed = staff;
  if (record.check_in) out.check_in = record.check_in;
  if (record.receipt) out.receipt = record.receipt;
  return JSON.parse(JSON.stringify(out));
}

/**
 * Where a server's violation shows in the form: the question its pointer names (through the
 * body sent), or a part of the form. Answers a key of `check`'s kind, or null (the summary).
 */
export function place(pointer, sent) {
  const parts = pointer.split('/').slice(1);
  if (parts[0] === 'answers' && sent && sent.answers[Number(parts[1])]) return sent.answers[Number(parts[1])].question;
  if (parts[0] === 'visit') return 'visit';
  if (parts[0] === 'narrative') return 'narrative';
  if (parts[0] === 'check_in') return 'check-in';
  if (parts[0] === 'receipt') return 'receipt';
  if (parts[0] === 'staff_observed') return `staff-${parts[1] || 0}`;
  return null;
}
