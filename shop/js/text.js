// The words and formats the app's pages share.

import { t } from './words.js';

/** A mile level in words. */
export function mile(level) {
  return {
    zero: t('Zero mile: below the standard'),
    first: t('First mile: the expected standard'),
    second: t('Second mile: beyond expectations'),
  }[level] || level;
}

/** Where a report kept on the phone stands. */
export function state(name) {
  return {
    draft: t('Not finished'),
    waiting: t('Waiting to be sent'),
    uploading: t('Report received; sending its files'),
    sent: t('Sent'),
    refused: t('Not accepted: needs you'),
  }[name] || name;
}

/** A report's status on the server. */
export function status(name) {
  return {
    submitted: t('Submitted, waiting for review'),
    approved: t('Approved'),
    returned: t('Returned for revision'),
    rejected: t('Rejected'),
  }[name] || name;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : '';
}

export function day(date) {
  return new Date(`${date}T12:00:00`).toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' });
}

export function time(ms) {
  return new Date(ms).toLocaleTimeString();
}

/** A message under the name of what it is about ("Greeted? Answer this question."). */
export function about(label, message) {
  return /[?.!:。？！：]$/.test(label) ? `${label} ${message}` : `${label}: ${message}`;
}
