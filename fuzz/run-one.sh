#!/usr/bin/env bash
# Runs one libFuzzer harness for SECONDS from the seeds plus what earlier runs found:
#   run-one.sh HARNESS SEEDS_DIR OUT_DIR SECONDS [libFuzzer flags...]
# New inputs go to OUT_DIR/corpus (kept between runs), reproducers of crashes, leaks,
# timeouts and out-of-memory of this run to OUT_DIR/artifacts/, the log to OUT_DIR/log,
# and the run's executions are added to OUT_DIR/execs-total (the harness's tally over runs);
# the dictionary SEEDS_DIR/../dict/<harness>.dict (written by make_seeds) is used when
# there is one. The exit status is libFuzzer's: non-zero when it found anything (the
# log's tail is printed then).
set -uo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 HARNESS SEEDS_DIR OUT_DIR SECONDS [libFuzzer flags...]" >&2
  exit 2
fi
# Absolute paths: a harness may change its working folder (parse_background_fuzzer does).
bin=$(realpath -m "$1") seeds=$(realpath -m "$2") out=$(realpath -m "$3") seconds=$4
shift 4
name=$(basename "$bin")
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out/artifacts"  # the reproducers of this run only (copy them out to keep them)
mkdir -p "$out/corpus" "$out/artifacts" "$seeds"
flags=(-max_total_time="$seconds" -timeout=30 -rss_limit_mb=2560 -print_final_stats=1
       -artifact_prefix="$out/artifacts/")
dict=$(dirname "$seeds")/dict/$name.dict
[ -f "$dict" ] && flags+=(-dict="$dict")
# Sanitizer reports are fatal and symbolized (the Makefile sets the same for every run).
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0}
# ASan's larger frames: the GBNF matcher's 2000-level nesting limit needs > 8 MiB of stack.
ulimit -s 65536 2>/dev/null || true
"$bin" "${flags[@]}" "$@" "$out/corpus" "$seeds" >"$out/log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -n 1)
total=$(cat "$out/execs-total" 2>/dev/null || echo 0)
echo $(( total + ${execs:-0} )) >"$out/execs-total"
if [ $rc -ne 0 ]; then
  echo "$name: libFuzzer exited $rc; artifacts in $out/artifacts; log $out/log:" >&2
  tail -n 80 "$out/log" >&2
fi
exit $rc
