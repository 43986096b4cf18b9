"""Prints the benchmark table and writes the results file (bench/bench.sh
passes every measurement in the environment)."""
import json
import os

E = os.environ


def num(name, kind=float):
    v = E.get(name, "")
    try:
        return kind(v)
    except ValueError:
        return None


def kv_line(line):
    """A key=value line printed by shoal-bench, as a dict of numbers."""
    out = {}
    for part in line.split():
        k, _, v = part.partition("=")
        try:
            out[k] = float(v)
        except ValueError:
            out[k] = v
    return out


def kv(name):
    """Every round's shoal-bench line in variable name (one per line)."""
    return [kv_line(line) for line in E.get(name, "").splitlines() if line.strip()]


def median_by(items, key):
    """The item with the median key (the lower middle one for an even
    count), or {} when none has one: one sample is noise on a shared
    machine."""
    ranked = sorted((i for i in items if key(i) is not None), key=key)
    return ranked[(len(ranked) - 1) // 2] if ranked else {}


def throughput_rounds():
    """Steps 1-3 of every round (ROUNDS_DATA: one line per round), each
    with its ratio to its own ceiling."""
    keys = ("kafka", "pg", "shoal", "rows", "secs", "rss_kb", "wall_s", "user_s", "sys_s")
    out = []
    for line in E.get("ROUNDS_DATA", "").splitlines():
        vals = line.split()
        if len(vals) != len(keys):
            continue
        r = dict(zip(keys, (float(v) for v in vals)))
        ceiling = min(r["kafka"], r["pg"])
        r["ratio"] = r["shoal"] / ceiling if ceiling > 0 else None
        out.append(r)
    return out


rounds = throughput_rounds()
med = median_by(rounds, lambda r: r["ratio"])
kafka, pg, shoal = med.get("kafka"), med.get("pg"), med.get("shoal")
ratio = med.get("ratio")
# Clustering: each round's 100k / 1k pair; extraction: each round's rate.
cl_rounds = []
for a, b in zip(kv("C1K"), kv("C100K")):
    ok = a.get("events_per_s") and b.get("events_per_s")
    cl_rounds.append({"1k": a, "100k": b, "ratio": b["events_per_s"] / a["events_per_s"] if ok else None})
cl_med = median_by(cl_rounds, lambda r: r["ratio"])
c1k, c100k, cl_ratio = cl_med.get("1k", {}), cl_med.get("100k", {}), cl_med.get("ratio")
ext_rounds = kv("EXT")
ext = median_by(ext_rounds, lambda r: r.get("docs_per_s"))
c50k = (kv("C50K") or [{}])[0]
r1, r2, r3 = shoal, num("RATE2"), num("RATE3")
p99 = num("P99")
rss_mb = max(r["rss_kb"] for r in rounds) / 1024 if rounds else None
rss50_mb = num("RSS50_KB") / 1024 if num("RSS50_KB") else None
eng50_mb = c50k.get("peak_rss_kb", 0) / 1024 or None
ext_rate = ext.get("docs_per_s")

res = {
    "events": num("N", int),
    "seed": num("SEED", int),
    "partitions": num("PARTS", int),
    "cores": os.cpu_count(),
    "produce_events_per_s": round(num("N") * 1000 / max(1.0, num("PRODUCE_MS"))),
    "kafka_ceiling_msgs_per_s": kafka,
    "pg_copy_ceiling_rows_per_s": pg,
    "shoal_events_per_s": shoal,
    "ratio_to_ceiling": round(ratio, 4) if ratio is not None else None,
    "shoal_rows": int(med["rows"]) if med else None,
    "shoal_commit_span_s": med.get("secs"),
    "shoal_process": {k: med.get(k) for k in ("wall_s", "user_s", "sys_s")},
    "throughput_rounds": [
        {"kafka_ceiling_msgs_per_s": r["kafka"], "pg_copy_ceiling_rows_per_s": r["pg"],
         "shoal_events_per_s": r["shoal"],
         "ratio_to_ceiling": round(r["ratio"], 4) if r["ratio"] is not None else None}
        for r in rounds],
    "latency": {"rate_per_s": num("RATE", int), "offered_per_s": num("OFFERED"),
                "events": num("LAT_N", int), "matched": num("LAT_ROWS", int),
                "p50_ms": num("P50"), "p99_ms": p99, "max_ms": num("PMAX")},
    "consumer_peak_rss_mb": round(rss_mb, 1) if rss_mb else None,
    "clustering": {"active_1k": c1k, "active_100k": c100k,
                   "ratio_100k_to_1k": round(cl_ratio, 3) if cl_ratio else None,
                   "ratio_rounds": [round(r["ratio"], 3) if r["ratio"] else None for r in cl_rounds]},
    "consumer_peak_rss_mb_50k_clusters": round(rss50_mb, 1) if rss50_mb else None,
    "consumer_50k_clusters_loaded": num("RSS50_LOADED", int),
    "engines_peak_rss_mb_50k_clusters": round(eng50_mb, 1) if eng50_mb else None,
    "engines_50k_clusters": c50k,
    "extraction_docs_per_s_per_core": ext_rate,
    "extraction": ext,
    "extraction_rounds_docs_per_s": [r.get("docs_per_s") for r in ext_rounds],
    "scale_out_events_per_s": {"1": r1, "2": r2, "3": r3},
    "bench_seconds": num("TOTAL_S", int),
}
targets = {
    "ratio_to_ceiling >= 0.5": ratio is not None and ratio >= 0.5,
    "p99 < 250 ms at 5k/s": p99 is not None and p99 < 250,
    "peak RSS < 100 MB with 50k clusters": rss50_mb is not None and rss50_mb < 100,
    "clustering-cost ratio >= 0.7": cl_ratio is not None and cl_ratio >= 0.7,
    "extraction >= 20k docs/s/core": ext_rate is not None and ext_rate >= 20000,
}
res["targets_met"] = targets
with open(E["RESULTS"], "w") as f:
    json.dump(res, f, indent=2)
    f.write("\n")


def fmt(v, unit="", nd=0):
    if v is None:
        return "n/a"
    return f"{v:,.{nd}f}{unit}"


rows = [
    ("1. Kafka ceiling (kcat to /dev/null)", fmt(kafka, " msg/s")),
    ("2. PostgreSQL ceiling (COPY, same table shape)", fmt(pg, " rows/s")),
    ("3. Shoal end to end (1 instance)", fmt(shoal, " events/s")),
    ("   ratio to min(1, 2)   [target >= 0.5]", fmt(ratio, "", 3)),
    ("   ratio in each round (the median's above)",
     " / ".join(fmt(r["ratio"], "", 3) for r in rounds)),
    (f"4. latency at {E.get('RATE')}/s: p50 / p99   [p99 < 250 ms]",
     f"{fmt(num('P50'), ' ms')} / {fmt(p99, ' ms')}"),
    ("   offered rate / events matched", f"{fmt(num('OFFERED'), '/s')} / {fmt(num('LAT_ROWS'))}"),
    ("5. consumer peak RSS (run 3, highest round)", fmt(rss_mb, " MB", 1)),
    ("6. clustering, 1k active clusters", fmt(c1k.get("events_per_s"), " events/s")),
    ("   clustering, 100k active clusters", fmt(c100k.get("events_per_s"), " events/s")),
    ("   ratio 100k / 1k   [target >= 0.7]", fmt(cl_ratio, "", 3)),
    ("   ratio in each round (the median's above)", " / ".join(fmt(r["ratio"], "", 3) for r in cl_rounds)),
    ("7. scale-out 1 / 2 / 3 instances (2 cores)",
     f"{fmt(r1)} / {fmt(r2)} / {fmt(r3)} events/s"),
    ("extraction, 2 KB articles, 1 core   [>= 20,000]", fmt(ext_rate, " docs/s")),
    ("   in each round (the median's above)", " / ".join(fmt(r.get("docs_per_s")) for r in ext_rounds)),
    ("peak RSS, consumer with 50k clusters   [< 100 MB]", fmt(rss50_mb, " MB", 1)),
    ("   (extractor + engine alone, in process)", fmt(eng50_mb, " MB", 1)),
]
w = max(len(r[0]) for r in rows)
print(f"\nShoal benchmark: {res['events']:,} events, {res['partitions']} partitions, "
      f"{res['cores']} cores, {res['bench_seconds']} s")
print("-" * (w + 28))
for name, val in rows:
    print(f"{name:<{w}}  {val}")
print("-" * (w + 28))
for t, ok in targets.items():
    print(f"{'met ' if ok else 'MISS'}  {t}")
print(f"wrote {E['RESULTS']}")
