#!/usr/bin/env node
// tests/console/flows.mjs - the console's flows (issue 14), each driven in
// Debian's chromium, headless, through playwright-core, against a running
// fnrun (tests/integration/test_console.py starts it through run.py's stack).
//
//   FNRUN_ADMIN_TOKEN_FILE=... node tests/console/flows.mjs --url URL --out DIR [FLOW...]
//
// The admin token is read from the file named by $FNRUN_ADMIN_TOKEN_FILE,
// never from the command line. Every flow gets its own browser context (its
// own session storage) and its own project. Output: one line per flow,
// "ok NAME" or "FAIL NAME: reason", then "N passed, M failed". A step that
// fails leaves a screenshot DIR/NAME-STEP.png; every flow leaves DIR/NAME.png
// at its end. Exit status 0 only if every flow passed.
//
// The browser never touches the network beyond the given URL (the flags
// below, and the page's own CSP); no browser is ever downloaded: it is
// /usr/bin/chromium (or $CHROMIUM).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const TIMEOUT_MS = 15000;
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-extensions', '--no-default-browser-check',
];

// ------------------------------------------------------------ arguments

function parseArgs(argv) {
  const a = { url: null, out: null, flows: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--url') a.url = argv[++i];
    else if (argv[i] === '--out') a.out = argv[++i];
    else a.flows.push(argv[i]);
  }
  if (!a.url || !a.out || !process.env.FNRUN_ADMIN_TOKEN_FILE) {
    console.error('usage: FNRUN_ADMIN_TOKEN_FILE=FILE node flows.mjs --url URL --out DIR [FLOW...]');
    process.exit(2);
  }
  return a;
}

const args = parseArgs(process.argv.slice(2));
const BASE = args.url.replace(/\/+$/, '');
const TOKEN = fs.readFileSync(process.env.FNRUN_ADMIN_TOKEN_FILE, 'utf8').trim();
const RUN = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
fs.mkdirSync(args.out, { recursive: true });

// ------------------------------------------------------------ the API, for set-up

async function api(method, p, body, headers = {}) {
  const res = await fetch(BASE + p, {
    method, body, headers: { Authorization: 'Bearer ' + TOKEN, ...headers },
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* source or empty */ }
  return { status: res.status, text, json };
}

async function deploy(p, r, f, src) {
  const res = await api('PUT', `/functions/${p}/${r}/${f}`, src,
    { 'Content-Type': 'application/javascript' });
  if (res.status !== 201 && res.status !== 200) throw new Error(`set-up deploy: ${res.status} ${res.text}`);
  return res.json;
}

// ------------------------------------------------------------ assertions

class Failure extends Error {}

function assert(cond, msg) {
  if (!cond) throw new Failure(msg);
}

function assertEq(got, want, msg) {
  if (got !== want) throw new Failure(`${msg}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// Waits until the element's text contains want (or matches it, a RegExp).
async function waitText(page, sel, want, what = sel) {
  try {
    await page.waitForFunction(([s, w, re]) => {
      const e = document.querySelector(s);
      if (!e || e.offsetParent === null && getComputedStyle(e).position !== 'fixed') return false;
      return re ? new RegExp(w).test(e.textContent) : e.textContent.includes(w);
    }, [sel, want instanceof RegExp ? want.source : want, want instanceof RegExp], { timeout: TIMEOUT_MS });
  } catch {
    const got = await page.evaluate((s) => document.querySelector(s)?.textContent ?? '(absent)', sel);
    throw new Failure(`${what}: wanted ${want}, shows ${JSON.stringify(got.slice(0, 400))}`);
  }
}

async function visibleText(page, sel) {
  return page.locator(sel).first().innerText();
}

// Reads (or, for "cursor-after-brace", sets) the state of an editor's
// CodeMirror instance, which CodeMirror 5 keeps on its wrapper element. A
// fixed list of operations: the page's CSP forbids eval, in tests too.
const cm = (page, sel, op) => page.evaluate(([s, o]) => {
  const c = document.querySelector(`${s} .CodeMirror`).CodeMirror;
  switch (o) {
    case 'value': return c.getValue();
    case 'mode': return c.getOption('mode');
    case 'readOnly': return c.getOption('readOnly');
    case 'marked-line':
      for (let i = 0; i < c.lineCount(); i++) {
        if ((c.lineInfo(i).bgClass || '').includes('fn-error-line')) return i + 1;
      }
      return null;
    case 'cursor-after-brace':
      c.focus();
      c.setCursor({ line: 0, ch: c.getLine(0).indexOf('{') + 1 });
      return null;
    default: throw new Error('unknown operation ' + o);
  }
}, [sel, op]);

// Replaces the editor's text as a user does: click, select all, type.
async function typeSource(page, src) {
  await page.click('#editor .CodeMirror-code');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(src);
  const got = await cm(page, '#editor', 'value');
  assertEq(got, src, 'editor text after typing');
}

// ------------------------------------------------------------ a flow's page

async function openPage(browser, flow) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  context.setDefaultTimeout(TIMEOUT_MS);
  const page = await context.newPage();
  const seen = { dialogs: [], errors: [], csp: [], requests: [] };
  page.on('dialog', (d) => { seen.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) seen.csp.push(m.text());
    else if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) seen.errors.push(m.text());
  });
  page.on('request', (r) => seen.requests.push(r.url()));
  return { context, page, seen };
}

async function signIn(page) {
  await page.goto(BASE + '/console/');
  await page.fill('#token', TOKEN);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#app').waitFor({ state: 'visible' });
}

async function pickProject(page, project) {
  await page.locator(`#project option[value="${project}"]`).waitFor({ state: 'attached' });
  await page.selectOption('#project', project);
  await page.locator('#functions tbody tr').first().waitFor();
}

async function openFn(page, name) {
  await page.click(`#functions tr[data-fn="${name}"] button`);
  await waitText(page, '#fn-title', name.replace('/', ' / '), 'title');
  await waitText(page, '#deploy-status', /active|No version/, 'status after opening');
}

async function invokeResult(page) {
  await page.locator('#result').waitFor({ state: 'visible' });
}

// ------------------------------------------------------------ the flows

const FLOWS = {};

// 1. Sign in: a wrong token gets a clear message; the token lives in this
// tab's session storage only (not in a URL, a cookie, localStorage, another
// tab), and Sign out forgets it.
FLOWS.signin = async ({ page, context, step }) => {
  await step('wrong-token', async () => {
    await page.goto(BASE + '/console/');
    await page.locator('#signin').waitFor({ state: 'visible' });
    await page.fill('#token', 'not-the-token-' + RUN);
    await page.click('#signin-form button[type=submit]');
    await waitText(page, '#signin-error', 'Wrong token', 'sign-in error');
    assert(!(await page.isVisible('#app')), 'the app shows after a wrong token');
    assertEq(await page.evaluate(() => sessionStorage.length), 0, 'session storage after a wrong token');
  });
  await step('right-token', async () => {
    await page.fill('#token', TOKEN);
    await page.keyboard.press('Enter');
    await page.locator('#app').waitFor({ state: 'visible' });
    assertEq(await page.inputValue('#token'), '', 'the token field is cleared');
  });
  await step('where-the-token-is', async () => {
    const store = await page.evaluate(() => ({
      session: Object.values(sessionStorage), local: localStorage.length, cookie: document.cookie,
    }));
    assert(store.session.includes(TOKEN), 'the token is not in session storage');
    assertEq(store.local, 0, 'localStorage entries');
    assertEq(store.cookie, '', 'document.cookie');
    assertEq((await context.cookies()).length, 0, 'cookies in the browser');
    assert(!page.url().includes(TOKEN), 'the token is in the page URL');
    // Another tab of the same browser is not signed in.
    const other = await context.newPage();
    await other.goto(BASE + '/console/');
    await other.locator('#signin').waitFor({ state: 'visible' });
    await other.close();
    // A reload of this tab still is.
    await page.reload();
    await page.locator('#app').waitFor({ state: 'visible' });
  });
  await step('sign-out', async () => {
    await page.click('#signout');
    await page.locator('#signin').waitFor({ state: 'visible' });
    const left = await page.evaluate((t) => Object.values(sessionStorage).includes(t), TOKEN);
    assert(!left, 'the token is still in session storage after signing out');
  });
};

// 2. Pick a project; its functions with active version, size and date;
// create a function.
FLOWS.functions = async ({ page, step, project }) => {
  const a1 = await deploy(project, 'r1', 'alpha', 'module.exports = function (req, res) { res.send("a1"); };\n');
  const a2 = await deploy(project, 'r1', 'alpha', 'module.exports = function (req, res) { res.send("a2!"); };\n');
  const b1 = await deploy(project, 'r2', 'beta', 'function action(req, res) { res.send("b"); }\n');
  assert(a1.version === 1 && a2.version === 2 && b1.version === 1, 'set-up versions');
  await signIn(page);
  await step('pick-project', async () => {
    await pickProject(page, project);
    await page.locator('#functions tr[data-fn="r2/beta"]').waitFor();
    const rows = await page.$$eval('#functions tbody tr', (trs) => trs.map((tr) =>
      [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assertEq(rows.length, 2, 'function rows');
    assertEq(rows[0][0], 'r1/alpha', 'first function');
    assertEq(rows[0][1], '2', 'active version of r1/alpha');
    assertEq(rows[0][2], `${a2.size} B`, 'size of r1/alpha');
    assert(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(rows[0][3]), `date of r1/alpha: ${rows[0][3]}`);
    const local = await page.evaluate((s) => {
      const d = new Date(s * 1000);
      return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
    }, a2.createdAt);
    assert(rows[0][3].startsWith(local), `date ${rows[0][3]} is not the day of createdAt ${a2.createdAt}`);
    assertEq(rows[1][0], 'r2/beta', 'second function');
    assertEq(rows[1][1], '1', 'active version of r2/beta');
  });
  await step('create', async () => {
    await page.fill('#new-request', 'r3');
    await page.fill('#new-fn', 'gamma');
    await page.click('#create-form button[type=submit]');
    await waitText(page, '#fn-title', 'r3 / gamma');
    await waitText(page, '#deploy-status', 'not deployed yet');
    const src = await cm(page, '#editor', 'value');
    assert(src.includes('module.exports'), 'the new function starts from the template');
    await page.click('#deploy');
    await waitText(page, '#deploy-status', 'Deployed version 1');
    await page.locator('#functions tr[data-fn="r3/gamma"]').waitFor();
    const got = await api('GET', `/functions/${project}/r3/gamma`);
    assertEq(got.json && got.json.active, 1, 'active version on the server');
  });
  await step('new-project', async () => {
    const fresh = project + '-new';
    await page.fill('#new-project', fresh);
    await page.click('#project-form button[type=submit]');
    await waitText(page, '#functions-empty', 'No functions');
    assertEq(await page.inputValue('#project'), fresh, 'selected project');
    await page.fill('#new-request', 'r1');
    await page.fill('#new-fn', 'first');
    await page.click('#create-form button[type=submit]');
    await page.keyboard.press('Control+s');
    await waitText(page, '#deploy-status', 'Deployed version 1');
    const projects = (await api('GET', '/projects')).json.projects;
    assert(projects.includes(fresh), 'GET /projects lists the new project');
  });
};

// 3. Edit and deploy (button, Ctrl-S, Cmd-S); a syntax error is shown with
// its message and marked on its line; a good deploy shows the new version.
// The editor: line numbers, bracket matching, JavaScript/TypeScript modes.
FLOWS.deploy = async ({ page, step, project }) => {
  await deploy(project, 'r1', 'edit', 'module.exports = function (req, res) { res.send("v1"); };\n');
  await signIn(page);
  await pickProject(page, project);
  await openFn(page, 'r1/edit');
  await step('editor', async () => {
    const src = await cm(page, '#editor', 'value');
    assert(src.includes('"v1"'), 'the active source is in the editor');
    assert(await page.locator('#editor .CodeMirror-linenumber').count() > 0, 'line numbers');
    await cm(page, '#editor', 'cursor-after-brace');
    await page.locator('#editor .CodeMirror-matchingbracket').first().waitFor();
    assertEq(await cm(page, '#editor', 'mode'), 'text/javascript', 'mode');
  });
  await step('syntax-error', async () => {
    await typeSource(page, 'module.exports = function (req, res) {\n  var a = 1;\n  var b = ;\n  res.send("x");\n};\n');
    await page.keyboard.press('Control+s');
    await waitText(page, '#deploy-status', 'line 3', 'deploy status');
    const msg = await visibleText(page, '#deploy-status');
    assert(/syntax_error/.test(msg) && /SyntaxError/.test(msg), `message: ${msg}`);
    assertEq(await page.locator('#editor .fn-error-line').count(), 1, 'marked lines');
    const marked = await cm(page, '#editor', 'marked-line');
    assertEq(marked, 3, 'the marked line');
    assert(await page.locator('#editor .fn-error-marker').count() === 1, 'gutter marker');
    await page.screenshot({ path: path.join(args.out, 'deploy-syntax-error.png') });
    assertEq((await api('GET', `/functions/${project}/r1/edit`)).json.active, 1, 'still version 1');
  });
  await step('good-deploy-button', async () => {
    await typeSource(page, 'module.exports = function (req, res) {\n  res.send("v2");\n};\n');
    assertEq(await page.locator('#editor .fn-error-line').count(), 0, 'marker cleared by the edit');
    assert(await page.isVisible('#dirty'), 'changed marker');
    await page.click('#deploy');
    await waitText(page, '#deploy-status', 'Deployed version 2');
    assert(!(await page.isVisible('#dirty')), 'changed marker after deploy');
    await waitText(page, '#functions tr[data-fn="r1/edit"] td:nth-child(2)', '2', 'active in the list');
  });
  await step('good-deploy-ctrl-s', async () => {
    await typeSource(page, 'module.exports = function (req, res) {\n  res.send("v3");\n};\n');
    await page.keyboard.press('Control+s');
    await waitText(page, '#deploy-status', 'Deployed version 3');
  });
  await step('good-deploy-cmd-s', async () => {
    await typeSource(page, 'module.exports = function (req, res) {\n  res.send("v4");\n};\n');
    await page.keyboard.press('Meta+s');
    await waitText(page, '#deploy-status', 'Deployed version 4');
    await page.locator('#deploy:not([disabled])').waitFor();
    await page.keyboard.press('Meta+s');
    await waitText(page, '#deploy-status', 'No change: version 4');
    const v = (await api('GET', `/functions/${project}/r1/edit`)).json;
    assertEq(v.active, 4, 'active version on the server');
    assertEq(v.versions.length, 4, 'versions on the server');
  });
  await step('typescript-mode', async () => {
    await typeSource(page, 'var n: number = 1;\n');
    assertEq(await page.locator('#editor .cm-type').count(), 0, 'type tokens in JavaScript mode');
    await page.selectOption('#language', 'ts');
    assertEq(await cm(page, '#editor', 'mode'), 'text/typescript', 'mode');
    await page.locator('#editor .cm-type', { hasText: 'number' }).waitFor();
    await page.selectOption('#language', 'js');
  });
};

// 4. Invoke (button, Ctrl-Enter, Cmd-Enter) with the prefilled body; the
// status, headers, body, logs, duration and memory of the debug envelope.
FLOWS.invoke = async ({ page, step, project }) => {
  await deploy(project, 'r1', 'echo', `module.exports = function (req, res) {
  var p = req.payload;
  console.log('phase is', p.phase);
  console.warn('url', p.request && p.request.url);
  res.send(JSON.stringify({ phase: p.phase, status: p.response ? p.response.status : null, note: p.note || null }), 201,
    { 'Content-Type': 'application/json', 'X-Echo': 'yes' });
};
`);
  // A fetch the default egress policy refuses (loopback): its entry in the
  // envelope's requests list, shown without the URL's query.
  await deploy(project, 'r1', 'fetcher', `module.exports = async function (req, res) {
  try { await fetch('http://127.0.0.1:1/private?token=s3cret'); } catch (e) { console.log(e.name); }
  res.send('done');
};
`);
  await signIn(page);
  await pickProject(page, project);
  await openFn(page, 'r1/echo');
  await step('prefilled-before', async () => {
    const body = JSON.parse(await page.inputValue('#body'));
    assertEq(body.phase, 'before', 'phase of the prefilled body');
    assert(body.request && body.request.url && body.request.method, 'request of the prefilled body');
    await page.click('#invoke');
    await invokeResult(page);
    await waitText(page, '#r-body', '"phase": "before"', 'body');
    assertEq(await visibleText(page, '#r-status'), '201', 'status');
    assertEq(await visibleText(page, '#r-version'), '1', 'version');
    assert(/^\d+(\.\d+)? ms$/.test(await visibleText(page, '#r-duration')), 'duration');
    assert(/^\d+(\.\d)? (B|KiB|MiB)$/.test(await visibleText(page, '#r-memory')), 'memory');
    const headers = await page.$$eval('#r-headers tr', (trs) => trs.map((tr) => tr.textContent));
    assert(headers.includes('X-Echoyes'), `headers: ${JSON.stringify(headers)}`);
    const logs = await page.$$eval('#r-logs li', (lis) => lis.map((li) => li.textContent));
    assertEq(logs[0], 'log phase is before', 'first log line');
    assert(/^warn url https:\/\//.test(logs[1]), `second log line: ${logs[1]}`);
    assert(await page.isVisible('#r-requests-none'), 'outbound requests: none');
  });
  await step('after-ctrl-enter', async () => {
    await page.selectOption('#phase', 'after');
    const body = JSON.parse(await page.inputValue('#body'));
    assertEq(body.phase, 'after', 'phase');
    assert(body.response && body.response.status === 200, 'response of the "after" body');
    await page.click('#body');
    await page.keyboard.press('Control+Enter');
    await waitText(page, '#r-body', '"phase": "after"', 'body');
    await waitText(page, '#r-body', '"status": 200', 'body');
  });
  await step('edited-cmd-enter', async () => {
    const body = JSON.parse(await page.inputValue('#body'));
    body.note = 'edited-' + RUN;
    await page.fill('#body', JSON.stringify(body));
    await page.click('#editor .CodeMirror-code');
    await page.keyboard.press('Meta+Enter');
    await waitText(page, '#r-body', 'edited-' + RUN, 'body');
  });
  await step('function-error', async () => {
    await typeSource(page, 'module.exports = function (req, res) {\n  throw new Error("broken " + req.payload.phase);\n};\n');
    await page.keyboard.press('Control+s');
    await waitText(page, '#deploy-status', 'Deployed version 2');
    await page.keyboard.press('Control+Enter');
    await waitText(page, '#r-error', 'broken after', 'error');
    assertEq(await visibleText(page, '#r-status'), '500', 'status');
    assertEq(await visibleText(page, '#r-version'), '2', 'version');
  });
  await step('outbound-requests', async () => {
    await openFn(page, 'r1/fetcher');
    await page.click('#invoke');
    await waitText(page, '#r-body', 'done', 'body');
    await page.locator('#r-requests').waitFor({ state: 'visible' });
    const rows = await page.$$eval('#r-requests tbody tr',
      (trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent)));
    assertEq(rows.length, 1, `requests: ${JSON.stringify(rows)}`);
    assertEq(rows[0][0], 'GET', 'method');
    assertEq(rows[0][1], 'http://127.0.0.1:1/private', 'url without its query');
    assert(/egress/.test(rows[0][4]), `error: ${rows[0][4]}`);
    assert(!JSON.stringify(rows).includes('s3cret'), 'the query stays out');
    assert(!(await page.isVisible('#r-requests-none')), 'not "none"');
  });
};

// 5. Versions: list, read any version's source, activate one (rollback) and
// see it take effect.
FLOWS.versions = async ({ page, step, project }) => {
  for (const s of ['one', 'two', 'three']) {
    await deploy(project, 'r1', 'ver', `module.exports = function (req, res) { res.send("${s}"); };\n`);
  }
  await signIn(page);
  await pickProject(page, project);
  await openFn(page, 'r1/ver');
  await page.click('.tabs [data-tab=versions]');
  await step('list', async () => {
    await page.locator('#versions tr[data-version="1"]').waitFor();
    const rows = await page.$$eval('#versions tbody tr', (trs) => trs.map((tr) => tr.dataset.version));
    assertEq(rows.join(','), '3,2,1', 'versions, newest first');
    await waitText(page, '#versions tr[data-version="3"]', 'active', 'active row');
  });
  await step('read', async () => {
    await page.click('#versions tr[data-version="1"] button:has-text("View")');
    await waitText(page, '#viewer-title', 'Version 1');
    const src = await cm(page, '#viewer', 'value');
    assert(src.includes('"one"'), `viewer source: ${src}`);
    assertEq(await cm(page, '#viewer', 'readOnly'), true, 'viewer is read-only');
  });
  await step('rollback', async () => {
    await page.click('#versions tr[data-version="1"] button:has-text("Activate")');
    await waitText(page, '#versions-status', 'Version 1 is active');
    await waitText(page, '#versions tr[data-version="1"]', 'active', 'active row');
    assertEq((await api('GET', `/functions/${project}/r1/ver`)).json.active, 1, 'active on the server');
    await waitText(page, '#functions tr[data-fn="r1/ver"] td:nth-child(2)', '1', 'active in the list');
    await page.click('.tabs [data-tab=invoke]');
    await page.click('#invoke');
    await waitText(page, '#r-body', 'one', 'body after rollback');
    assertEq(await visibleText(page, '#r-version'), '1', 'version invoked');
  });
  await step('open-old-in-editor', async () => {
    await page.click('.tabs [data-tab=versions]');
    await page.click('#versions tr[data-version="2"] button:has-text("View")');
    await waitText(page, '#viewer-title', 'Version 2');
    await page.click('#viewer-edit');
    const src = await cm(page, '#editor', 'value');
    assert(src.includes('"two"'), 'version 2 is in the editor');
  });
};

// 6. Environment variables: names listed, a value set (write-only: never
// shown again), one removed.
FLOWS.env = async ({ page, step, project }) => {
  const value = 'sekret-' + RUN;
  await deploy(project, 'r1', 'env', 'module.exports = function (req, res) { res.json({ has: req.env.API_KEY === "' + value + '", names: Object.keys(req.env).sort() }); };\n');
  await api('PUT', `/projects/${project}/env/EXISTING`, 'x');
  await signIn(page);
  await pickProject(page, project);
  await page.click('.tabs [data-tab=env]');
  await step('list', async () => {
    await page.locator('#env-names li[data-name="EXISTING"]').waitFor();
  });
  await step('bad-name', async () => {
    await page.fill('#env-name', 'lower');
    await page.fill('#env-value', 'v');
    await page.click('#env-form button[type=submit]');
    await waitText(page, '#env-status', 'upper-case');
  });
  await step('set', async () => {
    await page.fill('#env-name', 'API_KEY');
    await page.fill('#env-value', value);
    await page.click('#env-form button[type=submit]');
    await page.locator('#env-names li[data-name="API_KEY"]').waitFor();
    assertEq(await page.inputValue('#env-value'), '', 'value field after set');
    assertEq(await page.getAttribute('#env-value', 'type'), 'password', 'value field type');
    const shown = await page.evaluate((v) => document.body.innerText.includes(v) ||
      [...document.querySelectorAll('input, textarea')].some((e) => e.value.includes(v)), value);
    assert(!shown, 'the value is on the page');
    const names = (await api('GET', `/projects/${project}/env`)).json.names;
    assertEq(names.join(','), 'API_KEY,EXISTING', 'names on the server');
    await openFn(page, 'r1/env');
    await page.click('.tabs [data-tab=invoke]');
    await page.click('#invoke');
    await waitText(page, '#r-body', '"has": true', 'the function sees the value');
  });
  await step('remove', async () => {
    await page.click('.tabs [data-tab=env]');
    await page.click('#env-names li[data-name="EXISTING"] button');
    await waitText(page, '#env-status', 'Removed EXISTING');
    await page.locator('#env-names li[data-name="EXISTING"]').waitFor({ state: 'detached' });
    const names = (await api('GET', `/projects/${project}/env`)).json.names;
    assertEq(names.join(','), 'API_KEY', 'names on the server');
  });
};

// 7. Health: the /healthz fields and the worker count.
FLOWS.health = async ({ page, step }) => {
  const h = await (await fetch(BASE + '/healthz')).json();
  await signIn(page);
  await step('summary', async () => {
    await waitText(page, '#health-summary', `${h.workers.alive} workers`, 'health summary');
    await waitText(page, '#health-summary', h.status, 'health summary');
  });
  await step('tab', async () => {
    await page.click('.tabs [data-tab=health]');
    await page.locator('#health tr[data-field="workers alive"]').waitFor();
    const rows = Object.fromEntries(await page.$$eval('#health tr', (trs) =>
      trs.map((tr) => [tr.dataset.field, tr.querySelector('td').textContent])));
    assertEq(rows.status, h.status, 'status');
    assertEq(rows.store, h.store, 'store');
    assertEq(rows.memcached, h.memcached, 'memcached');
    assertEq(rows['workers alive'], String(h.workers.alive), 'workers alive');
    assert(/^\d+$/.test(rows['workers busy']), 'workers busy');
    assertEq(rows.engine, h.engine, 'engine');
  });
};

// 8. Nothing a function returns runs in the page: its body, headers, logs
// and error are shown as text; no dialog opens, no script runs, no element
// is made from them, and no image is even requested.
const HOSTILE = `module.exports = function (req, res) {
  console.log('<img src=x onerror="window.__pwned=1;alert(1)">');
  console.error('<script>window.__pwned=2;alert(2)<\\/script>');
  res.send('<script>window.__pwned=3;alert(3)<\\/script><img src=x onerror="window.__pwned=4;alert(4)"><b>bold</b>', 200, {
    'Content-Type': 'text/html',
    'X-Evil': '<img src=x onerror="window.__pwned=5;alert(5)">',
    'X-Evil-Script': '<script>alert(6)<\\/script>'
  });
};
`;
const HOSTILE_ERROR = `module.exports = function (req, res) {
  throw new Error('<img src=x onerror="window.__pwned=7;alert(7)">');
};
`;

FLOWS.xss = async ({ page, step, project, seen }) => {
  await deploy(project, 'r1', 'evil', HOSTILE);
  await deploy(project, 'r1', 'evilerr', HOSTILE_ERROR);
  await signIn(page);
  await pickProject(page, project);
  const noScriptRan = async (what) => {
    const r = await page.evaluate(() => ({
      pwned: window.__pwned ?? null,
      // No element at all inside what shows the function's output.
      elements: document.querySelectorAll('body img, body script, #r-body *, #r-error *, ' +
        '#r-headers td *, #r-logs li span *, #viewer .CodeMirror-code img').length,
    }));
    assertEq(r.pwned, null, `${what}: window.__pwned`);
    assertEq(r.elements, 0, `${what}: elements made from the function's output`);
    assertEq(seen.dialogs.length, 0, `${what}: dialogs`);
    const x = seen.requests.filter((u) => /\/x$/.test(new URL(u).pathname));
    assertEq(x.length, 0, `${what}: requests for the image "x"`);
  };
  await step('body-headers-logs', async () => {
    await openFn(page, 'r1/evil');
    const src = await cm(page, '#editor', 'value');
    assertEq(src, HOSTILE, 'the hostile source, in the editor as text');
    await page.click('#invoke');
    await waitText(page, '#r-body', '<script>window.__pwned=3;alert(3)</script><img src=x onerror=', 'body');
    await waitText(page, '#r-body', '<b>bold</b>', 'body');
    await waitText(page, '#r-headers', 'X-Evil<img src=x onerror="window.__pwned=5;alert(5)">', 'headers');
    await waitText(page, '#r-headers', '<script>alert(6)</script>', 'headers');
    await waitText(page, '#r-logs', 'log <img src=x onerror="window.__pwned=1;alert(1)">', 'logs');
    await waitText(page, '#r-logs', 'error <script>window.__pwned=2;alert(2)</script>', 'logs');
    assert(await page.isVisible('text=<b>bold</b>'), 'the markup is visible as text');
    await page.waitForTimeout(300);  // an image error or a timer would have fired by now
    await noScriptRan('body, headers, logs');
  });
  await step('error', async () => {
    await openFn(page, 'r1/evilerr');
    await page.click('#invoke');
    await waitText(page, '#r-error', '<img src=x onerror="window.__pwned=7;alert(7)">', 'error');
    await page.waitForTimeout(300);
    await noScriptRan('error');
  });
  await step('versions-viewer', async () => {
    await openFn(page, 'r1/evil');
    await page.click('.tabs [data-tab=versions]');
    await page.click('#versions tr[data-version="1"] button:has-text("View")');
    await waitText(page, '#viewer', 'onerror=', 'viewer');
    await noScriptRan('viewer');
  });
};

// ------------------------------------------------------------ the runner

async function runFlow(browser, name) {
  const project = `c-${RUN}-${name}`;
  const { context, page, seen } = await openPage(browser, name);
  let current = 'start';
  const step = async (label, fn) => {
    current = label;
    await fn();
  };
  try {
    await FLOWS[name]({ page, context, step, project, seen });
    current = 'end';
    assertEq(seen.errors.length, 0, `page errors ${JSON.stringify(seen.errors)}`);
    assertEq(seen.csp.length, 0, `CSP violations ${JSON.stringify(seen.csp)}`);
    assertEq(seen.dialogs.length, 0, `dialogs ${JSON.stringify(seen.dialogs)}`);
    const leaked = seen.requests.filter((u) => u.includes(TOKEN) || !u.startsWith(BASE + '/'));
    assertEq(leaked.length, 0, `requests with the token or elsewhere ${JSON.stringify(leaked)}`);
    await page.screenshot({ path: path.join(args.out, `${name}.png`), fullPage: true });
    console.log(`ok ${name}`);
    return true;
  } catch (e) {
    const shot = path.join(args.out, `${name}-${current}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    const why = e instanceof Failure ? e.message : (e.stack || String(e)).split('\n').slice(0, 4).join(' | ');
    console.log(`FAIL ${name}: step ${current}: ${why.replace(/\s*\n\s*/g, ' ')} (screenshot ${shot})`);
    return false;
  } finally {
    await context.close().catch(() => {});
  }
}

async function main() {
  const names = args.flows.length ? args.flows : Object.keys(FLOWS);
  for (const n of names) {
    if (!FLOWS[n]) {
      console.error(`unknown flow ${n} (${Object.keys(FLOWS).join(', ')})`);
      process.exit(2);
    }
  }
  // Playwright gives the browser a fresh profile (its --user-data-dir) under
  // TMPDIR: here one of this run's own, removed at the end.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fnrun-console-'));
  process.env.TMPDIR = tmp;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, TMPDIR: tmp, HOME: tmp },
  });
  let passed = 0;
  let failed = 0;
  try {
    for (const n of names) {
      if (await runFlow(browser, n)) passed++;
      else failed++;
    }
  } finally {
    await browser.close().catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
