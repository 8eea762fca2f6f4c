#!/usr/bin/env bash
# Smart-crop quality of `atelier crop` against smartcrop.js on human eye fixations.
#
#   bench/crop_compare.sh [DIR]        (make crop-compare)
#
# DIR holds stimuli/*.jpg and density_maps/*.png with the same stems (fixation density,
# 8-bit); default ../shared/eval-dev/nus_scene50 next to the repository (50 scenes).
#
# 1. Installs smartcrop-sharp 2.0.8 into bench/smartcrop/ (bench/setup-smartcrop.sh).
# 2. Runs bench/smartcrop/crops.mjs: smartcrop.js's largest window of each ratio (1:1, 9:16,
#    16:9) on every photo, its rectangles as JSON, its time per photo.
# 3. Runs `atelier eval crop DIR --extra smartcrop.js=<rectangles>` and prints its table:
#    per ratio, the share of fixation density kept inside the crop of atelier, the centre
#    crop, the best possible window (searched on the fixation map) and smartcrop.js.
#
# Outputs in bench/out/crop/<set>/: smartcrop.json (rectangles), smartcrop-details.json (size
# asked, raw topCrop and score, seconds per call), smartcrop.txt (its per-photo log),
# eval.txt (atelier's table).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -le 1 ]] || die "usage: bench/crop_compare.sh [DIR]   (DIR: stimuli/*.jpg + density_maps/*.png)"
dir="${1:-$REPO_DIR/../shared/eval-dev/nus_scene50}"
dir="${dir%/}"
[[ -d "$dir" ]] || die "$dir: not a folder (the default set lives in ../shared/eval-dev/nus_scene50 next to the repository)"
[[ -d "$dir/stimuli" && -d "$dir/density_maps" ]] || die "$dir: needs stimuli/*.jpg and density_maps/*.png"
compgen -G "$dir/stimuli/*.jpg" >/dev/null || die "$dir/stimuli: no .jpg photos"
dir="$(cd "$dir" && pwd)"
name="$(basename "$dir")"

command -v node >/dev/null || die "node is not installed (Debian: apt-get install nodejs npm)"
require_atelier_command eval crop
"$BENCH_DIR/setup-smartcrop.sh" >&2 || die "smartcrop-sharp could not be set up (see above; run bench/setup-smartcrop.sh --force to retry)"

work="$OUT_DIR/crop/$name"
rm -rf "$work"
mkdir -p "$work"

shopt -s nullglob
stimuli=("$dir"/stimuli/*.jpg)
shopt -u nullglob
echo "crop_compare: ${#stimuli[@]} photos ($name); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "crop_compare: smartcrop.js (smartcrop-sharp 2.0.8), largest window per ratio ..."
run_logged "$work/smartcrop.txt" node "$BENCH_DIR/smartcrop/crops.mjs" --details "$work/smartcrop-details.json" "$dir" "$work/smartcrop.json"
tail -n 1 "$work/smartcrop.txt" | sed 's/^/crop_compare: /'

echo "crop_compare: atelier eval crop ..."
echo
run_logged "$work/eval.txt" "$ATELIER" eval crop "$dir" --extra "smartcrop.js=$work/smartcrop.json"
cat "$work/eval.txt"
echo
echo "crop_compare: outputs in $work"
