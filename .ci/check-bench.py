"""CI: the benchmark suite ran on a database and wrote every group's figures (timings not judged)."""
import json
import math
import sys

path = sys.argv[1]
with open(path) as f:
    report = json.load(f)
groups = {"ingest", "matching", "backfill", "reads", "fanout", "aggregates", "footprint", "scale", "outbound"}
seen = {fig["group"] for fig in report["figures"]}
missing = groups - seen
bad = [
    fig["name"]
    for fig in report["figures"]
    if not fig["samples"] or not all(isinstance(s, (int, float)) and math.isfinite(s) for s in fig["samples"])
]
if missing or bad:
    sys.exit(f"{path}: groups without figures {sorted(missing)}, figures without samples {bad}")
print(f"{path}: {len(report['figures'])} figures from {len(seen)} groups in {report['wall_seconds']:.0f} s")
