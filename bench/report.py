#!/usr/bin/env python3
"""Turns natsrpc_bench JSON into the benchmark report: markdown tables and a PNG chart.

  bench/report.py RESULTS.json                       # print the markdown report
  bench/report.py RESULTS.json --png docs/benchmarks.png
  bench/report.py RESULTS.json --update-doc docs/benchmarks.md
      # replaces the text between <!-- bench-results:begin --> and
      # <!-- bench-results:end --> with the generated report
  bench/report.py RESULTS.json --streams STREAMS.json ...
      # adds the stream rows of natsrpc_stream_bench --json
  bench/report.py RESULTS.json --fanout FANOUT.json ...
      # adds the event and scatter-gather rows of natsrpc_fanout_bench --json

The chart needs matplotlib; when it is missing and we are root, this script
installs Debian's python3-matplotlib with apt-get (PyPI is not used).
"""

import argparse
import json
import os
import subprocess
import sys

BEGIN = "<!-- bench-results:begin -->"
END = "<!-- bench-results:end -->"

# Display order and style of the contenders.
CONTENDERS = [
    ("raw_buffered", "raw nats.c (buffered)", "#7f7f7f", "-", "o"),
    ("raw_sendasap", "raw nats.c (SendAsap)", "#303030", "--", "s"),
    ("natsrpc_blocking", "natsrpc blocking", "#6baed6", "--", "v"),
    ("natsrpc_async", "natsrpc async", "#08519c", "-", "D"),
    ("natsrpc_fbs_async", "natsrpc async (FlatBuffers)", "#41ab5d", "-.", "d"),
    ("grpc_blocking", "gRPC C++ blocking", "#fdae6b", "--", "^"),
    ("grpc_async", "gRPC C++ async (callback)", "#d94801", "-", "P"),
    ("grpc_async_4ch", "gRPC C++ async, 4 channels", "#a63603", ":", "X"),
]
ORDER = {c[0]: i for i, c in enumerate(CONTENDERS)}


def load(path):
    with open(path) as f:
        doc = json.load(f)
    if doc.get("schema") != "natsrpc-bench/1":
        sys.exit(f"{path}: not a natsrpc_bench result (schema {doc.get('schema')!r})")
    return doc


def rows_by_key(doc):
    return {(r["contender"], r["payload_bytes"], r["inflight"]): r for r in doc["rows"]}


def payload_name(n):
    n = int(n)
    return f"{n // 1024} KB" if n >= 1024 and n % 1024 == 0 else f"{n} B"


def count(v):
    if v >= 100000:
        return f"{v / 1000:.0f}k"
    if v >= 10000:
        return f"{v / 1000:.1f}k"
    return f"{v:.0f}"


def usec(v):
    if v >= 1000:
        return f"{v / 1000:.3g} ms"
    return f"{v:.3g} µs"


def ratio(r, key, metric):
    v = r.get(key, {}).get(metric)
    return "–" if v is None else f"{v:.2f}"


def busy_warning(m):
    """A sentence if other processes were busy during the run, else ""."""
    try:
        foreign = float(m.get("foreign_cpu_cores", "nan"))
        cpus = float(m.get("cpus", "0"))
    except ValueError:
        return ""
    if foreign == foreign and foreign > 0.2:  # not NaN, and above 0.2 cores
        return (f"Other processes used {foreign:.2f} of the {cpus:.0f} CPUs on average during "
                f"this run: treat the figures as rough and rerun on an idle machine.")
    return ""


def markdown(doc):
    cfg, m = doc["config"], doc["machine"]
    rows = rows_by_key(doc)
    out = []
    out.append(
        f"Run of {m.get('started_utc', '?')}{(' (' + doc['note'] + ')') if doc.get('note') else ''}: "
        f"{m.get('cpus', '?')} × {m.get('cpu_model', '?')}, {m.get('os', '?')}, {m.get('kernel', '?')}; "
        f"{m.get('nats_server', 'nats-server ?')}, nats.c {m.get('nats_c', '?')}, "
        f"gRPC {m.get('grpc', '?')}, natsrpc {m.get('natsrpc') or 'not built'}. "
        f"Each figure is the median of {int(cfg['reps'])} repetitions of a {cfg['seconds']:g} s window "
        f"after {cfg['warmup_seconds']:g} s of warm-up; [min–max] is the spread over the repetitions. "
        f"CPU used by other processes during the run: {m.get('foreign_cpu_cores', '?')} cores."
        + (" **Quick (smoke) run: figures are not meaningful.**" if cfg.get("quick") else "")
        + ((" **" + busy_warning(m) + "**") if busy_warning(m) else "")
    )
    out.append("")
    out.append("### Targets (100 B payload)")
    out.append("")
    out.append("| target | goal | measured | result | figures |")
    out.append("|---|---|---|---|---|")
    for t in doc["targets"]:
        measured = "–" if t["measured"] is None else f"{t['measured']:.2f}"
        result = "not measured" if t["pass"] is None else ("**pass**" if t["pass"] else "**fail**")
        out.append(f"| {t['description']} | {t['comparison']} {t['limit']:.2f} | {measured} | {result} | {t['detail']} |")
    out.append("")
    for p in cfg["payloads"]:
        out.append(f"### {payload_name(p)} payload")
        out.append("")
        out.append("Throughput in calls/s; × raw: ratio to the best raw nats.c configuration of the row "
                   "(named in the *best raw* line); × gRPC: ratio to the best gRPC contender of the row. "
                   "CPU: µs of CPU per call, all processes (benchmark process + nats-server).")
        out.append("")
        out.append("| in flight | contender | calls/s [min–max] | × raw | × gRPC | p50 | p99 | CPU/call | CPU × raw | CPU × gRPC |")
        out.append("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for n in cfg["inflight"]:
            present = [r for (c, pp, nn), r in rows.items() if pp == p and nn == n and c != "raw_best"]
            present.sort(key=lambda r: ORDER.get(r["contender"], 99))
            best = rows.get(("raw_best", p, n))
            if best is not None:
                present.append(best)
            for r in present:
                label = r["label"] if r["contender"] != "raw_best" else f"*best raw = {r.get('source')}*"
                if not r["ok"]:
                    out.append(f"| {int(n)} | {label} | failed: {r.get('error', '?')} | | | | | | | |")
                    continue
                t = r["calls_per_second"]
                out.append(
                    f"| {int(n)} | {label} | {count(t['median'])} [{count(t['min'])}–{count(t['max'])}] "
                    f"| {ratio(r, 'ratio_to_raw_best', 'calls_per_second')} "
                    f"| {ratio(r, 'ratio_to_grpc_best', 'calls_per_second')} "
                    f"| {usec(r['p50_us']['median'])} | {usec(r['p99_us']['median'])} "
                    f"| {r['cpu_us_per_call']['median']:.1f} µs "
                    f"| {ratio(r, 'ratio_to_raw_best', 'cpu_us_per_call')} "
                    f"| {ratio(r, 'ratio_to_grpc_best', 'cpu_us_per_call')} |"
                )
        out.append("")
    return "\n".join(out)


DEBIAN_PYTHON = "/usr/bin/python3"


def load_streams(path):
    with open(path) as f:
        doc = json.load(f)
    if doc.get("schema") != "natsrpc-stream-bench/1":
        sys.exit(f"{path}: not a natsrpc_stream_bench result (schema {doc.get('schema')!r})")
    return doc


def stream_targets(rows):
    """The issue's stream targets: (description, goal, measured ratio, detail)."""
    def get(c, kind, p):
        r = rows.get((c, kind, p))
        return r if r is not None and r.get("ok") else None

    out = []
    for kind in ("server", "client", "bidi"):
        n, g = get("natsrpc", kind, 100), get("grpc", kind, 100)
        desc = f"{kind} stream, 100 B: natsrpc msgs/s vs gRPC C++"
        if n and g:
            out.append((desc, "> 1.00", n["messages_per_second"] / g["messages_per_second"],
                        f"{count(n['messages_per_second'])}/s vs {count(g['messages_per_second'])}/s", 1.0, False))
        else:
            out.append((desc, "> 1.00", None, "", 1.0, False))
    for kind in ("server", "client", "bidi"):
        n = get("natsrpc", kind, 16384)
        # A bidi echo moves each message twice: its counterpart is raw nats.c
        # doing the same (publish -> echo -> subscriber).
        if kind == "bidi":
            raw = get("raw_echo", "bidi", 16384)
            desc = f"{kind} stream, 16 KB: natsrpc MB/s vs raw nats.c echo"
        else:
            raw = get("raw_oneway", "server", 16384)
            desc = f"{kind} stream, 16 KB: natsrpc MB/s vs raw nats.c one-way"
        if n and raw:
            out.append((desc, ">= 0.80", n["mb_per_second"] / raw["mb_per_second"],
                        f"{n['mb_per_second']:.0f} vs {raw['mb_per_second']:.0f} MB/s", 0.8, True))
        else:
            out.append((desc, ">= 0.80", None, "", 0.8, True))
    return out


def markdown_streams(doc):
    rows = {(r["contender"], r["kind"], int(r["payload_bytes"])): r for r in doc["rows"]}
    out = ["### Streams", ""]
    out.append(
        f"`natsrpc_stream_bench`{(' (' + doc['note'] + ')') if doc.get('note') else ''}: one stream per row "
        f"moving a fixed number of messages, timed from the call to its end; median of {int(doc['reps'])} "
        "repetitions. MB/s counts payload bytes; CPU/msg is this process (both ends) plus nats-server. "
        "A bidi row counts the messages the client sent (the server echoes each, so every message "
        "crosses NATS twice). raw nats.c is one-way publish → subscriber with no flow control, the floor "
        "for any stream over NATS; for bidi rows it is publish → echo subscriber → subscriber, the same "
        "two crossings."
        + (" **Quick (smoke) run: figures are not meaningful.**" if doc.get("quick") else ""))
    out.append("")
    out.append("| target | goal | measured | result | figures |")
    out.append("|---|---|---|---|---|")
    for desc, goal, measured, detail, limit, ge in stream_targets(rows):
        if measured is None:
            out.append(f"| {desc} | {goal} | – | not measured | |")
            continue
        ok = measured >= limit if ge else measured > limit
        out.append(f"| {desc} | {goal} | {measured:.2f} | {'**pass**' if ok else '**fail**'} | {detail} |")
    out.append("")
    out.append("Writer waits: natsrpc writes that found no credit and waited for the reader's, per 1000 "
               "messages (each is at least one round trip).")
    out.append("")
    out.append("| stream | payload | contender | messages | msgs/s [min–max] | MB/s | CPU/msg | writer waits /1k |")
    out.append("|---|---|---|---:|---|---:|---:|---:|")
    for r in doc["rows"]:
        if r["kind"] == "slow_reader":
            continue
        kind = "one-way" if r["contender"] == "raw_oneway" else r["kind"]
        head = f"| {kind} | {payload_name(r['payload_bytes'])} | {r['label']} | {int(r['messages'])} "
        if not r.get("ok"):
            out.append(head + f"| failed: {r.get('error', '?')} | | | |")
            continue
        waits = r.get("credit_stalls_per_1k_messages")
        out.append(head + f"| {count(r['messages_per_second'])} "
                   f"[{count(r['messages_per_second_min'])}–{count(r['messages_per_second_max'])}] "
                   f"| {r['mb_per_second']:.1f} | {r['cpu_us_per_message']:.2f} µs "
                   f"| {'–' if waits is None else f'{waits:.1f}'} |")
    out.append("")
    out.append("Slow reader (a 16 KB server stream read with a 1 ms pause every 64 messages): peak growth of "
               "the benchmark process's resident memory (both ends, Linux VmHWM reset before the row) and, "
               "for natsrpc, the most payload bytes its reader held.")
    out.append("")
    out.append("| contender | messages | peak RSS growth | reader held at most | dropped |")
    out.append("|---|---:|---:|---:|---:|")
    for r in doc["rows"]:
        if r["kind"] != "slow_reader":
            continue
        held = "–" if int(r.get("max_buffered_bytes", -1)) < 0 else f"{int(r['max_buffered_bytes']) / 1024:.0f} KiB"
        status = "" if r.get("ok") else f" (failed: {r.get('error', '?')})"
        out.append(f"| {r['label']}{status} | {int(r['messages'])} | {int(r['peak_rss_growth_kb']) / 1024:.1f} MiB "
                   f"| {held} | {int(r.get('dropped', 0))} |")
    out.append("")
    return "\n".join(out)


def load_fanout(path):
    with open(path) as f:
        doc = json.load(f)
    if doc.get("schema") != "natsrpc-fanout-bench/1":
        sys.exit(f"{path}: not a natsrpc_fanout_bench result (schema {doc.get('schema')!r})")
    return doc


FANOUT_ROWS = {
    "event": "event → queue group of 1, delivered",
    "event_confirmed": "confirmed event (flush round trip each)",
    "broadcast": "broadcast event → 3 instances, delivered to all",
    "gather_seq": "scatter-gather → 3, one at a time",
    "gather_async": "scatter-gather → 3, {inflight} in flight",
}


def markdown_fanout(doc):
    """The section of natsrpc_fanout_bench: one table, natsrpc beside raw nats.c per row."""
    out = ["### Fan-out (events and scatter-gather)", ""]
    foreign = doc.get("foreign_cpu_cores")
    out.append(
        f"`natsrpc_fanout_bench`{(' (' + doc['note'] + ')') if doc.get('note') else ''}: "
        f"{int(doc.get('payload_bytes', 100))} B payloads, {int(doc.get('instances', 3))} server instances, "
        f"{doc.get('nats_server', 'nats-server ?')}, nats.c {doc.get('nats_c', '?')}; each row moves a fixed "
        f"number of operations, median of {int(doc['reps'])} repetitions, [min–max] their spread. Rate: "
        "events delivered per second (every instance's, for the broadcast), confirmed events per second, or "
        "gathers completed per second (all 3 replies); *published/s* is the publisher's rate until every "
        "publish returned. CPU/op: the benchmark process (both ends) plus nats-server. × raw: ratio to the "
        "better raw nats.c configuration of the row (buffered or SendAsap), for the rate and for CPU."
        + (f" Other processes used {foreign:.2f} cores during the run." if foreign is not None else "")
        + (" **Quick (smoke) run: figures are not meaningful.**" if doc.get("quick") else "")
        + (" **The machine was busy: treat the figures as rough.**"
           if foreign is not None and foreign > 0.2 and not doc.get("quick") else ""))
    out.append("")
    out.append("| row | contender | ops | rate/s [min–max] | published/s | p50 | p99 | CPU/op | × raw | CPU × raw | dropped |")
    out.append("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    inflight = int(doc.get("inflight", 32))
    for r in doc["rows"]:
        name = FANOUT_ROWS.get(r["row"], r["row"]).format(inflight=inflight)
        if not r.get("ok"):
            out.append(f"| {name} | {r['label']} | | failed: {r.get('error', '?')} | | | | | | | |")
            continue
        pub = r.get("publish_rate")
        p50, p99 = r.get("p50_us"), r.get("p99_us")
        rr, cr = r.get("rate_ratio_to_raw_best"), r.get("cpu_ratio_to_raw_best")
        out.append(
            f"| {name} | {r['label']} | {int(r['ops'])} "
            f"| {count(r['rate'])} [{count(r['rate_min'])}–{count(r['rate_max'])}] "
            f"| {'–' if pub is None or r['row'] == 'event_confirmed' else count(pub)} "
            f"| {'–' if p50 is None else usec(p50)} | {'–' if p99 is None else usec(p99)} "
            f"| {r['cpu_us_per_op']:.2f} µs "
            f"| {'–' if rr is None else f'{rr:.2f}'} | {'–' if cr is None else f'{cr:.2f}'} "
            f"| {int(r.get('dropped', 0))} |")
    out.append("")
    return "\n".join(out)


def reexec_with_debian_python():
    # Debian's python3-matplotlib belongs to Debian's python3; another
    # python3 first on PATH (pyenv, venv) does not see it.
    if os.path.exists(DEBIAN_PYTHON) and os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON):
        probe = subprocess.run([DEBIAN_PYTHON, "-c", "import matplotlib"], capture_output=True)
        if probe.returncode == 0:
            os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)


def ensure_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return
    except ImportError:
        pass
    reexec_with_debian_python()
    if os.geteuid() != 0:
        sys.exit("matplotlib is missing: run as root, or apt-get install python3-matplotlib")
    print("report.py: installing python3-matplotlib with apt-get", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "python3-matplotlib"],
                   check=True, env=env)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        reexec_with_debian_python()
        sys.exit("python3-matplotlib is installed but this python3 does not see it")


def chart(doc, path):
    ensure_matplotlib()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    cfg, m = doc["config"], doc["machine"]
    rows = rows_by_key(doc)
    payloads = [int(p) for p in cfg["payloads"]]
    inflight = [int(n) for n in cfg["inflight"]]

    fig, axes = plt.subplots(3, len(payloads), figsize=(6.2 * len(payloads), 13.5), squeeze=False)

    def series(cid, p, metric):
        xs, ys, lo, hi = [], [], [], []
        for n in inflight:
            r = rows.get((cid, p, n))
            if r is None or not r["ok"]:
                continue
            s = r[metric]
            xs.append(n)
            ys.append(s["median"])
            lo.append(s["median"] - s["min"])
            hi.append(s["max"] - s["median"])
        return xs, ys, lo, hi

    for col, p in enumerate(payloads):
        for row, (metric, title, ylabel) in enumerate([
            ("calls_per_second", "throughput", "calls per second (log)"),
            ("p50_us", "median latency", "p50 latency, µs (log)"),
            ("cpu_us_per_call", "CPU per call, all processes", "µs of CPU per call (log)"),
        ]):
            ax = axes[row][col]
            for cid, label, color, style, marker in CONTENDERS:
                xs, ys, lo, hi = series(cid, p, metric)
                if not xs:
                    continue
                ax.errorbar(xs, ys, yerr=[lo, hi], label=label, color=color, linestyle=style,
                            marker=marker, capsize=3, linewidth=1.8, markersize=5)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(inflight)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{int(v)}"))
            fmt = usec if metric == "p50_us" else count
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _, fmt=fmt: fmt(v)))
            ax.yaxis.set_minor_formatter(FuncFormatter(
                lambda v, _, fmt=fmt: fmt(v) if f"{v:.3g}"[0] in "25" else ""))
            ax.tick_params(axis="y", which="minor", labelsize=7)
            ax.set_xlabel("calls in flight")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{payload_name(p)} payload: {title}")
            ax.grid(True, which="both", alpha=0.3)

    # One legend for all panels, between the title and the plots.
    seen = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    fig.legend(list(seen.values()), list(seen.keys()), loc="upper center", ncol=4,
               fontsize=9, bbox_to_anchor=(0.5, 0.965), frameon=False)

    note = (f"natsrpc_bench, {m.get('started_utc', '')}: {m.get('cpus', '?')} × {m.get('cpu_model', '?')}, "
            f"loopback, {m.get('nats_server', '')}, nats.c {m.get('nats_c', '?')}, gRPC {m.get('grpc', '?')}; "
            f"medians of {int(cfg['reps'])} × {cfg['seconds']:g} s, bars: min–max")
    if cfg.get("quick"):
        note += " — QUICK SMOKE RUN, not meaningful"
    elif busy_warning(m):
        note += " — machine busy during the run: rough figures"
    fig.suptitle("natsrpc vs raw nats.c vs gRPC C++: echo calls", fontsize=14)
    fig.text(0.5, 0.005, note, ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.015, 1, 0.94))
    fig.savefig(path, dpi=110)
    print(f"wrote {path}", file=sys.stderr)


def update_doc(path, text):
    with open(path) as f:
        doc = f.read()
    b, e = doc.find(BEGIN), doc.find(END)
    if b < 0 or e < b:
        sys.exit(f"{path}: markers {BEGIN} ... {END} not found")
    doc = doc[: b + len(BEGIN)] + "\n" + text + "\n" + doc[e:]
    with open(path, "w") as f:
        f.write(doc)
    print(f"updated {path}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", help="natsrpc_bench --json output")
    ap.add_argument("--png", help="write the chart here")
    ap.add_argument("--update-doc", help="replace the generated section of this markdown file")
    ap.add_argument("--streams", help="natsrpc_stream_bench --json output, reported after the unary rows")
    ap.add_argument("--fanout", help="natsrpc_fanout_bench --json output, reported after the streams")
    args = ap.parse_args()
    doc = load(args.json)
    text = markdown(doc)
    if args.streams:
        text += "\n" + markdown_streams(load_streams(args.streams))
    if args.fanout:
        text += "\n" + markdown_fanout(load_fanout(args.fanout))
    if args.png:
        chart(doc, args.png)
    if args.update_doc:
        update_doc(args.update_doc, text)
    if not args.png and not args.update_doc:
        print(text)


if __name__ == "__main__":
    main()
