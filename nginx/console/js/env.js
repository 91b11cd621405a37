// env.js - the Environment tab: a project's variable names (SPEC §7), set a
// value (write-only: the field is cleared and the value never shown again),
// remove one.

import { $, add, el, show, text } from './dom.js';
import { api, ENV_NAME_RE } from './api.js';

let project = null;

function status(msg, bad = false) {
  const s = $('#env-status');
  text(s, msg);
  s.classList.toggle('error', bad);
}

// Calls may overlap: only the latest one's answer is shown.
let seq = 0;

export async function showEnv(p) {
  const mine = ++seq;
  project = p;
  text($('#env-project'), p || '');
  let names = [];
  if (p) {
    try {
      names = (await api.envNames(p)).data.names || [];
    } catch (e) {
      status(e.message, true);
    }
  }
  if (mine !== seq) return;
  const ul = $('#env-names');
  ul.replaceChildren();
  for (const n of names) {
    add(ul, [el('li', { 'data-name': n },
      el('code', { text: n }), ' ',
      el('button', { type: 'button', class: 'quiet', text: 'Remove', onclick: () => unset(n) }))]);
  }
  show($('#env-empty'), names.length === 0);
}

async function unset(name) {
  try {
    await api.envUnset(project, name);
    status(`Removed ${name}.`);
  } catch (e) {
    status(e.message, true);
  }
  await showEnv(project);
}

export function initEnv() {
  $('#env-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = $('#env-name').value.trim();
    const value = $('#env-value');
    if (!project) return status('Pick a project first.', true);
    if (!ENV_NAME_RE.test(name)) {
      return status('A name is upper-case letters, digits and _, not starting with a digit (at most 128).', true);
    }
    try {
      await api.envSet(project, name, value.value);
      status(`Set ${name}. Its value is not shown again.`);
      $('#env-name').value = '';
    } catch (e) {
      status(e.message, true);
    } finally {
      value.value = '';
    }
    await showEnv(project);
  });
}
