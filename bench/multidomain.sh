#!/usr/bin/env bash
# Multi-domain (GMC) comparison on Amazon Scientific + Office (BENCHMARKS.md, "Several domains"): per domain,
# (a) a model trained on that domain alone, (b) one unified model on both, (c) (b) fine-tuned on each domain, with
# the same total optimiser steps for (a) summed over domains as for (b) + (c). Every model is the `causal` preset
# (parallel head, catalog loss, ID embedding) on one merged data set and one tokenizer, so the only difference is
# which users each step trains on. No validation during training (final weights; nothing is chosen on test).
#
#   bench/multidomain.sh                 # data in ../shared/data, work in /tmp/semid-multidomain, results in bench/results/multidomain
#   SINGLE=1000 UNIFIED=1500 FINETUNE=250 bench/multidomain.sh
# Each step's wall time, the core count and `uptime` before and after go into bench/results/multidomain/budget.json.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${SEMID_DATA_DIR:-../shared/data}
WORK=${WORK:-/tmp/semid-multidomain}
OUT=${OUT:-bench/results/multidomain}
SINGLE=${SINGLE:-1000}     # steps of each single-domain model (a)
UNIFIED=${UNIFIED:-1500}   # steps of the unified model (b)
FINETUNE=${FINETUNE:-250}  # steps of each domain's fine-tuning (c)
TOKENIZER=${TOKENIZER:-rqkmeans}
S="nice -n ${NICE:-19} node scripts/semid.js"
DOMAINS=(scientific office)
if [ $((2 * SINGLE)) -ne $((UNIFIED + 2 * FINETUNE)) ]; then
  echo "unequal budgets: 2 x SINGLE ($((2 * SINGLE))) != UNIFIED + 2 x FINETUNE ($((UNIFIED + 2 * FINETUNE)))" >&2
  exit 2
fi
mkdir -p "$WORK" "$OUT"
timings="$OUT/timings.jsonl"
: > "$timings"
step() { # name, command...: runs it and appends its wall time
  local name=$1; shift
  local t0; t0=$(date +%s.%N)
  "$@"
  echo "{\"step\": \"$name\", \"seconds\": $(echo "$(date +%s.%N) - $t0" | bc), \"uptime\": \"$(uptime)\"}" >> "$timings"
}
echo "{\"start\": \"$(date -u +%FT%TZ)\", \"cores\": $(nproc), \"uptime\": \"$(uptime)\", \"single\": $SINGLE, \"unified\": $UNIFIED, \"finetune\": $FINETUNE, \"tokenizer\": \"$TOKENIZER\"}" > "$OUT/start.json"

# Data: import each domain, merge, one embedder over all items, one tokenizer (skipped when already there).
[ -f "$WORK/scientific/manifest.json" ] || $S data import --format inter-json --interactions "$DATA/scientific/Scientific.inter.json" --items "$DATA/scientific/Scientific.item.json" --out "$WORK/scientific"
[ -f "$WORK/office/manifest.json" ] || $S data import --format inter-json --interactions "$DATA/office/Office.inter.json" --items "$DATA/office/Office.item.json" --out "$WORK/office"
[ -f "$WORK/merged/manifest.json" ] || $S data merge --domain scientific="$WORK/scientific" --domain office="$WORK/office" --out "$WORK/merged"
[ -f "$WORK/merged/embeddings/default.parquet" ] || $S embed text --data "$WORK/merged" --dim 256 --quiet
[ -f "$WORK/tok-$TOKENIZER/codes.parquet" ] || $S tokenize fit --data "$WORK/merged" --method "$TOKENIZER" --levels 3 --codebook-size 256 --out "$WORK/tok-$TOKENIZER"
M=(--data "$WORK/merged" --tokenizer "$WORK/tok-$TOKENIZER")
TRAIN=(--preset causal --valid-users 0 --checkpoint-every 500)

# (a) one model per domain, on that domain's users only.
for d in "${DOMAINS[@]}"; do
  step "train single $d" $S train "${M[@]}" "${TRAIN[@]}" --domain "$d" --steps "$SINGLE" --out "$WORK/single-$d"
done
# (b) one model on both domains; (c) it, fine-tuned on each domain (fresh warm-up and cosine over the fine-tuning steps).
step "train unified" $S train "${M[@]}" "${TRAIN[@]}" --steps "$UNIFIED" --out "$WORK/unified"
for d in "${DOMAINS[@]}"; do
  step "finetune $d" $S train "${M[@]}" --init "$WORK/unified" --domain "$d" --steps "$FINETUNE" --warmup-steps 20 --valid-users 0 --out "$WORK/finetune-$d"
done

# Test split, each domain's users, ranked within their domain (with popularity and dense baselines of the domain).
for d in "${DOMAINS[@]}"; do
  step "eval single $d" $S eval "${M[@]}" --model "$WORK/single-$d" --domain "$d" --split test --out "$OUT/single-$d.test.json"
  step "eval finetune $d" $S eval "${M[@]}" --model "$WORK/finetune-$d" --domain "$d" --split test --out "$OUT/finetune-$d.test.json"
done
step "eval unified" $S eval "${M[@]}" --model "$WORK/unified" --split test --out "$OUT/unified.test.json"
for run in single-scientific single-office unified finetune-scientific finetune-office; do
  cp "$WORK/$run/metrics.jsonl" "$OUT/$run.metrics.jsonl"
  cp "$WORK/$run/config.json" "$OUT/$run.config.json"
done
cp "$WORK/tok-$TOKENIZER/report.json" "$OUT/tokenizer-$TOKENIZER.report.json"
echo "{\"end\": \"$(date -u +%FT%TZ)\", \"uptime\": \"$(uptime)\"}" > "$OUT/end.json"
echo "results in $OUT"
