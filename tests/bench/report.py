#!/usr/bin/env python3
"""report.py - turns what scripts/bench.sh measured into its tables.

    report.py DIR TITLE MANY [THINK_MS]

Reads, in DIR (var/bench):
  raw.tsv      round, workload, target, rps, p50_ms, p99_ms, errors: one line
               per wrk run (the ceiling's workload is "ceiling": it does the
               same for every path, so one measurement per round serves all;
               a workload ending in "-paced" ran at equal load, each
               connection waiting THINK_MS between an answer and its next
               request)
  memory.tsv   target, processes, rss_kb, pss_kb: each architecture's
               processes after the run (VmRSS and Pss summed)
  cold.txt     "first_p50 first_p99 warm_p50 warm_p99" (ms), if measured
  density.txt  "key value" lines about warm functions, if measured
Writes DIR/latest.tsv (every figure, one row per workload and target, with
fnrun's ratios against that target) and DIR/latest.md (the tables, as
markdown, also printed). Every figure is the median of the rounds; every
ratio is the median of the ratios within each round (the two cells ran
minutes apart at most, so a load that comes and goes on a shared machine
moves both). Not part of the product.
"""

import os
import statistics
import sys

TARGETS = ("ceiling", "ceiling-close", "node", "njs", "fnrun")
TITLES = {"ceiling": "bare libfcgi", "ceiling-close": "bare, closing at once",
          "node": "Node + nginx", "njs": "njs", "fnrun": "fnrun"}
WORKLOADS = ("hello", "async", "json", "json-payload", "cpu", "many")
PACED = ("hello-paced", "json-paced")
WHAT = {
    "hello": 'hello: ignore the body, send "hello"',
    "json": "json: `JSON.parse(req.body)`, add 2 fields, `JSON.stringify`",
    "json-payload": "json-payload: the same from `req.payload`",
    "async": "async: hello from a promise reaction (peers: their hello)",
    "cpu": "cpu: `fib(20)`",
    "many": "many: hello over {many:,} functions",
}


def source(workload, target):
    """The measured cell (workload, target) that stands for TARGET in
    WORKLOAD's row, or None: the ceiling answers "hello" whatever the path, so
    it is no peer for cpu; the peers have no req.payload, so their json is
    json-payload's reference; many is fnrun's alone; a paced row's ceilings
    are their one paced run ("ceiling-paced"), as in the flat-out rows."""
    if target == "fnrun":
        return (workload, "fnrun")
    if workload in PACED:
        return ("ceiling-paced", target) if target.startswith("ceiling") else (workload, target)
    if target in ("ceiling", "ceiling-close"):
        return None if workload == "cpu" else ("ceiling", target)
    if workload == "json-payload":
        return ("json", target)
    if workload == "async":
        return ("hello", target)
    if workload in ("hello", "json", "cpu"):
        return (workload, target)
    return None


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def ratio(a, b):
    return "%.2f" % (a / b) if a and b else "—"


def fmt_int(v):
    return "{:,}".format(int(round(v)))


def main(outdir, title, many, think):
    runs = {}
    by_round = {}
    for rnd, w, t, rps, p50, p99, err in read_tsv(os.path.join(outdir, "raw.tsv")):
        runs.setdefault((w, t), []).append((float(rps), float(p50), float(p99), int(err)))
        by_round[(rnd, w, t)] = {"rps": float(rps), "p50": float(p50), "p99": float(p99)}
    rounds = sorted({k[0] for k in by_round})
    med = {}
    for cell, rs in runs.items():
        med[cell] = {"rps": statistics.median(r[0] for r in rs),
                     "p50": statistics.median(r[1] for r in rs),
                     "p99": statistics.median(r[2] for r in rs),
                     "errors": sum(r[3] for r in rs), "rounds": len(rs)}
    memory = {t: (int(n), int(rss), int(pss))
              for t, n, rss, pss in read_tsv(os.path.join(outdir, "memory.tsv"))}

    def fig(w, t):
        s = source(w, t)
        return (s, med.get(s)) if s else (None, None)

    def rat(w, t, key):
        """fnrun's KEY in workload W over T's, the median of the rounds."""
        f, p = source(w, "fnrun"), source(w, t)
        if f is None or p is None:
            return "—"
        rs = [by_round[(r,) + f][key] / by_round[(r,) + p][key] for r in rounds
              if (r,) + f in by_round and (r,) + p in by_round and by_round[(r,) + p][key]]
        return "%.2f" % statistics.median(rs) if rs else "—"

    # latest.tsv
    rows = ["workload\ttarget\trps\tp50_ms\tp99_ms\terrors\trounds\tmeasured_as"
            "\tfnrun_rps_ratio\tfnrun_p50_ratio\tfnrun_p99_ratio\trss_mb\tpss_mb"]
    for w in WORKLOADS + PACED:
        for t in TARGETS:
            s, m = fig(w, t)
            if m is None:
                continue
            mem_t = "many" if (w, t) == ("many", "fnrun") else t
            n, rss, pss = memory.get(mem_t, (0, 0, 0))
            rows.append("\t".join([
                w, t, "%.0f" % m["rps"], "%.3f" % m["p50"], "%.3f" % m["p99"],
                str(m["errors"]), str(m["rounds"]), s[0],
                rat(w, t, "rps"), rat(w, t, "p50"), rat(w, t, "p99"),
                "%.1f" % (rss / 1024), "%.1f" % (pss / 1024)]))
    with open(os.path.join(outdir, "latest.tsv"), "w") as out:
        out.write("\n".join(rows) + "\n")

    def table(workloads, label, cell, heads, extras):
        """Markdown rows: a row per workload (label(w)), a column per target
        (cell(m, s, w) of its medians m, measured as cell s), then one
        column per head in HEADS (extras(w))."""
        lines = ["| workload | " + " | ".join([TITLES[t] for t in TARGETS] + heads) + " |",
                 "|---" * (len(TARGETS) + 1 + len(heads)) + "|"]
        for w in workloads:
            cells = []
            for t in TARGETS:
                s, m = fig(w, t)
                cells.append("—" if m is None else cell(m, s, w))
            lines.append("| " + " | ".join([label(w)] + cells + extras(w)) + " |")
        return lines

    # latest.md
    md = [title, "", "Requests per second (median of the rounds) and fnrun's ratio to each peer "
          "(median of the rounds' ratios):", ""]
    md += table(WORKLOADS, lambda w: WHAT[w].format(many=many),
                lambda m, s, w: fmt_int(m["rps"]) + (
                    "" if s[0] == w or s[0] == "ceiling" else " (%s)" % s[0]),
                ["fnrun ÷ bare", "fnrun ÷ bare closing at once", "fnrun ÷ Node", "fnrun ÷ njs"],
                lambda w: [rat(w, t, "rps") for t in ("ceiling", "ceiling-close", "node", "njs")])
    md += ["", "Latency in ms, p50 / p99 (median of the rounds):", ""]
    md += table(WORKLOADS, str, lambda m, s, w: "%.2f / %.2f" % (m["p50"], m["p99"]),
                ["fnrun p99 ÷ bare p99"], lambda w: [rat(w, "ceiling", "p99")])
    if any(fig(w, "fnrun")[1] for w in PACED):
        md += ["", "Latency at equal load in ms, p50 / p99, and req/s (medians of the rounds): "
               "each connection waits %s ms between an answer and its next request, so "
               "no target runs its cores flat out:" % think, ""]
        md += table(PACED, str, lambda m, s, w: "%.2f / %.2f (%s)" % (
                        m["p50"], m["p99"], fmt_int(m["rps"])),
                    ["fnrun p99 ÷ bare p99", "fnrun p99 ÷ bare closing at once p99"],
                    lambda w: [rat(w, "ceiling", "p99"), rat(w, "ceiling-close", "p99")])
    if memory:
        md += ["", "Memory of each architecture after the run (every process it needs: "
               "nginx master and workers, and the runtime's processes):", "",
               "| architecture | processes | RSS MiB (sum of VmRSS) | PSS MiB (sum of Pss) |",
               "|---|---|---|---|"]
        names = dict(TITLES, fnrun="fnrun (hello, json, cpu warm; memcached included)",
                     many="fnrun with {:,} warm functions (many)".format(many),
                     ceiling="bare libfcgi (nginx + workers)",
                     **{"ceiling-close": "bare libfcgi closing at once (nginx + workers)"})
        for t in ("ceiling", "ceiling-close", "node", "njs", "fnrun", "many"):
            if t in memory:
                n, rss, pss = memory[t]
                md.append("| %s | %d | %.1f | %.1f |" % (names[t], n, rss / 1024, pss / 1024))
    cold = os.path.join(outdir, "cold.txt")
    if os.path.exists(cold):
        with open(cold) as f:
            fp50, fp99, wp50, wp99 = (float(x) for x in f.read().split())
        md += ["", "cold: a new function's first call, end to end over one kept-alive "
               "connection, against its second call (1 worker): first p50 %.2f ms "
               "(p99 %.2f), warm p50 %.2f ms (p99 %.2f); first ÷ warm = %s"
               % (fp50, fp99, wp50, wp99, ratio(fp50, wp50))]
    density = os.path.join(outdir, "density.txt")
    if os.path.exists(density):
        with open(density) as f:
            md += ["", "many: " + "; ".join(line.strip() for line in f if line.strip())]
    errs = ["%s on %s: %d" % (w, t, m["errors"]) for (w, t), m in sorted(med.items())
            if m["errors"]]
    if errs:
        md += ["", "ERRORS (non-2xx answers, timeouts or socket errors): " + ", ".join(errs)]
    text = "\n".join(md) + "\n"
    with open(os.path.join(outdir, "latest.md"), "w") as out:
        out.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: report.py DIR TITLE MANY [THINK_MS]")
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) == 5 else "?")
