#!/usr/bin/env bash
# `make fuzz`: writes the seeds, runs every harness for FUZZ_SECONDS (default 60),
# FUZZ_JOBS at a time (default 2), and prints a table: harness, execs of this run, execs
# over all runs (execs-total), corpus size, crashes (reproducers in artifacts/). Corpora and artifacts live under FUZZ_OUT (default
# BUILD_DIR/fuzz/runs, git-ignored) and grow from run to run. Exits 1 when any harness
# found something. Usage: run-all.sh [HARNESS...] (default: all).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$here/../build-san}
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
out=${FUZZ_OUT:-$build/fuzz/runs}
bin=$build/fuzz/bin
seeds=$build/fuzz/seeds

"$bin/atelier_fuzz_seeds" "$seeds" || exit 1
if [ $# -gt 0 ]; then names=("$@"); else
  names=()
  for f in "$bin"/*_fuzzer; do names+=("$(basename "$f")"); done
fi
echo "fuzz: ${#names[@]} harnesses, ${seconds} s each, ${jobs} at a time, output in $out"
printf '%s\n' "${names[@]}" |
  xargs -P "$jobs" -I{} sh -c '"$0" "$1/{}" "$2/{}" "$3/{}" "$4" >/dev/null 2>&1; echo "  {} done (exit $?)"' \
    "$here/run-one.sh" "$bin" "$seeds" "$out" "$seconds"

status=0
printf '\n%-32s %12s %12s %8s %8s\n' harness execs total corpus crashes
for n in "${names[@]}"; do
  log=$out/$n/log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null | tail -n 1)
  corpus=$(find "$out/$n/corpus" -type f 2>/dev/null | wc -l)
  total=$(cat "$out/$n/execs-total" 2>/dev/null)
  crashes=$(find "$out/$n/artifacts" -type f 2>/dev/null | wc -l)
  [ "$crashes" -gt 0 ] && status=1
  printf '%-32s %12s %12s %8s %8s\n' "$n" "${execs:-?}" "${total:-?}" "$corpus" "$crashes"
done
[ $status -eq 0 ] || echo "fuzz: reproducers under $out/*/artifacts/ (run HARNESS FILE to replay)"
exit $status
