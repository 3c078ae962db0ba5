// The words and formats the app's pages share.

export const MILES = {
  zero: 'Zero mile: below the standard',
  first: 'First mile: the expected standard',
  second: 'Second mile: beyond expectations',
};
export const STATES = {
  draft: 'Not finished',
  waiting: 'Waiting to be sent',
  uploading: 'Report received; sending its files',
  sent: 'Sent',
  refused: 'Not accepted: needs you',
};
export const STATUSES = {
  submitted: 'Submitted, waiting for review',
  approved: 'Approved',
  returned: 'Returned for revision',
  rejected: 'Rejected',
};

export function when(iso) {
  return iso ? new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : '';
}

export function day(date) {
  return new Date(`${date}T12:00:00`).toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' });
}
