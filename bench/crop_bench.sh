#!/usr/bin/env bash
# Speed of `atelier crop`: the whole command against `atelier cutout` on the same photos,
# and the window search alone (build/bench/crop_bench).
#
#   bench/crop_bench.sh            (make crop-bench)
#
# (a) The 1 MP photos of bench/cutout_bench.sh (bench/out/photos/1MP: 3 photos, 1152x864,
#     made by bench/peer/make-photos.mjs when missing). Each tool handles the 3 photos in
#     one process, after a warm-up call on a different photo (the 0.25 MP class's first),
#     which is discarded: a photo must not be repeated inside a process, because atelier's
#     AnalysisCache would answer the repeat without inference. ROUNDS processes per tool
#     (default 2), alternating which tool goes first; per photo the median over the rounds,
#     per tool the median over all its warm calls.
#       crop    `atelier crop --aspect 1:1 --aspect 9:16 --aspect 16:9 --json` (default
#               saliency): read + analysis + window search + writing the 3 crops
#       cutout  `atelier cutout --json` at default settings: read + cutout + RGBA PNG
#     The seconds are each line's "seconds" (per photo, as the command measures it; when a
#     line has none, the sum of its "timings", flagged in the JSON). Ratio crop / cutout:
#     target: crop at most 10% slower than cutout (ratio <= 1.1), since the analysis is the same model run.
# (b) build/bench/crop_bench (or build/bin/crop_bench; $CROP_BENCH overrides), when built,
#     run once with the first 12 MP photo (bench/out/photos/12MP) as its argument: it
#     analyses the photo once and times the window search for five ratios; its output is
#     printed and kept.
#
# Output: a table on stdout and bench/out/crop_bench.json; raw lines, outputs and logs in
# bench/out/crop-bench-run/. Timing on a shared machine is noisy: compare ratios.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 0 ]] || die "usage: bench/crop_bench.sh (no arguments; env: ATELIER, BENCH_OUT, ROUNDS, CROP_BENCH)"
ROUNDS="${ROUNDS:-2}"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
command -v node >/dev/null || die "node is not installed (Debian: apt-get install nodejs npm)"

require_atelier
require_atelier_command crop

run="$OUT_DIR/crop-bench-run"
rm -rf "$run"
mkdir -p "$run"

# The photos: bench/cutout_bench.sh's, reused when all are there; else made with sharp from
# the peer's install (bench/setup-peer.sh).
photos="$OUT_DIR/photos"
mapfile -t one_mp < <(compgen -G "$photos/1MP/*-1152x864.jpg" | sort)
mapfile -t warm < <(compgen -G "$photos/0.25MP/*-512x512.jpg" | sort)
mapfile -t twelve < <(compgen -G "$photos/12MP/*-4000x3000.jpg" | sort)
if [[ ${#one_mp[@]} -lt 3 || ${#warm[@]} -lt 1 || ${#twelve[@]} -lt 1 ]]; then
  echo "crop_bench: making photos ..."
  require_peer
  run_logged "$run/photos.json" node "$PEER_DIR/make-photos.mjs" --src "$SAMPLES" --out "$photos"
  mapfile -t one_mp < <(compgen -G "$photos/1MP/*-1152x864.jpg" | sort)
  mapfile -t warm < <(compgen -G "$photos/0.25MP/*-512x512.jpg" | sort)
  mapfile -t twelve < <(compgen -G "$photos/12MP/*-4000x3000.jpg" | sort)
fi
[[ ${#one_mp[@]} -ge 3 && ${#warm[@]} -ge 1 ]] || die "the benchmark photos are missing in $photos (see bench/peer/make-photos.mjs)"
one_mp=("${one_mp[@]:0:3}")

{
  echo "{"
  echo "  \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
  echo "  \"cores\": $(nproc),"
  echo "  \"cpu\": \"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1 | sed 's/["\\]//g')\","
  echo "  \"load_before\": \"$(cut -d' ' -f1-3 /proc/loadavg)\","
  echo "  \"atelier\": \"$ATELIER\","
  echo "  \"rounds\": $ROUNDS,"
  echo "  \"warmup_photo\": \"${warm[0]}\","
  printf '  "photos": ["%s", "%s", "%s"]\n' "${one_mp[@]}"
  echo "}"
} >"$run/meta.json"

calls=("${warm[0]}" "${one_mp[@]}")
run_crop() {
  mkdir -p "$run/crop-out-$1"
  run_logged "$run/crop-$1.jsonl" "$ATELIER" crop "${calls[@]}" -o "$run/crop-out-$1/" \
    --aspect 1:1 --aspect 9:16 --aspect 16:9 --json -q
}
run_cutout() {
  mkdir -p "$run/cutout-out-$1"
  run_logged "$run/cutout-$1.jsonl" "$ATELIER" cutout "${calls[@]}" -o "$run/cutout-out-$1/" --json --quiet
}

echo "crop_bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); 1 MP: ${#one_mp[@]} photos, $ROUNDS round(s) per tool"
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then
    echo "crop_bench: round $r: atelier cutout ..."; run_cutout "$r"
    echo "crop_bench: round $r: atelier crop ..."; run_crop "$r"
  else
    echo "crop_bench: round $r: atelier crop ..."; run_crop "$r"
    echo "crop_bench: round $r: atelier cutout ..."; run_cutout "$r"
  fi
done

# (b) The window search alone, on a 12 MP photo's analysis.
search_bin="${CROP_BENCH:-}"
if [[ -z "$search_bin" ]]; then
  for c in "$REPO_DIR/build/bench/crop_bench" "$REPO_DIR/build/bin/crop_bench"; do
    [[ -x "$c" ]] && { search_bin="$c"; break; }
  done
fi
if [[ -n "$search_bin" && -x "$search_bin" ]]; then
  arg=()
  [[ ${#twelve[@]} -ge 1 ]] && arg=("${twelve[0]}")
  echo "crop_bench: window search: $search_bin ${arg[*]} ..."
  if "$search_bin" "${arg[@]}" >"$run/search.txt" 2>"$run/search.txt.err"; then
    echo "ok" >"$run/search.status"
  else
    echo "failed (exit $?)" >"$run/search.status"
    note "$search_bin failed; its stderr:"; tail -n 20 "$run/search.txt.err" | sed 's/^/  | /' >&2
  fi
  echo "$search_bin ${arg[*]}" >"$run/search.command"
else
  note "build/bench/crop_bench is not built (yet): skipping the window-search timing"
fi

echo "{\"load_after\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >"$run/meta-after.json"
node "$BENCH_DIR/crop-bench-report.mjs" "$run" "$OUT_DIR/crop_bench.json"
