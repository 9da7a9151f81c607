#!/usr/bin/env python3
"""Tables of scripts/bench/cluster.sh's results, as markdown.

    cluster_report.py RESULTS_DIR OUT

RESULTS_DIR holds fanout.CONFIG.REP.json, idle.summary, idle.wsbenchN.json,
machine.txt and commands.txt. OUT is a markdown file whose text between the
cluster results markers is replaced (appended when it has none), or "-" for
stdout.
"""
import glob
import json
import os
import re
import statistics
import sys

from report import write_block  # the runner's, beside this file

BEGIN = "<!-- cluster results: begin (written by scripts/bench/cluster.sh) -->"
END = "<!-- cluster results: end -->"


def label(cfg):
    if cfg == "single":
        return "1 node, no NATS (baseline)", 1
    n = int(cfg[1:])
    return f"{n} node{'s' if n > 1 else ''} over NATS", n


def med(vals):
    vals = [v for v in vals if isinstance(v, (int, float))]
    return statistics.median(vals) if vals else None


def fmt(v, digits=2):
    if v is None:
        return "—"
    return f"{v:,.{digits}f}"


def kv(path):
    out = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                out[k] = v
    return out


def fanout(res):
    runs = {}
    for path in glob.glob(os.path.join(res, "fanout.*.json")):
        _, cfg, _rep, _ = os.path.basename(path).split(".", 3)
        try:
            with open(path) as f:
                d = json.load(f)
        except (OSError, ValueError):
            continue
        load = path[:-len(".json")] + ".load"
        d["_load"] = kv(load) if os.path.exists(load) else {}
        runs.setdefault(cfg, []).append(d)
    if not runs:
        return ""

    def order(c):
        return (0, 0) if c == "single" else (1, int(c[1:]))

    rows = ["| configuration | runs | deliveries/s | p50 ms | p99 ms | p99.9 ms | node CPU µs/delivery "
            "| NATS CPU µs/delivery | node + NATS µs/delivery | node CPU s per node (median) "
            "| servers' CPU: ours / others' / irq % | drops | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|"]
    for cfg in sorted(runs, key=order):
        rs = runs[cfg]
        name, n = label(cfg)
        nats = cfg != "single"
        node = med([r.get("server_cpu_us_per_delivery") for r in rs])
        broker = med([r.get("broker_cpu_us_per_delivery", 0) for r in rs]) if nats else None
        both = med([r.get("server_cpu_us_per_delivery", 0) + r.get("broker_cpu_us_per_delivery", 0)
                    for r in rs])
        if n > 1:
            each = [med([r["server_cpu_s_each"][i] for r in rs if "server_cpu_s_each" in r])
                    for i in range(n)]
            each_s = " / ".join(fmt(v) for v in each)
        else:
            each_s = fmt(med([r.get("server_cpu_s") for r in rs]))
        def pct(k):
            return med([float(r["_load"][k]) for r in rs if k in r["_load"]])
        foreign = " / ".join(fmt(pct(k), 0) for k in
                             ("server_cpu_ours_pct", "server_cpu_foreign_pct", "server_cpu_irq_pct"))
        rows.append(
            f"| {name} | {len(rs)} | {fmt(med([r['deliveries_per_s'] for r in rs]), 0)} "
            f"| {fmt(med([r['p50_ms'] for r in rs]))} | {fmt(med([r['p99_ms'] for r in rs]))} "
            f"| {fmt(med([r['p999_ms'] for r in rs]))} | {fmt(node)} | {fmt(broker)} | {fmt(both)} "
            f"| {each_s} | {foreign} | {sum(r['drops'] for r in rs)} | {sum(r['errors'] for r in rs)} |")
    return "\n".join(rows) + "\n"


def idle_one(res, path):
    s = kv(path)
    stem = path[:-len(".summary")]
    benches = []
    for i in range(1, int(s["nodes"]) + 1):
        try:
            with open(f"{stem}.wsbench{i}.json") as f:
                benches.append(json.load(f))
        except (OSError, ValueError):
            benches.append(None)
    ok = [b for b in benches if b]
    held = sum(b["conns"] for b in ok)
    errors = sum(b["errors"] for b in ok)
    drops = sum(b["drops"] for b in ok)
    durs = [b["conns"] / b["connect_per_s"] for b in ok if b.get("connect_per_s")]
    rate = held / max(durs) if durs else None
    total = int(s["total"])
    sample = int(s["open_at_sample"])
    d_nodes = int(s["rss_nodes_kib_held"]) - int(s["rss_nodes_kib_before"])
    per_conn = d_nodes / sample if sample else None
    mib = lambda k: int(s[k]) / 1024
    nats = s.get("mode") == "nats"
    mode = "over NATS" if nats else "standalone (no NATS)"
    crate = "as fast as possible" if s.get("rate") in ("0", None) else f"{s['rate']}/s per wsbench"
    row = (f"| {s['nodes']} {mode} | {crate} | {total:,} | {sample:,} | {held:,} | {errors:,} | {drops:,} "
           f"| {fmt(per_conn, 1)} | {fmt(rate, 0)} "
           f"| {fmt(mib('rss_nodes_kib_held'), 0)} ({fmt(mib('rss_nodes_kib_before'), 0)}) "
           + (f"| {fmt(mib('rss_nats_kib_held'), 1)} ({fmt(mib('rss_nats_kib_before'), 1)}) " if nats else "| — ")
           + f"| {fmt(mib('rss_wsbench_kib_held'), 0)} |")
    note = (f"- {s['nodes']} nodes {mode}, {crate}: per node RSS KiB while held "
            f"{s.get('rss_nodes_kib_each_held', '?')}; per wsbench process, open at the end "
            f"{' '.join(str(b['conns']) if b else '?' for b in benches)}, connects/s "
            f"{' '.join(fmt(b['connect_per_s'], 0) if b else '?' for b in benches)}; the last connection "
            f"opened (or failed) {s.get('wait_s')} s after the start; after the {s.get('hold', 'hold')} "
            f"the nodes' RSS was {fmt(mib('rss_nodes_kib_after_hold'), 0)} MiB"
            + (f", NATS's {fmt(mib('rss_nats_kib_after_hold'), 1)} MiB" if nats else "")
            + f"; MemAvailable {fmt(int(s['mem_available_kib_before']) / 1048576, 1)} → "
            f"{fmt(int(s['mem_available_kib_held']) / 1048576, 1)} GiB; load average at the end {s.get('load')}; "
            f"node log lines: {s.get('open_failed_logged', '?')} \"open failed\" (on_open past its deadline), "
            f"{s.get('slow_consumer_logged', '?')} NATS \"slow consumer, messages dropped\", "
            f"{s.get('other_warnings_logged', '?')} other warnings.")
    return row, note


def idle(res):
    paths = sorted(glob.glob(os.path.join(res, "idle-*.summary")))
    if not paths:
        return ""
    rows = ["| nodes | connect rate | target | open at the sample | open at the end | failed to open | dropped "
            "| server RSS KiB/conn (nodes summed) | connects/s (all) | nodes RSS MiB held (before) "
            "| NATS RSS MiB held (before) | wsbench RSS MiB held |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    notes = []
    for p in paths:
        r, n = idle_one(res, p)
        rows.append(r)
        notes.append(n)
    return "\n".join(rows) + "\n\n" + "\n".join(notes) + "\n"


def main():
    res, out = sys.argv[1], sys.argv[2]
    machine = kv(os.path.join(res, "machine.txt"))
    with open(os.path.join(res, "commands.txt")) as f:
        commands = f.read().strip()
    parts = [BEGIN, ""]
    parts.append(f"Run {machine.get('date', '?')}: {machine.get('params')}.\n")
    parts.append("**Machine:** " + ", ".join(f"{k} {machine[k]}" for k in
                 ("nproc", "cpu", "kernel", "mem", "nofile") if k in machine) + ".  ")
    parts.append("**Versions:** " + ", ".join(f"{k} {machine[k]}" for k in
                 ("wshost", "go", "nats") if k in machine) + ".\n")
    fo = fanout(res)
    if fo:
        parts += ["### fanout across nodes: one room, 100 connections spread round-robin over the nodes", "",
                  "Medians over the repetitions; drops and errors are totals. Node CPU is the nodes' "
                  "utime+stime summed over the measured window; NATS CPU is the NATS server's. "
                  "\"Servers' CPU\" is the CPU the nodes and NATS are pinned to, over the whole "
                  "wsbench run (medians, % of that CPU): the nodes' and NATS's utime+stime, "
                  "other processes' (the machine may be shared), and interrupt time (softirq: on "
                  "loopback much of the receiving side of what the nodes send, charged to no process).",
                  "", fo]
    il = idle(res)
    if il:
        parts += ["### idle across nodes: connections held, nothing sent", "", il]
    parts += ["### Exact commands (fanout: first repetition)", "", "```sh", commands, "```", "", END]
    write_block(out, "\n".join(parts) + "\n", BEGIN, END)


if __name__ == "__main__":
    main()
