#!/usr/bin/env bash
# Data-parallel throughput and traffic on one machine, side by side in one session (docs/BENCHMARKS.md, "Data-parallel
# training"): configs/bench.yaml trained for a few steps as 1 process x 1 thread, 1 process x 2 threads and 2 processes
# x 1 thread (batch 8 per process, so the 2-process job's global batch is 16); then EST's stage 1 and the sharded
# optimizer with 2 processes. Prints one markdown table of medians (steps 3 onward).
# Usage: scripts/bench-dist.sh DATA_DIR [STEPS]     (needs python3 to read metrics.jsonl)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:?usage: scripts/bench-dist.sh DATA_DIR [STEPS]}"
steps="${2:-20}"
out="$(mktemp -d)"
common=(--config configs/bench.yaml --data "$data" --set train.max_steps="$steps" --set train.eval_every=0 --set checkpoint.every=0 --set train.log_every=1000)

SPROUT_THREADS=1 ./sprout train "${common[@]}" --out "$out/1proc-1thread" > /dev/null
SPROUT_THREADS=2 ./sprout train "${common[@]}" --out "$out/1proc-2threads" > /dev/null
./sprout launch --nproc 2 --threads 1 -- train "${common[@]}" --out "$out/2proc-1thread" > /dev/null 2>&1
./sprout launch --nproc 2 --threads 1 -- train "${common[@]}" --out "$out/2proc-est-stage1" \
    --set method.name=est --set method.est.stage1_fraction=1.0 --set method.est.stage2_fraction=0.0 > /dev/null 2>&1
./sprout launch --nproc 2 --threads 1 -- train "${common[@]}" --out "$out/2proc-sharded" --set dist.shard_optimizer=true > /dev/null 2>&1

python3 - "$out" <<'PY'
import json, os, statistics, sys
out = sys.argv[1]
rows = []
for name in ["1proc-1thread", "1proc-2threads", "2proc-1thread", "2proc-est-stage1", "2proc-sharded"]:
    m = [json.loads(l) for l in open(os.path.join(out, name, "metrics.jsonl"))][2:]
    s = json.load(open(os.path.join(out, name, "summary.json")))
    tokens_per_step = m[1]["tokens"] - m[0]["tokens"]
    ms = statistics.median(r["step_ms"] for r in m)
    comm = statistics.median(r.get("comm_ms", 0) for r in m)
    mb = statistics.median(r.get("comm_bytes", 0) for r in m) / 2**20
    rows.append((name, tokens_per_step, ms, tokens_per_step / (ms / 1e3), comm, mb, s["optimizer_state_bytes"] / 2**20))
base = rows[0][3]
print("| job | tokens/step | median step ms | tokens/s | vs 1 process x 1 thread | comm ms/step | MiB summed/step (per rank) | optimizer state MiB (rank 0) |")
print("|---|---|---|---|---|---|---|---|")
for name, t, ms, tps, comm, mb, st in rows:
    print(f"| {name} | {t} | {ms:.1f} | {tps:.0f} | {tps / base:.2f}x | {comm:.1f} | {mb:.2f} | {st:.2f} |")
PY
rm -rf "$out"
