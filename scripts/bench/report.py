#!/usr/bin/env python3
"""Medians of scripts/bench/run.sh's wsbench JSON results, as markdown.

    report.py RESULTS_DIR OUT

RESULTS_DIR holds SCENARIO.SERVER.REP.json, machine.txt and commands.txt.
OUT is a markdown file whose text between the results markers is replaced
(the whole file is written when it has none), or "-" for stdout.
"""
import glob
import json
import os
import re
import statistics
import sys

BEGIN = "<!-- bench results: begin (written by scripts/bench/run.sh) -->"
END = "<!-- bench results: end -->"
ORDER = ["wshost-go", "wshost-c", "wshost-rust", "native", "gorilla", "centrifugo", "node-ws"]
LABEL = {
    "wshost-go": "wshost, Go plugin (Wasm)",
    "wshost-c": "wshost, C plugin (Wasm)",
    "wshost-rust": "wshost, Rust plugin (Wasm)",
    "native": "wshost, native Go handler",
    "gorilla": "gorilla chat example",
    "centrifugo": "Centrifugo",
    "node-ws": "Node ws",
}


def load(res):
    runs = {}
    for path in glob.glob(os.path.join(res, "*.json")):
        scen, server, _rep, _ = os.path.basename(path).split(".", 3)
        try:
            with open(path) as f:
                d = json.load(f)
        except (OSError, ValueError):
            continue
        runs.setdefault((scen, server), []).append(d)
    return runs


def med(rs, key):
    vals = [r[key] for r in rs if isinstance(r.get(key), (int, float))]
    return statistics.median(vals) if vals else None


def total(rs, key):
    vals = [r[key] for r in rs if isinstance(r.get(key), (int, float))]
    return sum(vals) if vals else None


def fmt(v, digits=2):
    if v is None:
        return "—"
    return f"{v:,.{digits}f}"


def table(runs, scen, cols):
    servers = [s for s in ORDER if (scen, s) in runs] + sorted(
        s for (sc, s) in runs if sc == scen and s not in ORDER)
    if not servers:
        return ""
    head = "| server | runs | " + " | ".join(c[0] for c in cols) + " |"
    sep = "|---|---:|" + "---:|" * len(cols)
    rows = [head, sep]
    for s in servers:
        rs = runs[(scen, s)]
        cells = [fmt(fn(rs, s), d) for _, fn, d in cols]
        rows.append(f"| {LABEL.get(s, s)} | {len(rs)} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def m(key):
    return lambda rs, _s: med(rs, key)


def t(key):
    return lambda rs, _s: total(rs, key)


def main():
    res, out = sys.argv[1], sys.argv[2]
    runs = load(res)
    with open(os.path.join(res, "machine.txt")) as f:
        machine = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    with open(os.path.join(res, "commands.txt")) as f:
        commands = f.read().strip()

    def steady_p99(rs, s):
        return med(runs.get(("fanout", s), []), "p99_ms")

    parts = [BEGIN, ""]
    parts.append(f"Run {machine.get('date', '?')}: {machine.get('params')}; servers "
                 f"`{machine.get('servers')}`, scenarios `{machine.get('scenarios')}`.\n")
    parts.append("**Machine:** " + ", ".join(f"{k} {machine[k]}" for k in
                 ("nproc", "cpu", "kernel", "mem", "nofile") if k in machine) + ".  ")
    parts.append("**Versions:** " + ", ".join(f"{k} {machine[k]}" for k in
                 ("wshost", "go", "gorilla", "centrifugo", "node", "ws") if k in machine) + ".\n")
    parts.append("Medians over the repetitions; drops and errors are totals over them.\n")
    sections = [
        ("fanout", "### fanout: one room, every connection sends, every message to every member", [
            ("server CPU µs/delivery", m("server_cpu_us_per_delivery"), 2),
            ("deliveries/s", m("deliveries_per_s"), 0),
            ("p50 ms", m("p50_ms"), 2), ("p99 ms", m("p99_ms"), 2), ("p99.9 ms", m("p999_ms"), 2),
            ("drops", t("drops"), 0), ("errors", t("errors"), 0)]),
        ("echo", "### echo: every connection alone in its room (its messages come back to it only)", [
            ("server CPU µs/delivery", m("server_cpu_us_per_delivery"), 2),
            ("deliveries/s", m("deliveries_per_s"), 0),
            ("p50 ms", m("p50_ms"), 2), ("p99 ms", m("p99_ms"), 2), ("p99.9 ms", m("p999_ms"), 2),
            ("drops", t("drops"), 0), ("errors", t("errors"), 0)]),
        ("idle", "### idle: connections held, nothing sent", [
            ("conns", m("conns"), 0),
            ("server RSS KiB/conn", m("server_rss_kib_per_conn"), 1),
            ("connects/s", m("connect_per_s"), 0),
            ("errors", t("errors"), 0)]),
        ("reload", "### reload: fanout while the plugin file is replaced every second", [
            ("reloads", m("reloads"), 0),
            ("server CPU µs/delivery", m("server_cpu_us_per_delivery"), 2),
            ("deliveries/s", m("deliveries_per_s"), 0),
            ("p50 ms", m("p50_ms"), 2), ("p99 ms", m("p99_ms"), 2),
            ("steady p99 ms (fanout)", steady_p99, 2),
            ("drops", t("drops"), 0), ("errors", t("errors"), 0)]),
    ]
    for scen, title, cols in sections:
        tb = table(runs, scen, cols)
        if tb:
            parts += [title, "", tb]
    parts += ["### Exact commands (first repetition; `$SERVER_PID` is the server's pid)", "",
              "```sh", commands, "```", "", END]
    write_block(out, "\n".join(parts) + "\n", BEGIN, END)


def write_block(out, block, begin, end):
    """Puts block (which starts with begin and ends with end) in place of
    what lies between those markers in the file out, or at its end; out
    "-" prints it instead."""
    if out == "-":
        sys.stdout.write(block)
        return
    try:
        with open(out) as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    if begin in text and end in text:
        text = text[:text.index(begin)] + block.rstrip("\n") + text[text.index(end) + len(end):]
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + block
    with open(out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
