// The app's own words in the shopper's language: English as written in the code, and German,
// French, Spanish and Japanese from the table below (the demo's shoppers answer in these).
// The questionnaires come translated by the server; these are the words around them.
// A text missing from the table is shown in English.

import { TABLE } from './table.js';

export const LANGUAGES = ['en', 'de', 'fr', 'es', 'ja'];
let language = 'en';

/** The language of the app's words: the shopper's preference, else the browser's. */
export function choose(preferred) {
  const wanted = [preferred, ...(navigator.languages || [navigator.language])].filter(Boolean);
  const found = wanted.map((tag) => tag.toLowerCase().split('-')[0]).find((tag) => LANGUAGES.includes(tag));
  language = found || 'en';
  document.documentElement.lang = language;
  return language;
}

export function current() {
  return language;
}

/** `text` in the app's language, with `{name}` filled from `vars`. */
export function t(text, vars = {}) {
  const entry = TABLE[text];
  const words = (language !== 'en' && entry && entry[LANGUAGES.indexOf(language) - 1]) || text;
  return words.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}
