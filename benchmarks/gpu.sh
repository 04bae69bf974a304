#!/usr/bin/env bash
# The project's GPU check (issue 11), sized for one lease of the device tool: a command runs at most 10 minutes and a
# session gets 15 minutes of device time, machine start included. First run: 2026-12-04 (README, "On a GPU").
#
# Prepare here, once (the device machine has no network and receives only the checkout plus `carry`):
#   ../shared/gpu/fetch-wheels.sh .whl        # 37 MB of wheels its Python 3.12 / torch 2.11 image lacks (.whl is ignored)
#   pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 \
#     --platform manylinux2014_x86_64 -d .whl pillow-avif-plugin   # roboflow, fetched above, imports it (7.5 MB)
#   python data/scripts/prepare_neu.py --src ../shared/datasets/NEU-DET --out datasets/neu
#   GPU_DRY=1 bash benchmarks/gpu.sh          # the same stages on this CPU at toy budgets (6-10 min): catches typos
# Then two calls back to back (wheels and data together pass the 64 MiB a call; the install stays while the machine
# is warm, 30 s; the labels' .cache files stay behind):
#   run(command="bash benchmarks/gpu.sh install", carry=[".whl"])
#   run(command="bash benchmarks/gpu.sh", timeout_s=600,
#       carry=["datasets/neu/images", "datasets/neu/labels/train", "datasets/neu/labels/test"])
# What comes back: $OUT/summary.md (each stage's verdict and tables) and $OUT/logs.tar.gz (every log, results.csv).
#
# Stages, each time-boxed against one deadline so that a slow or failing stage still leaves the others' results:
#   1. install the wheels into /tmp/site (PYTHONPATH, so the image's numpy 2.5 stays for everything else), versions
#   2. correctness on CUDA: the demo pipeline for a few epochs (guide, gen_lam, LAGNet with AMP and its blank twin,
#      half-precision val), detect.py with on-the-fly LAMs, export.py to TorchScript with the guide inside
#   3. speed: benchmarks/speed.py --device 0 — the paper's FPS comparison (network only, with LAM generation, one
#      graph) against yolov5l, batch 1 and 16, 640 px, FP16
#   4. NEU-DET at 640 px (the paper's size): yolov5s guide -> LAMs -> lagnet-s and its blank twin, NEU_EPOCHS each,
#      until the deadline; per-epoch curves and seconds per epoch come back even if it is cut (the paper's 500 epochs
#      do not fit a 15-minute lease: this stage says how long they would take).
#   With GPU_STUDY_NAME and GPU_STUDY_SEEDS set (a benchmarks/seeds.py study, GPU_STUDY its other arguments, no
#   --train-args), stage 4 is instead that study, one seeds.py per seed in the background from stage 1 on (a seed's
#   guide is trained anew if an arm still to train reads its maps: runs/ does not travel). GPU_STUDY_THEN (more
#   seeds.py arguments, e.g. "--lams blank") starts a second seeds.py per seed with them as soon as that seed's guide
#   is tested, so that its arms train two at a time (the device is not the bottleneck; its 16 CPUs are). Each seed
#   comes back as $OUT/study-seed<N>.tar.gz (every arm's record, log, curve, test metrics; the guide's best.pt) to
#   unpack in the repo root here, where `seeds.py --tabulate` (the study's arguments, all its --lams) makes the table.
#   E.g. as tried for the 80-epoch NEU-DET study of issue 11 (the guide, then LAGNet on its maps; see its price below):
#     GPU_STUDY_NAME=neu-yolov5s-80e-128px GPU_STUDY_SEEDS="1 2" GPU_STUDY="--data neu.yaml --epochs 80 --imgsz 128
#     --batch 16 --workers 6 --guide-cfg yolov5s.yaml --cfg dual-cspdarknet-lgb-scem-n.yaml --lams guide" bash benchmarks/gpu.sh
#   GPU_SKIP="speed ..." skips the stages named (e.g. a study that wants the device to itself).
#   Prepared for the next lease (issue 11: does the map add to branches started from the guide, on NEU-DET?), sized
#   to one call at ~12 s an epoch plus ~100 s of start-ups and tests (tried here with GPU_DRY=1 at toy budgets):
#     GPU_BUDGET_S=580 GPU_STUDY_NAME=neu-yolov5n-g20-e14-128px-gb GPU_STUDY_SEEDS="0 1 2" GPU_STUDY="--data neu.yaml
#     --guide-epochs 20 --epochs 14 --imgsz 128 --batch 16 --workers 3 --guide-cfg yolov5n.yaml
#     --cfg dual-cspdarknet-lgb-scem-n.yaml --lams guide --guide-backbone" GPU_STUDY_THEN="--lams blank"
#     GPU_SKIP="demo-data demo-pipeline demo-detect demo-export speed" bash benchmarks/gpu.sh
#   If they are still training when the call ends, call `bash benchmarks/gpu.sh collect` at once (same variables):
#   it waits for them until its own deadline (GPU_BUDGET_S, to fit what is left of the lease), then stops them; an
#   arm cut there comes back as its curve and log, untested (a 3-seed study's last.pt files would pass the tool's
#   8 files back).
#   Priced on the H200 (2026-12-04): the yolov5s guides of that study took about 12 s an epoch there (data loading and
#   per-epoch validation on the CPUs, two in parallel beside stages 2-3): an 80-epoch seed needs about 35 minutes,
#   more than a lease; a study sized to the lease (fewer epochs, or the guides alone) fits. Alone (seed 2's blank-LAM
#   twin, --workers 8, GPU_SKIP=speed, second lease) it was no faster: 12.6 s an epoch, epoch 35 of 80 by the deadline.
set -uo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
DRY=${GPU_DRY:-}
OUT=${OUT:-runs/gpu-dry}
BUDGET=${GPU_BUDGET_S:-$([ -n "$DRY" ] && echo 1800 || echo 560)}  # seconds for all stages; the tool kills at 600
NEU_EPOCHS=${NEU_EPOCHS:-$([ -n "$DRY" ] && echo 1 || echo 10)}
if [ -n "$DRY" ]; then DEVICE=cpu; DEMO_EPOCHS=1; SPEED_ITERS=1; SPEED_IMGSZ=128; NEU_IMGSZ=64; else
  DEVICE=0; DEMO_EPOCHS=5; SPEED_ITERS=50; SPEED_IMGSZ=640; NEU_IMGSZ=640; fi
LOGS=runs/gpu
STUDY_NAME=${GPU_STUDY_NAME:-}; STUDY_SEEDS=${GPU_STUDY_SEEDS:-}
STUDY_RUNS=runs/seeds/$STUDY_NAME
[ "${1:-}" = collect ] || rm -rf "$LOGS" runs/pipeline/gpu-demo runs/pipeline/gpu-neu  # each call starts afresh
mkdir -p "$OUT" "$LOGS"
SUMMARY="$OUT/summary.md"
echo "# GPU check, $(date -u +%F) — benchmarks/gpu.sh ${1:-}${DRY:+ (GPU_DRY: CPU, toy budgets)}" > "$SUMMARY"
export PYTHONUNBUFFERED=1
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # the scripts under benchmarks/ and data/ import lagnet_modules: no pip -e there

left() { echo $((BUDGET - ($(date +%s) - T0))); }
# The study's seeds.py processes, each the leader of its own process group (setsid; train.py runs inside it).
study_running() { local p; for p in $(cat "$LOGS/study.pids" 2>/dev/null); do kill -0 "$p" 2> /dev/null && return 0; done; return 1; }
# Waits for the study until the deadline (`collect stop`, the follow-up call: then stops it), then packs each seed:
# every arm it has tested, the guide's weights, and the curve and log of each arm still training.
collect() {
  local s run arm metrics p epochs files
  while [ "$(left)" -gt 20 ] && study_running; do sleep 5; done
  if [ "${1:-}" = stop ]; then
    for p in $(cat "$LOGS/study.pids" 2>/dev/null); do kill -- -"$p" 2> /dev/null; done; sleep 2
  fi
  for s in $STUDY_SEEDS; do
    run=$STUDY_RUNS/seed$s
    [ -d "$run" ] || continue
    files=$(ls -d "$run"/*.log "$run"/*.json "$run"/*/results.csv "$run"/*/opt.yaml "$run"/*/hyp.yaml "$run"/val \
      "$run"/guide/weights/best.pt "benchmarks/results/records/seeds-$STUDY_NAME-seed$s.json" 2> /dev/null)
    tar -czf "$OUT/study-seed$s.tar.gz" $files
    for metrics in "$run"/val/*/metrics.json; do
      [ -f "$metrics" ] || continue
      arm=$(basename "$(dirname "$metrics")")
      echo "- **study seed $s, $arm**: $(python3 -c "import json, sys; m, t = (json.load(open(f)) for f in sys.argv[1:])
print(f\"test mAP@0.5 {m['all']['mAP50']:.3f}, trained in {t['seconds']:.0f} s\")" "$metrics" "$run/$arm.json")" >> "$SUMMARY"
    done
    for arm in "$run"/*/results.csv; do
      arm=$(basename "$(dirname "$arm")")
      [ -f "$run/val/$arm/metrics.json" ] && continue
      epochs=$(($(wc -l < "$run/$arm/results.csv") - 1))
      echo "- **study seed $s, $arm**: untested, $epochs epochs done$(study_running && echo ', training on' \
        '(`bash benchmarks/gpu.sh collect` at once, same variables, waits for it)')" >> "$SUMMARY"
    done
    echo "- seed $s packed: $OUT/study-seed$s.tar.gz (\`tar -xzf study-seed$s.tar.gz\` in the repo root)" >> "$SUMMARY"
    { echo '```'; tail -n 4 "$LOGS"/study-seed$s*.log 2>/dev/null; echo '```'; } >> "$SUMMARY"
  done
}
# stage NAME CAP_S CMD...: runs CMD with a timeout of min(CAP_S, time left - 20 s), logs to runs/gpu/NAME.log
stage() {
  local name=$1 cap=$2; shift 2
  case " ${GPU_SKIP:-} " in *" $name "*) echo "- **$name**: skipped (GPU_SKIP)" >> "$SUMMARY"; return 1;; esac
  [ -n "$DRY" ] && cap=$((cap * 6))  # on the CPU even toy budgets take minutes
  local t=$(( $(left) - 20 )); [ "$t" -gt "$cap" ] && t=$cap
  if [ "$t" -lt 30 ]; then echo "- **$name**: skipped, $(left) s left" >> "$SUMMARY"; return 1; fi
  local s=$(date +%s)
  timeout -k 10 "$t" "$@" > "$LOGS/$name.log" 2>&1
  local rc=$?
  local verdict=ok; [ $rc -eq 124 ] && verdict="cut at its ${t} s box"; [ $rc -ne 0 ] && [ $rc -ne 124 ] && verdict="FAILED (rc $rc)"
  local cmd="$*"; [ ${#cmd} -gt 240 ] && cmd="${cmd:0:240} ..."
  echo "- **$name**: $verdict, $(( $(date +%s) - s )) s (\`$cmd\`)" >> "$SUMMARY"
  [ $rc -ne 0 ] && { echo '```'; tail -n 15 "$LOGS/$name.log"; echo '```'; } >> "$SUMMARY"
  return $rc
}
finish() {
  find runs/pipeline/gpu-* -name results.csv -o -name '*.log' -o -name results.md -o -name opt.yaml 2>/dev/null \
    | tar -czf "$OUT/logs.tar.gz" -T - "$LOGS" 2>/dev/null
  echo "- total $(( $(date +%s) - T0 )) s" >> "$SUMMARY"
  cat "$SUMMARY"
}
trap finish EXIT

# 1. install
if [ -z "$DRY" ]; then
  if [ -d .whl ]; then
    stage install 120 python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .whl/*.whl || exit 1
  elif [ ! -d /tmp/site/yolov5 ]; then
    echo "- **install**: no .whl carried and nothing in /tmp/site (a fresh machine): carry .whl" >> "$SUMMARY"; exit 1
  fi
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
[ "${1:-}" = install ] && exit 0
[ "${1:-}" = collect ] && { collect stop; exit 0; }
stage versions 60 bash -c 'nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null;
  python3 -W ignore -c "import sys, torch, torchvision, numpy, yolov5, lagnet_modules; print(sys.version.split()[0], torch.__version__,
  torchvision.__version__, numpy.__version__, torch.cuda.is_available())"' || exit 1
sed 's/^/    /' "$LOGS/versions.log" >> "$SUMMARY"

# 4 (study), started now, in the background while the stages below share the device
# (seeds.py trains a seed's guide anew only when an arm still to train reads its maps: a blank-LAM twin needs no guide;
# the record's copy that comes back holds this machine's arms beside the ones it arrived with)
blank=; case " ${GPU_STUDY_THEN:-} " in *" blank "*) blank=1;; esac  # THEN makes blank LAMs
for s in $STUDY_SEEDS; do
  setsid python3 benchmarks/seeds.py --seeds "$s" --name "$STUDY_NAME" --device "$DEVICE" ${GPU_STUDY:-} \
    > "$LOGS/study-seed$s.log" 2>&1 &
  echo $! >> "$LOGS/study.pids"
  [ -n "${GPU_STUDY_THEN:-}" ] || continue
  # The second seeds.py of the seed, once its guide is tested. Blank LAMs are one folder for all seeds: the first
  # such process to start makes them (mkdir is atomic), the others wait for its record of them.
  setsid bash -c 'until [ -f "$1/seed$2/val/guide/metrics.json" ]; do sleep 5; done
    [ -z "$3" ] || mkdir "$1/.then-first" 2> /dev/null ||
      until grep -qs "\"returncode\": 0" "$1/gen_lam_blank.json"; do sleep 5; done
    shift 3; exec python3 benchmarks/seeds.py "$@"' _ "$STUDY_RUNS" "$s" "$blank" --seeds "$s" --name "$STUDY_NAME" \
    --device "$DEVICE" ${GPU_STUDY:-} $GPU_STUDY_THEN > "$LOGS/study-seed$s-then.log" 2>&1 &
  echo $! >> "$LOGS/study.pids"
done
[ -n "$STUDY_SEEDS" ] && echo "- **study**: seeds $STUDY_SEEDS of $STUDY_NAME training in the background" \
  "(the stages below share the device and CPUs with them)" >> "$SUMMARY"

# 2. correctness on CUDA, on the demo's data made afresh in its own folder (no carry; a `make demo` here is untouched)
[ -d datasets/gpu-demo/images ] || stage demo-data 60 python3 data/scripts/make_synthetic.py --out datasets/gpu-demo \
  --contrast 24
sed 's|^path: .*|path: datasets/gpu-demo|' data/demo.yaml > "$LOGS/gpu-demo.yaml"
stage demo-pipeline 150 python3 pipeline.py --data "$LOGS/gpu-demo.yaml" --cfg lagnet-s.yaml --guide-cfg yolov5n.yaml \
  --epochs "$DEMO_EPOCHS" --imgsz 128 --batch 16 --device "$DEVICE" --blank --jobs 2 --name gpu-demo \
  && cat runs/pipeline/gpu-demo/results.md >> "$SUMMARY"
W=runs/pipeline/gpu-demo/lagnet-s/weights/best.pt
stage demo-detect 60 python3 detect.py --weights "$W" --source datasets/gpu-demo/images/test --imgsz 128 --device "$DEVICE" \
  --project runs/pipeline/gpu-demo --name detect --exist-ok --save-lam
stage demo-export 60 python3 export.py --weights "$W" --include torchscript --imgsz 128 --device "$DEVICE" \
  $([ -z "$DRY" ] && echo --half)

# 3. speed (the paper's Table 1 FPS column, measured against yolov5l in the same run)
stage speed 150 python3 benchmarks/speed.py --device "$DEVICE" --imgsz "$SPEED_IMGSZ" --iters "$SPEED_ITERS" --batches 1 16 \
  --models yolov5s yolov5l lagnet-s lagnet-l --train-iters 0 --out "$LOGS/speed.md" && cat "$LOGS/speed.md" >> "$SUMMARY"

[ -n "$STUDY_SEEDS" ] && { collect; exit 0; }
# 4. NEU-DET at the paper's image size, as far as the deadline allows
stage neu-pipeline 600 python3 pipeline.py --data neu.yaml --cfg lagnet-s.yaml --guide-cfg yolov5s.yaml \
  --epochs "$NEU_EPOCHS" --imgsz "$NEU_IMGSZ" --batch 16 --device "$DEVICE" --blank --jobs 2 --name gpu-neu \
  && cat runs/pipeline/gpu-neu/results.md >> "$SUMMARY"
python3 - "$LOGS/neu-pipeline.log" >> "$SUMMARY" <<'EOF'
import json, re, sys
from pathlib import Path
sys.path.insert(0, 'benchmarks')
from seeds import val_curve  # the project's one results.csv reader
run, log = Path('runs/pipeline/gpu-neu'), Path(sys.argv[1])
log = log.read_text(errors='replace') if log.is_file() else ''
print('\nNEU-DET: epochs done, validation mAP@0.5 of the last three, seconds per epoch (stage wall time / epochs;'
      ' --jobs 2: the guide and the blank twin share the device, LAGNet trains after the guide)')
for name in ('guide', 'lagnet-s', 'lagnet-s-blank'):
    if not (run / name / 'results.csv').is_file():
        continue
    curve = val_curve(run / name)
    record = run / f'{name}.json'
    if record.is_file():
        seconds, how = json.loads(record.read_text())['seconds'], 'finished'
    else:  # cut at the deadline: the last progress line's clock
        clock = re.findall(rf'\[{re.escape(name)} +(\d+) s\]', log)
        seconds, how = float(clock[-1]) if clock else float('nan'), 'cut'
    maps = ' '.join(f'{v:.3f}' for v in curve[-3:])
    print(f'- {name}: {len(curve)} epochs ({how}), mAP@0.5 {maps}, {seconds / max(len(curve), 1):.1f} s/epoch')
EOF
exit 0
