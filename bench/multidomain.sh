#!/usr/bin/env bash
# Multi-domain (GMC) comparison on Amazon Scientific + Office (BENCHMARKS.md, "Several domains"): per domain,
# (a) a model trained on that domain alone, (b) one unified model on both, (c) (b) fine-tuned on each domain, with
# the same total optimiser steps for (a) summed over domains as for (b) + (c). Every model is the `causal` preset
# (parallel head, catalog loss, ID embedding) on one merged data set and one tokenizer, so the only difference is
# which users each step trains on. No validation during training (final weights; nothing is chosen on test).
#
#   bench/multidomain.sh                 # data in ../shared/data, work in /tmp/semid-multidomain, results in bench/results/multidomain
#   SINGLE=1000 UNIFIED=1500 FINETUNE=250 bench/multidomain.sh
#   TOKENIZER=rqvae CONTRASTIVE=10 bench/multidomain.sh   # (d): RQ-VAE with the domain-contrastive term (0: without)
#   SEED=1 bench/multidomain.sh                          # another seed of every model (weights, data order, dropout)
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
CONTRASTIVE=${CONTRASTIVE:-}  # RQ-VAE's --domain-contrastive weight; the tokenizer is then tok-rqvae-wWEIGHT
SEED=${SEED:-0}
TOK_NAME=$TOKENIZER${CONTRASTIVE:+-w$CONTRASTIVE}
TOK_FLAGS=(--method "$TOKENIZER")
[ -z "$CONTRASTIVE" ] || TOK_FLAGS+=(--domain-contrastive "$CONTRASTIVE")
RUNS=$WORK/runs-$TOK_NAME-seed$SEED  # model directories of this tokenizer and seed
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
echo "{\"start\": \"$(date -u +%FT%TZ)\", \"cores\": $(nproc), \"uptime\": \"$(uptime)\", \"single\": $SINGLE, \"unified\": $UNIFIED, \"finetune\": $FINETUNE, \"tokenizer\": \"$TOK_NAME\", \"seed\": $SEED}" > "$OUT/start.json"

# Data: import each domain, merge, one embedder over all items, one tokenizer (skipped when already there).
[ -f "$WORK/scientific/manifest.json" ] || $S data import --format inter-json --interactions "$DATA/scientific/Scientific.inter.json" --items "$DATA/scientific/Scientific.item.json" --out "$WORK/scientific"
[ -f "$WORK/office/manifest.json" ] || $S data import --format inter-json --interactions "$DATA/office/Office.inter.json" --items "$DATA/office/Office.item.json" --out "$WORK/office"
[ -f "$WORK/merged/manifest.json" ] || $S data merge --domain scientific="$WORK/scientific" --domain office="$WORK/office" --out "$WORK/merged"
[ -f "$WORK/merged/embeddings/default.parquet" ] || $S embed text --data "$WORK/merged" --dim 256 --quiet
[ -f "$WORK/tok-$TOK_NAME/codes.parquet" ] || $S tokenize fit --data "$WORK/merged" "${TOK_FLAGS[@]}" --levels 3 --codebook-size 256 --out "$WORK/tok-$TOK_NAME"
M=(--data "$WORK/merged" --tokenizer "$WORK/tok-$TOK_NAME")
TRAIN=(--preset causal --valid-users 0 --checkpoint-every 500 --seed "$SEED")
mkdir -p "$RUNS"

# (a) one model per domain, on that domain's users only.
for d in "${DOMAINS[@]}"; do
  step "train single $d" $S train "${M[@]}" "${TRAIN[@]}" --domain "$d" --steps "$SINGLE" --out "$RUNS/single-$d"
done
# (b) one model on both domains; (c) it, fine-tuned on each domain (fresh warm-up and cosine over the fine-tuning steps).
step "train unified" $S train "${M[@]}" "${TRAIN[@]}" --steps "$UNIFIED" --out "$RUNS/unified"
for d in "${DOMAINS[@]}"; do
  step "finetune $d" $S train "${M[@]}" --init "$RUNS/unified" --domain "$d" --steps "$FINETUNE" --warmup-steps 20 --valid-users 0 --seed "$SEED" --out "$RUNS/finetune-$d"
done

# Test split, each domain's users, ranked within their domain (with popularity and dense baselines of the domain).
for d in "${DOMAINS[@]}"; do
  step "eval single $d" $S eval "${M[@]}" --model "$RUNS/single-$d" --domain "$d" --split test --out "$OUT/single-$d.test.json"
  step "eval finetune $d" $S eval "${M[@]}" --model "$RUNS/finetune-$d" --domain "$d" --split test --out "$OUT/finetune-$d.test.json"
done
step "eval unified" $S eval "${M[@]}" --model "$RUNS/unified" --split test --out "$OUT/unified.test.json"
for run in single-scientific single-office unified finetune-scientific finetune-office; do
  cp "$RUNS/$run/metrics.jsonl" "$OUT/$run.metrics.jsonl"
  cp "$RUNS/$run/config.json" "$OUT/$run.config.json"
done
cp "$WORK/tok-$TOK_NAME/report.json" "$OUT/tokenizer-$TOK_NAME.report.json"
echo "{\"end\": \"$(date -u +%FT%TZ)\", \"uptime\": \"$(uptime)\"}" > "$OUT/end.json"
echo "results in $OUT"
