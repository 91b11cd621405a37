// health.js - the service's health (GET /healthz, SPEC §7): a summary in the
// top bar, refreshed every 15 s while the tab is visible, and every field in
// the Health tab.

import { $, add, el, text } from './dom.js';
import { api } from './api.js';

const REFRESH_MS = 15000;

function rows(data) {
  const w = data.workers || {};
  return [
    ['status', data.status],
    ['store', data.store],
    ['memcached', data.memcached],
    ['workers alive', w.alive],
    ['workers busy', w.busy],
    ['engine', data.engine],
  ];
}

export async function refreshHealth() {
  const sum = $('#health-summary');
  const tb = $('#health tbody');
  try {
    const { status, data } = await api.health();
    const good = status === 200 && data.status === 'ok';
    sum.className = 'health-summary ' + (good ? 'ok' : 'bad');
    const w = data.workers || {};
    text(sum, `${data.status} · ${w.alive ?? '?'} workers (${w.busy ?? '?'} busy)`);
    tb.replaceChildren();
    for (const [k, v] of rows(data)) {
      add(tb, [el('tr', { 'data-field': k }, el('th', { text: k }), el('td', { text: v ?? '' }))]);
    }
    for (const [k, v] of Object.entries(data)) {
      if (['status', 'store', 'memcached', 'workers', 'engine'].includes(k)) continue;
      add(tb, [el('tr', { 'data-field': k }, el('th', { text: k }),
        el('td', { text: typeof v === 'object' ? JSON.stringify(v) : v }))]);
    }
  } catch (e) {
    sum.className = 'health-summary bad';
    text(sum, 'unreachable');
    tb.replaceChildren(el('tr', {}, el('th', { text: 'error' }), el('td', { text: e.message })));
  }
}

let timer = null;
export function startHealth() {
  refreshHealth();
  if (timer === null) {
    timer = setInterval(() => { if (!document.hidden) refreshHealth(); }, REFRESH_MS);
  }
}
