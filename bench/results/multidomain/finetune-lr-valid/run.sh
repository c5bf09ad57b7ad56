#!/usr/bin/env bash
# #16: fine-tuning learning rate, chosen on the VALIDATION split (unified model of bench/multidomain.sh, rqkmeans)
set -euo pipefail
cd /work/main
S="nice -n 5 node scripts/semid.js"
W=/tmp/d16; O=/tmp/d16/sweep
M=(--data $W/merged --tokenizer $W/tok-rqkmeans)
ev() { [ -f "$2" ] || $S eval "${M[@]}" --model "$1" --domain "$3" --split valid --out "$2"; }
for d in scientific office; do
  ev $W/single-$d $O/single-$d.valid.json $d
  ev $W/finetune-$d $O/ft-lr0.003-$d.valid.json $d
  ev $W/unified $O/unified-$d.valid.json $d
done
for lr in 0.001 0.0003; do
  for d in scientific office; do
    [ -f $O/ft-lr$lr-$d/model.json ] || [ -d $O/ft-lr$lr-$d/weights ] || $S train "${M[@]}" --init $W/unified --domain $d --steps 250 --warmup-steps 20 --lr $lr --valid-users 0 --out $O/ft-lr$lr-$d
    echo "{\"lr\": $lr, \"domain\": \"$d\", \"uptime\": \"$(uptime)\"}" >> $O/timings.jsonl
    ev $O/ft-lr$lr-$d $O/ft-lr$lr-$d.valid.json $d
  done
done
echo SWEEPDONE
