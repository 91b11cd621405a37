// editor.js - the code editor: Debian's CodeMirror 5 (window.CodeMirror,
// loaded by index.html's classic scripts from /console/codemirror/), with
// JavaScript and TypeScript modes, line numbers, bracket matching and a
// marker on the line of a syntax error. Without CodeMirror (libjs-codemirror
// not installed) it falls back to a plain textarea with the same interface,
// so the console still works, unhighlighted.

import { el } from './dom.js';

const MODES = { js: 'text/javascript', ts: 'text/typescript' };
const ERROR_GUTTER = 'fn-error-gutter';

export function createEditor(parent, { readOnly = false, onChange = () => {} } = {}) {
  const CM = window.CodeMirror;
  if (typeof CM !== 'function') return textareaEditor(parent, { readOnly, onChange });
  const cm = CM(parent, {
    value: '',
    mode: MODES.js,
    lineNumbers: true,
    matchBrackets: true,
    indentUnit: 2,
    tabSize: 2,
    readOnly,
    gutters: ['CodeMirror-linenumbers', ERROR_GUTTER],
  });
  cm.on('change', (_cm, change) => onChange(change.origin));
  let marked = null;

  const api = {
    kind: 'codemirror',
    get value() { return cm.getValue(); },
    set value(v) {
      api.clearError();
      cm.setValue(v);
      cm.clearHistory();
    },
    setLanguage(lang) { cm.setOption('mode', MODES[lang] || MODES.js); },
    // line is 1-based, as the server's 422 gives it (SPEC §4).
    markError(line, message) {
      api.clearError();
      const n = Math.min(Math.max(line - 1, 0), cm.lineCount() - 1);
      const h = cm.getLineHandle(n);
      cm.addLineClass(h, 'background', 'fn-error-line');
      cm.setGutterMarker(h, ERROR_GUTTER,
        el('span', { class: 'fn-error-marker', title: message, text: '●' }));
      cm.scrollIntoView({ line: n, ch: 0 }, 80);
      marked = h;
    },
    clearError() {
      if (!marked) return;
      cm.removeLineClass(marked, 'background', 'fn-error-line');
      cm.setGutterMarker(marked, ERROR_GUTTER, null);
      marked = null;
    },
    // 1-based line of the marker, or null (for the tests and the status line).
    get errorLine() { return marked ? cm.getLineNumber(marked) + 1 : null; },
    focus() { cm.focus(); },
    refresh() { cm.refresh(); },
  };
  return api;
}

function textareaEditor(parent, { readOnly, onChange }) {
  const ta = el('textarea', { class: 'code fallback', spellcheck: 'false', 'aria-label': 'Source' });
  ta.readOnly = readOnly;
  ta.rows = 20;
  ta.addEventListener('input', () => onChange('+input'));
  parent.append(ta);
  let line = null;
  return {
    kind: 'textarea',
    get value() { return ta.value; },
    set value(v) { ta.value = v; line = null; },
    setLanguage() {},
    markError(n) { line = n; },
    clearError() { line = null; },
    get errorLine() { return line; },
    focus() { ta.focus(); },
    refresh() {},
  };
}
