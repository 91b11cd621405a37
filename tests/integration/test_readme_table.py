"""README "The JavaScript" cannot drift from the engine (issue 11): this
module reads the table of every construct and built-in (the one whose header
is "construct or built-in | state | probe | notes") from README.md and, for
each row, uploads its probe through the real stack and checks the row's
state:

  native                 the upload answers "lowered": false; the probe gives true
  lowered                "lowered": true; the probe gives true
  lowered (TypeScript)   uploaded with ?lang=ts; the probe gives true
  library, absent        the probe gives true
  unsupported: `422 X`   the upload is 422 with error X
  unsupported: throws `N` the call is 500 function_error, its message N: ...

A probe is a function body returning true or a promise of true; one that
contains `export default` is the whole module, whose handler sends "true".
"""

import os
import re

from fnrun_client import FnTestCase, invoke, unique_fn, upload

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "..", "README.md")
HEADER = ["construct or built-in", "state", "probe", "notes"]

WRAPPER = """function probe() {
%s
}
module.exports = function (req, res) {
  var v = probe();
  if (v !== null && typeof v === 'object' && typeof v.then === 'function')
    return v.then(function (x) { res.send(String(x)); });
  res.send(String(v));
};
"""


def cells(line):
    """The cells of a Markdown table row: split on | not escaped as \\|."""
    parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [p.strip().replace("\\|", "|") for p in parts]


def code_span(cell):
    """The text of a cell that is one code span (`x` or `` x ``)."""
    m = re.match(r"^(`+) ?(.*?) ?\1$", cell, re.S)
    if not m:
        raise ValueError("not a code span: %r" % cell)
    return m.group(2)


def table_rows(path=README):
    """[(name, state, probe)] of the table."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and cells(line) == HEADER:
            break
    else:
        raise AssertionError("README.md has no table headed %r" % HEADER)
    rows = []
    for line in lines[i + 2:]:
        if not line.startswith("|"):
            break
        c = cells(line)
        if len(c) != len(HEADER):
            raise AssertionError("row with %d cells: %r" % (len(c), line))
        rows.append((c[0], c[1], code_span(c[2])))
    return rows


class ReadmeTableTest(FnTestCase):

    def test_table_is_there_and_well_formed(self):
        rows = table_rows()
        self.assertGreaterEqual(len(rows), 50)
        states = {re.sub(r"[:(].*", "", s).strip() for _, s, _ in rows}
        self.assertLessEqual(states, {"native", "lowered", "library", "absent",
                                      "unsupported"})
        for name in ("`URL`", "`Map`", "`fetch`", "`structuredClone`",
                     "`async`/`await`", "`BigInt` (literals, `BigInt(...)`)"):
            self.assertIn(name, [n for n, _, _ in rows])

    def check_row(self, state, probe):
        whole = "export default" in probe
        src = probe if whole else WRAPPER % probe
        p, rq, f = unique_fn()
        ts = state == "lowered (TypeScript)"
        r = upload(p, rq, f, src, query="lang=ts" if ts else "")
        m = re.match(r"unsupported: `422 (\w+)`$", state)
        if m:
            self.assertError(r, 422, m.group(1))
            return
        self.assertIn(r.status, (200, 201), "upload: %r" % r)
        lowered = r.json().get("lowered")
        if state == "native":
            self.assertIs(lowered, False, "the upload was lowered")
        elif state.startswith("lowered"):
            self.assertIs(lowered, True, "the upload was not lowered")
        a = invoke(p, rq, f, b"{}")
        m = re.match(r"unsupported: throws `(\w+)`$", state)
        if m:
            body = self.assertError(a, 500, "function_error")
            self.assertTrue(body["message"].startswith(m.group(1) + ":"), body)
            return
        self.assertIn(state, ("native", "lowered", "lowered (TypeScript)",
                              "library", "absent"), "unknown state")
        self.assertEqual((a.status, a.text), (200, "true"),
                         "invoke: %r" % a)

    def test_each_row_holds(self):
        for name, state, probe in table_rows():
            with self.subTest(row=name):
                self.check_row(state, probe)


if __name__ == "__main__":
    import unittest
    unittest.main()
