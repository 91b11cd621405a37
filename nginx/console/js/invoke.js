// invoke.js - the Invoke tab: the request body, prefilled with the
// forwarding server's convention (SPEC §6, README "The forwarding server's
// body"), and the debug envelope of an invocation shown field by field.
// Everything the function produced (status, headers, body, logs, outbound
// requests, error) is put on the page as text through dom.js only.

import { $, add, bytes, el, show, text } from './dom.js';

const REQUEST = {
  method: 'POST',
  url: 'https://api.example.com/v1/charges',
  headers: { 'content-type': 'application/json' },
  body: '{"amount":100,"currency":"usd"}',
};

export function sampleBody(phase) {
  const b = { phase, request: REQUEST };
  if (phase === 'after') {
    b.response = {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"id":"ch_1","amount":100,"status":"succeeded"}',
    };
  }
  return JSON.stringify(b, null, 2);
}

function ms(x) {
  return typeof x === 'number' ? x.toFixed(x < 10 ? 2 : 1) + ' ms' : '';
}

// The body as text; pretty-printed when it is JSON (still text).
function bodyText(body, headers) {
  const s = typeof body === 'string' ? body : JSON.stringify(body);
  const ct = Object.entries(headers || {}).find(([k]) => k.toLowerCase() === 'content-type');
  if (ct && /json/i.test(String(ct[1]))) {
    try { return JSON.stringify(JSON.parse(s), null, 2); } catch { /* as sent */ }
  }
  return s;
}

// Shows an envelope {status, headers, body, logs, durationMs,
// memoryPeakBytes, version, error?, requests?}.
export function showResult(env) {
  const box = $('#result');
  const ok = typeof env.status === 'number' && env.status < 400 && !env.error;
  const st = $('#r-status');
  text(st, env.status);
  st.className = ok ? 'ok' : 'bad';
  text($('#r-version'), env.version);
  text($('#r-duration'), ms(env.durationMs));
  text($('#r-memory'), bytes(env.memoryPeakBytes));

  const err = env.error && typeof env.error === 'object' ? env.error : null;
  show($('#r-error-box'), !!err);
  if (err) {
    const lines = [`${err.error || 'error'}: ${err.message || ''}`];
    if (err.stack) lines.push('', String(err.stack));
    text($('#r-error'), lines.join('\n'));
  }

  const hb = $('#r-headers tbody');
  hb.replaceChildren();
  for (const [k, v] of Object.entries(env.headers || {})) {
    add(hb, [el('tr', {}, el('th', { text: k }), el('td', { text: v }))]);
  }
  text($('#r-body'), bodyText(env.body ?? '', env.headers));

  const logs = $('#r-logs');
  logs.replaceChildren();
  for (const l of env.logs || []) {
    add(logs, [el('li', { class: 'log-' + String(l.level).replace(/[^a-z]/g, '') },
      el('span', { class: 'level', text: l.level }), ' ', el('span', { text: l.message }))]);
  }
  if (!(env.logs || []).length) add(logs, [el('li', { class: 'muted', text: 'No output.' })]);

  // SPEC §12: the envelope's outbound requests (README "Outbound requests").
  const reqs = env.requests || [];
  const rb = $('#r-requests tbody');
  rb.replaceChildren();
  for (const r of reqs) {
    add(rb, [el('tr', {}, el('td', { text: r.method }), el('td', { text: r.url }),
      el('td', { text: r.status ?? '' }), el('td', { text: ms(r.durationMs) }),
      el('td', { text: r.error ?? '' }))]);
  }
  show($('#r-requests'), reqs.length > 0);
  show($('#r-requests-none'), reqs.length === 0);
  show(box, true);
}
