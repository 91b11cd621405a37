// main.js - the console's entry point (SPEC §15): sign-in, the project and
// its functions, the editor and deploy, versions and rollback, invoke, and
// the keyboard shortcuts (Ctrl/Cmd-S deploys, Ctrl/Cmd-Enter invokes). It
// uses only the HTTP API (api.js) and puts text on the page only through
// dom.js.

import { $, add, bytes, el, show, text, when } from './dom.js';
import { api, ApiError, NAME_RE, session, whenUnauthorized } from './api.js';
import { createEditor } from './editor.js';
import { sampleBody, showResult } from './invoke.js';
import { initEnv, showEnv } from './env.js';
import { refreshHealth, startHealth } from './health.js';

const PROJECT_KEY = 'fnrun.project';

const TEMPLATE = `// req: method, path, query, headers, body, payload (the body parsed as JSON), env
// res: send(body, status, headers) or json(value, status, headers)
module.exports = function (req, res) {
  var p = req.payload;
  if (p && p.phase === 'before') {
    // Rewrite the request the forwarding server is about to send.
    res.json({ request: p.request });
  } else {
    // Transform the upstream response.
    res.json({ response: p && p.response });
  }
};
`;

const state = {
  project: null,
  fn: null,          // {request, fn, isNew}
  versions: null,    // GET /functions/p/r/f
  deployed: '',      // the source last loaded or deployed, for "changed"
  viewing: null,     // {version, source} in the viewer
  deploying: null,   // the deploy in flight: an invoke waits for it
};

let editor = null;
let viewer = null;

// ------------------------------------------------------------ sign-in

// message: why the sign-in page shows (an error unless it is a sign-out).
function showSignin(message, isError = true) {
  show($('#app'), false);
  show($('#signout'), false);
  show($('#signin'), true);
  text($('#signin-error'), message || '');
  $('#signin-error').classList.toggle('error', isError);
  $('#signin-error').classList.toggle('muted', !isError);
  $('#token').value = '';
  $('#token').focus();
}

function signOut(message, isError = true) {
  session.clear();
  state.project = null;
  state.fn = null;
  showSignin(message, isError);
}

async function signIn(token) {
  const err = $('#signin-error');
  text(err, '');
  err.classList.add('error');
  if (!token) return text(err, 'Paste the admin token first.');
  try {
    await api.check(token);
  } catch (e) {
    $('#token').value = '';
    if (e.status === 401) {
      return text(err, 'Wrong token: the server refused it (401 unauthorized). ' +
        'Use the admin token, not the invoke key.');
    }
    return text(err, 'Could not sign in: ' + e.message);
  }
  session.token = token;
  $('#token').value = '';
  await enterApp();
}

async function enterApp() {
  show($('#signin'), false);
  show($('#app'), true);
  show($('#signout'), true);
  if (!editor) {
    editor = createEditor($('#editor'), { onChange: editorChanged });
    viewer = createEditor($('#viewer'), { readOnly: true });
  }
  await loadProjects(sessionStorage.getItem(PROJECT_KEY));
}

// ------------------------------------------------------------ projects

async function loadProjects(want) {
  let projects = [];
  try {
    projects = (await api.projects()).data.projects || [];
  } catch (e) {
    if (e.status !== 401) status('#deploy-status', e.message, true);
    return;
  }
  const pick = want && NAME_RE.test(want) ? want : (state.project || projects[0] || null);
  if (pick && !projects.includes(pick)) projects = [...projects, pick].sort();
  const sel = $('#project');
  sel.replaceChildren(...projects.map((p) => el('option', { value: p, text: p })));
  if (!projects.length) sel.append(el('option', { value: '', text: '(no projects yet)' }));
  sel.value = pick || '';
  await selectProject(pick);
}

async function selectProject(p) {
  if (p !== state.project) closeFn();
  state.project = p || null;
  if (p) sessionStorage.setItem(PROJECT_KEY, p);
  await Promise.all([loadFunctions(), showEnv(state.project)]);
}

// Calls may overlap (a project picked while the last list loads): only the
// latest one's answer is shown, and the table is replaced in one step.
let functionsSeq = 0;

async function loadFunctions() {
  const seq = ++functionsSeq;
  let fns = [];
  if (state.project) {
    try {
      fns = (await api.functions(state.project)).data.functions || [];
    } catch (e) {
      if (e.status !== 401) status('#deploy-status', e.message, true);
    }
  }
  if (seq !== functionsSeq) return fns;
  const tb = $('#functions tbody');
  tb.replaceChildren();
  for (const f of fns) {
    const name = `${f.requestId}/${f.fnName}`;
    const current = state.fn && !state.fn.isNew &&
      state.fn.request === f.requestId && state.fn.fn === f.fnName;
    add(tb, [el('tr', { class: current ? 'current' : '', 'data-fn': name },
      el('td', {}, el('button', {
        type: 'button', class: 'link', text: name,
        onclick: () => openFn(f.requestId, f.fnName),
      })),
      el('td', { text: f.active ?? '–' }),
      el('td', { text: bytes(f.size) }),
      el('td', { text: when(f.createdAt) }))]);
  }
  show($('#functions-empty'), state.project && fns.length === 0);
  show($('#functions'), fns.length > 0);
  return fns;
}

// ------------------------------------------------------------ a function

function status(sel, msg, bad = false) {
  const s = $(sel);
  text(s, msg);
  s.classList.toggle('error', bad);
}

function closeFn() {
  state.fn = null;
  state.versions = null;
  show($('#editor-pane'), false);
  show($('#placeholder'), true);
  document.body.classList.remove('has-fn');
}

function showFn(request, fn, isNew) {
  state.fn = { request, fn, isNew };
  text($('#fn-title'), `${state.project} / ${request} / ${fn}`);
  show($('#placeholder'), false);
  show($('#editor-pane'), true);
  document.body.classList.add('has-fn');
  show($('#result'), false);
  show($('#viewer-box'), false);
  text($('#invoke-error'), '');
  text($('#versions-status'), '');
  editor.refresh();
}

function setSource(src) {
  editor.value = src;
  state.deployed = src;
  editorChanged();
}

function editorChanged(origin) {
  if (!editor) return;
  // A user's edit clears a syntax error's marker: the line may have moved.
  if (origin && origin !== 'setValue') editor.clearError();
  show($('#dirty'), state.fn !== null && editor.value !== state.deployed);
}

async function openFn(request, fn) {
  showFn(request, fn, false);
  status('#deploy-status', 'Loading…');
  try {
    const v = await loadVersions();
    const n = v.active ?? (v.versions.length ? v.versions[v.versions.length - 1].version : null);
    setSource(n ? (await api.source(state.project, request, fn, n)).text : '');
    status('#deploy-status', v.active ? `Version ${v.active} is active.` : 'No version is active.');
  } catch (e) {
    status('#deploy-status', e.message, true);
  }
  await loadFunctions();
  editor.focus();
}

function createFn(request, fn) {
  const err = $('#create-error');
  text(err, '');
  if (!state.project) return text(err, 'Pick or open a project first.');
  if (!NAME_RE.test(request) || !NAME_RE.test(fn)) {
    return text(err, 'Names are letters, digits, _ and -, start with a letter or digit, at most 64.');
  }
  const row = document.querySelector(`#functions tr[data-fn="${CSS.escape(`${request}/${fn}`)}"]`);
  if (row) return openFn(request, fn);
  showFn(request, fn, true);
  state.versions = { active: null, versions: [] };
  renderVersions();
  setSource(TEMPLATE);
  state.deployed = '';
  editorChanged();
  status('#deploy-status', 'New function, not deployed yet: Deploy (Ctrl-S) stores version 1.');
  $('#create-form').reset();
  editor.focus();
}

function deploy() {
  if (!state.fn || state.deploying) return state.deploying;
  $('#deploy').disabled = true;
  state.deploying = doDeploy().finally(() => {
    state.deploying = null;
    $('#deploy').disabled = false;
  });
  return state.deploying;
}

async function doDeploy() {
  const { request, fn } = state.fn;
  const src = editor.value;
  const lang = $('#language').value;
  editor.clearError();
  status('#deploy-status', 'Deploying…');
  try {
    const { status: code, data } = await api.deploy(state.project, request, fn, src, lang);
    state.deployed = src;
    state.fn.isNew = false;
    editorChanged();
    status('#deploy-status', code === 201
      ? `Deployed version ${data.version} (${bytes(data.size)}); it is active.`
      : `No change: version ${data.version} is already active.`);
    await loadVersions();
    await loadProjects();
  } catch (e) {
    let msg = e.message;
    if (e.line) {
      editor.markError(e.line, e.message);
      msg = `${e.code} at line ${e.line}${e.column ? ', column ' + e.column : ''}: ${e.message}`;
    } else if (e instanceof ApiError && e.code !== 'network') {
      msg = `${e.code}: ${e.message}`;
    }
    status('#deploy-status', msg, true);
  } finally {
    editorChanged();
  }
}

// ------------------------------------------------------------ versions

async function loadVersions() {
  const { request, fn } = state.fn;
  state.versions = (await api.fn(state.project, request, fn)).data;
  renderVersions();
  return state.versions;
}

function renderVersions() {
  const tb = $('#versions tbody');
  tb.replaceChildren();
  const v = state.versions || { versions: [] };
  for (const x of [...v.versions].reverse()) {
    const active = x.version === v.active;
    add(tb, [el('tr', { class: active ? 'current' : '', 'data-version': x.version },
      el('td', { text: x.version }),
      el('td', { text: active ? 'active' : '' }),
      el('td', { text: bytes(x.size) }),
      el('td', {}, el('code', { title: x.sha256, text: String(x.sha256 || '').slice(0, 12) })),
      el('td', { text: when(x.createdAt) }),
      el('td', { class: 'actions' },
        el('button', { type: 'button', class: 'quiet', text: 'View', onclick: () => view(x.version) }),
        active ? null : el('button', {
          type: 'button', text: 'Activate', onclick: () => activate(x.version),
        })))]);
  }
}

async function view(n) {
  const { request, fn } = state.fn;
  try {
    const src = (await api.source(state.project, request, fn, n)).text;
    state.viewing = { version: n, source: src };
    text($('#viewer-title'), `Version ${n}${n === state.versions.active ? ' (active)' : ''}`);
    show($('#viewer-box'), true);
    viewer.setLanguage($('#language').value);
    viewer.value = src;
    viewer.refresh();
  } catch (e) {
    status('#versions-status', e.message, true);
  }
}

async function activate(n) {
  const { request, fn } = state.fn;
  try {
    await api.activate(state.project, request, fn, n);
    status('#versions-status', `Version ${n} is active: invocations run it from now on.`);
    await Promise.all([loadVersions(), loadFunctions()]);
  } catch (e) {
    status('#versions-status', e.message, true);
  }
}

// ------------------------------------------------------------ invoke

async function invoke() {
  if (!state.fn) return;
  // Ctrl-S then Ctrl-Enter: run what was just deployed.
  if (state.deploying) await state.deploying;
  if (state.fn.isNew) return status('#invoke-error', 'Deploy the function first.', true);
  const { request, fn } = state.fn;
  status('#invoke-error', 'Invoking…');
  try {
    const { data } = await api.invoke(state.project, request, fn, $('#body').value);
    text($('#invoke-error'), '');
    showResult(data);
  } catch (e) {
    show($('#result'), false);
    status('#invoke-error', `${e.code}: ${e.message}`, true);
  }
}

// ------------------------------------------------------------ wiring

function selectTab(name) {
  for (const b of document.querySelectorAll('.tabs [role=tab]')) {
    b.setAttribute('aria-selected', String(b.dataset.tab === name));
  }
  for (const p of document.querySelectorAll('.tab')) show(p, p.id === 'tab-' + name);
  if (name === 'health') refreshHealth();
  if (name === 'versions' && viewer) viewer.refresh();
}

// Capture phase, before CodeMirror sees the key: Ctrl/Cmd-S must not open
// the browser's "save page", and each shortcut must run once.
function onKey(ev) {
  if (!(ev.ctrlKey || ev.metaKey) || ev.altKey || $('#app').hidden) return;
  if (ev.key === 's' || ev.key === 'S') {
    ev.preventDefault();
    ev.stopPropagation();
    deploy();
  } else if (ev.key === 'Enter') {
    ev.preventDefault();
    ev.stopPropagation();
    selectTab('invoke');
    invoke();
  }
}

function wire() {
  $('#signin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    signIn($('#token').value.trim());
  });
  $('#signout').addEventListener('click', () => signOut('Signed out.', false));
  whenUnauthorized(() => signOut('The server no longer accepts this tab\'s token: sign in again.'));
  $('#project').addEventListener('change', (ev) => selectProject(ev.target.value));
  $('#refresh').addEventListener('click', () => loadProjects());
  $('#project-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = $('#new-project').value.trim();
    if (!NAME_RE.test(p)) {
      return status('#create-error', 'A project name is letters, digits, _ and -, at most 64.', true);
    }
    $('#new-project').value = '';
    loadProjects(p);
  });
  $('#create-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    createFn($('#new-request').value.trim(), $('#new-fn').value.trim());
  });
  $('#language').addEventListener('change', (ev) => {
    editor.setLanguage(ev.target.value);
    viewer.setLanguage(ev.target.value);
  });
  $('#deploy').addEventListener('click', deploy);
  $('#invoke').addEventListener('click', invoke);
  $('#phase').addEventListener('change', (ev) => { $('#body').value = sampleBody(ev.target.value); });
  $('#reset-body').addEventListener('click', () => { $('#body').value = sampleBody($('#phase').value); });
  $('#viewer-edit').addEventListener('click', () => {
    if (!state.viewing) return;
    editor.value = state.viewing.source;
    editorChanged('viewer');
    status('#deploy-status', `Version ${state.viewing.version} is in the editor: Deploy makes it a new version.`);
    editor.focus();
  });
  $('#health-refresh').addEventListener('click', refreshHealth);
  for (const b of document.querySelectorAll('.tabs [role=tab]')) {
    b.addEventListener('click', () => selectTab(b.dataset.tab));
  }
  document.addEventListener('keydown', onKey, true);
  initEnv();
  $('#body').value = sampleBody('before');
}

async function boot() {
  wire();
  startHealth();
  if (session.token) await enterApp();
  else showSignin('');
}

boot();
