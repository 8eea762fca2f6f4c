#!/usr/bin/env bash
# Closed-loop HTTP load on `POST /v1/cutout`: `atelier serve` against the peer tool served
# the way a Node.js developer would (bench/peer/serve-peer.mjs), at several concurrencies.
#
#   bench/serve_bench.sh            (make serve-bench)
#   env: LEVELS ("1 2 4 8 16"), REQUESTS_PER_LEVEL (default max(12, 3 x N) per level),
#        SOAK_SECONDS (600; 0 skips the soak), WORKERS (1), QUEUE (24), THREADS (all cores),
#        SERVE_TIMEOUT (atelier serve --timeout; default its own, 60 s), VARIANTS (4),
#        REQUEST_TIMEOUT (the client's, 120), LEVEL_CAP_SECONDS (900), PEER (1; 0 skips the
#        peer), ATELIER, BENCH_OUT
#
# Photos: the three 1 MP subjects of cutout_bench.sh (rocket, motorcycle_left, astronaut from
# Debian's python3-skimage; 1152x864, JPEG q92, made with the peer's sharp by
# bench/peer/make-serve-photos.mjs into bench/out/photos/serve/), each in VARIANTS copies
# whose pixels differ invisibly (+k on every channel value). They are sent in turn, subjects
# interleaved, and the turn continues across runs against the same server. The variants are
# needed because atelier serve caches subject maps per decoded image (the last 8 images,
# src/vision/analysis_cache.h): with 3 photos only, every request from the fourth on would
# be answered without inference. 3 x 4 = 12 distinct images sent cyclically never hit that
# cache, as distinct uploads would not. To check, the script reads atelier's /metrics before
# and after each level: inference calls per answered request and their mean time.
#
# Servers (both up for the whole run, one process each; levels in the order given, at each
# level atelier first, then the peer):
#   atelier  `$ATELIER serve --port 0 --host 127.0.0.1 --data-dir bench/out/serve-run/data
#            --workers W --queue Q [--threads T]`; ready when GET /readyz answers 200 (the
#            models loaded and warmed). Settings of a deployment on this box: one inference
#            worker with every core given to the model (--threads defaults to all cores; a
#            second worker on 2 cores would split them and slow each request), and a queue of
#            24 waiting requests: at least 16, since 16 closed-loop clients can have 16 waiting
#            at once (15 behind the running request, plus the next request of a client whose
#            answer has gone out while its task is still returning), so the largest level
#            sees no 429; half as much again for headroom; and no more, so that a full queue
#            still drains inside the request deadline (atelier's --timeout, 60 s): (24 + 1) x
#            service time is ~15 s at 0.6 s a photo (bf16, AVX-512) and ~50 s at 2 s (fp32,
#            AVX2), so past the bound a client gets a prompt 429, not a late 504. WORKERS,
#            QUEUE, THREADS and SERVE_TIMEOUT (--timeout) override.
#   peer     `node bench/peer/serve-peer.mjs --port 0`: node:http, removeBackground() per
#            request with {model: "medium", output: {format: "image/png"}} and the package's
#            shipped onnxruntime options; no queue, no worker pool (see its header).
# Load: bench/peer/load.mjs, N clients in a closed loop (each sends its next request when
# its previous answer arrives), keep-alive connections, the JPEG as the raw body
# (Content-Type: image/jpeg), per-request timeout REQUEST_TIMEOUT s, LEVEL_CAP_SECONDS per
# run. Per level and server: one warm-up request (discarded), then REQUESTS_PER_LEVEL
# requests. Measured: throughput (200 answers with a PNG body per second of wall time),
# latency p50/p90/p99/max of those (request start to last byte), errors by status
# (429 apart), the server's peak VmRSS (/proc/PID/status, sampled every 0.5 s during the
# level: the atelier serve process; the node process) and its CPU seconds.
# CLI: `$ATELIER cutout --json` on the three plain (v0) photos in one process after a
# warm-up call on another variant (discarded): the median of the per-photo "seconds" (read,
# cutout, write the PNG), beside the service's p50 at concurrency 1 (target <= 1.10x CLI).
# Soak (SOAK_SECONDS > 0, after the levels, atelier only, same server): concurrency 4 for
# SOAK_SECONDS, RSS sampled every 0.5 s; the median of the first minute (after warm-up)
# against the median of the last minute (each window shrinks to a third of the soak's wall
# time when that is under 3 minutes): growth in % (target <= 5%).
# Targets printed beside the numbers: throughput atelier / peer >= 2x at every level; p50 at
# concurrency 1 <= 1.10x the CLI's per-photo time; no errors other than 429; atelier's peak
# RSS <= 1.5 GiB at concurrency 16; soak growth <= 5%; and the queue bound: every latency <=
# (queue + workers) x service time, the service time being p50 at concurrency 1.
#
# Output: a table on stdout and bench/out/serve_bench.json; raw per-run JSON lines, metrics
# snapshots, server logs and data in bench/out/serve-run/. Both servers are stopped on exit.
# A full run takes about 20-25 minutes on a quiet 2-core machine (the peer at concurrency 16
# alone ~3 min, the soak 10), two to three times that while something else compiles. A
# loaded machine also stretches latencies at concurrency 16 past the deadlines: atelier's
# 60 s (its 504s count as errors; SERVE_TIMEOUT raises it) and the client's 120 s (timeouts,
# the peer's first). Timing on a shared machine is noisy: compare ratios.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 0 ]] || die "usage: bench/serve_bench.sh (no arguments; env: LEVELS, REQUESTS_PER_LEVEL, SOAK_SECONDS, WORKERS, QUEUE, THREADS, SERVE_TIMEOUT, VARIANTS, REQUEST_TIMEOUT, LEVEL_CAP_SECONDS, PEER, ATELIER, BENCH_OUT)"

LEVELS="${LEVELS:-1 2 4 8 16}"
REQUESTS_PER_LEVEL="${REQUESTS_PER_LEVEL:-}"
SOAK_SECONDS="${SOAK_SECONDS:-600}"
WORKERS="${WORKERS:-1}"
QUEUE="${QUEUE:-24}"
THREADS="${THREADS:-}"
SERVE_TIMEOUT="${SERVE_TIMEOUT:-}"
VARIANTS="${VARIANTS:-4}"
REQUEST_TIMEOUT="${REQUEST_TIMEOUT:-120}"
LEVEL_CAP_SECONDS="${LEVEL_CAP_SECONDS:-900}"
PEER="${PEER:-1}"
posint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, got '$2'"; }
read -r -a levels <<<"$LEVELS"
[[ ${#levels[@]} -gt 0 ]] || die "LEVELS is empty"
for n in "${levels[@]}"; do posint "LEVELS (each)" "$n"; [[ $n -le 256 ]] || die "LEVELS: $n is more than 256 clients"; done
[[ -z "$REQUESTS_PER_LEVEL" ]] || posint REQUESTS_PER_LEVEL "$REQUESTS_PER_LEVEL"
[[ "$SOAK_SECONDS" =~ ^[0-9]+$ ]] || die "SOAK_SECONDS must be a whole number of seconds, got '$SOAK_SECONDS'"
posint WORKERS "$WORKERS"
[[ "$QUEUE" =~ ^[0-9]+$ ]] || die "QUEUE must be a non-negative integer, got '$QUEUE'"
[[ -z "$THREADS" ]] || posint THREADS "$THREADS"
[[ -z "$SERVE_TIMEOUT" ]] || posint SERVE_TIMEOUT "$SERVE_TIMEOUT"
posint VARIANTS "$VARIANTS"
[[ $VARIANTS -ge 3 ]] || note "warning: VARIANTS=$VARIANTS gives $((3 * VARIANTS)) distinct photos, not more than atelier's 8-image analysis cache: repeats may skip inference"
posint REQUEST_TIMEOUT "$REQUEST_TIMEOUT"
posint LEVEL_CAP_SECONDS "$LEVEL_CAP_SECONDS"
[[ "$PEER" == 0 || "$PEER" == 1 ]] || die "PEER must be 0 or 1"
command -v curl >/dev/null || die "curl is missing (Debian: apt-get install curl)"

require_atelier
require_atelier_command serve
require_peer  # also brings sharp, which makes the photos

run="$OUT_DIR/serve-run"
rm -rf "$run"
mkdir -p "$run"
cores="$(nproc)"
threads_flag=()
[[ -n "$THREADS" ]] && threads_flag=(--threads "$THREADS")
timeout_flag=()
[[ -n "$SERVE_TIMEOUT" ]] && timeout_flag=(--timeout "$SERVE_TIMEOUT")

echo "serve_bench: making photos ..."
run_logged "$run/photos.json" node "$PEER_DIR/make-serve-photos.mjs" --src "$SAMPLES" --out "$OUT_DIR/photos/serve" --variants "$VARIANTS"
mapfile -t photos < <(node -e 'for (const f of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).files) console.log(f);' "$run/photos.json")
[[ ${#photos[@]} -ge 3 ]] || die "no photos in $run/photos.json"

requests_for() {  # level -> requests in its timed run
  if [[ -n "$REQUESTS_PER_LEVEL" ]]; then echo "$REQUESTS_PER_LEVEL"
  else local r=$((3 * $1)); echo $((r > 12 ? r : 12)); fi
}

{
  echo "{"
  run_context_json
  echo "  ,"
  echo "  \"levels\": [$(IFS=,; echo "${levels[*]}")],"
  echo "  \"requests_per_level\": [$(for n in "${levels[@]}"; do printf '%s%s' "${sep:-}" "$(requests_for "$n")"; sep=,; done)],"
  echo "  \"soak_seconds\": $SOAK_SECONDS,"
  echo "  \"workers\": $WORKERS,"
  echo "  \"queue\": $QUEUE,"
  echo "  \"threads\": ${THREADS:-null},"
  echo "  \"serve_timeout_s\": ${SERVE_TIMEOUT:-null},"
  echo "  \"variants\": $VARIANTS,"
  echo "  \"photos\": ${#photos[@]},"
  echo "  \"request_timeout_s\": $REQUEST_TIMEOUT,"
  echo "  \"peer\": $PEER"
  echo "}"
} >"$run/meta.json"

# --- servers ------------------------------------------------------------------------------
a_pid="" p_pid=""
stop_server() {  # pid: TERM, up to 10 s, then KILL
  local pid="$1" i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
child=""
cleanup() {
  [[ -n "$child" ]] && kill -TERM "$child" 2>/dev/null
  stop_server "$a_pid"
  stop_server "$p_pid"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Like run_logged (common.sh), but the command runs in the background and is waited for, so
# that a signal to this script stops it at once (bash runs traps only between foreground
# commands) and cleanup() can end the command too.
run_waited() {
  local out="$1" rc=0; shift
  "$@" >"$out" 2>"$out.err" &
  child=$!
  wait "$child" || rc=$?
  child=""
  if [[ $rc -ne 0 ]]; then
    echo "${0##*/}: this command failed (exit status $rc):" >&2
    printf '  %q' "$@" >&2; echo >&2
    tail -n 20 "$out.err" | sed 's/^/  | /' >&2
    tail -n 5 "$out" | sed 's/^/  > /' >&2
    exit 1
  fi
}

wait_listening() {  # name pid stdout-file -> prints the base URL
  local name="$1" pid="$2" out="$3" i line
  for ((i = 0; i < 240; i++)); do
    line="$(head -n1 "$out" 2>/dev/null || true)"
    if [[ "$line" =~ ^listening\ on\ (http://[^[:space:]]+) ]]; then echo "${BASH_REMATCH[1]%/}"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "${0##*/}: $name exited before listening; its stderr:" >&2
      tail -n 20 "$out.err" | sed 's/^/  | /' >&2
      exit 1
    fi
    sleep 0.5
  done
  die "$name printed no 'listening on' line within 120 s (see $out, $out.err)"
}

wait_ready() {  # base-url pid: GET /readyz until 200 (5 minutes at most)
  local i code
  for ((i = 0; i < 600; i++)); do
    code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$1/readyz" || true)"
    [[ "$code" == 200 ]] && return 0
    kill -0 "$2" 2>/dev/null || { tail -n 20 "$run/atelier-serve.out.err" | sed 's/^/  | /' >&2; die "atelier serve exited while warming up"; }
    sleep 0.5
  done
  die "atelier serve did not answer 200 on /readyz within 300 s (see $run/atelier-serve.out.err)"
}

# --- the CLI's per-photo time ------------------------------------------------------------
# Warm-up on photos[3] (rocket v1: other pixels than any timed photo, so no cache hit),
# then the three v0 photos; call 0 is discarded.
echo "serve_bench: atelier cutout (CLI), per-photo time ..."
mkdir -p "$run/cli-out/"  # atelier writes into an existing folder only
cli_warm="${photos[3]:-${photos[0]}}"
run_waited "$run/cli.jsonl" "$ATELIER" cutout "$cli_warm" "${photos[@]:0:3}" -o "$run/cli-out/" --json --quiet "${threads_flag[@]}"

echo "serve_bench: starting atelier serve (workers $WORKERS, queue $QUEUE, threads ${THREADS:-all cores}, timeout ${SERVE_TIMEOUT:-default}) ..."
mkdir -p "$run/data"
"$ATELIER" serve --port 0 --host 127.0.0.1 --data-dir "$run/data" --workers "$WORKERS" --queue "$QUEUE" \
  "${threads_flag[@]}" "${timeout_flag[@]}" >"$run/atelier-serve.out" 2>"$run/atelier-serve.out.err" &
a_pid=$!
a_url="$(wait_listening "atelier serve" "$a_pid" "$run/atelier-serve.out")"
t0=$SECONDS
wait_ready "$a_url" "$a_pid"
echo "serve_bench: atelier serve ready at $a_url (pid $a_pid, ~$((SECONDS - t0)) s from listening to /readyz 200)"

if [[ "$PEER" == 1 ]]; then
  echo "serve_bench: starting the peer (node:http + removeBackground) ..."
  node "$PEER_DIR/serve-peer.mjs" --port 0 --host 127.0.0.1 >"$run/peer-serve.out" 2>"$run/peer-serve.out.err" &
  p_pid=$!
  p_url="$(wait_listening "serve-peer.mjs" "$p_pid" "$run/peer-serve.out")"
  echo "serve_bench: peer listening at $p_url (pid $p_pid; the model loads on its first request)"
fi

a_off=0 p_off=0
# load name url pid offset-var out-file load.mjs-args... : one load.mjs run; advances the offset.
load() {
  local name="$1" url="$2" pid="$3" offvar="$4" out="$5"; shift 5
  kill -0 "$pid" 2>/dev/null || die "$name (pid $pid) is no longer running (see $run/*-serve.out.err)"
  run_waited "$out" node "$PEER_DIR/load.mjs" --url "$url/v1/cutout" --pid "$pid" --offset "${!offvar}" \
    --timeout "$REQUEST_TIMEOUT" --label "$name" "$@" --file "${photos[@]}"
  local n
  n="$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).requests' "$out")"
  printf -v "$offvar" '%d' $((${!offvar} + n))
}
summary() {  # out-file -> a short line
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const f = (x, d = 2) => (x == null ? "-" : x.toFixed(d));
    console.log(`${r.ok}/${r.requests} ok, ${f(r.throughput)}/s, p50 ${f(r.latency_s.p50)} s, max ${f(r.latency_s.max)} s, ` +
      `errors ${r.errors_total}, 429 ${r.rejected_429}, peak RSS ${f(r.rss?.peak_mb, 0)} MB` +
      (r.first_error ? `; first error: ${r.first_error.error} ${String(r.first_error.detail ?? "").slice(0, 120)}` : ""));' "$1"
}
metrics() { curl -s -m 10 "$a_url/metrics" >"$1" || : >"$1"; }

echo "serve_bench: $cores cores, load average $(cut -d' ' -f1-3 /proc/loadavg); levels: ${levels[*]}"
for n in "${levels[@]}"; do
  r="$(requests_for "$n")"
  echo "serve_bench: concurrency $n, $r requests: atelier ..."
  load atelier "$a_url" "$a_pid" a_off "$run/atelier-c$n-warmup.json" --concurrency 1 --requests 1 --max-seconds "$LEVEL_CAP_SECONDS"
  metrics "$run/atelier-c$n.metrics-before"
  load atelier "$a_url" "$a_pid" a_off "$run/atelier-c$n.json" --concurrency "$n" --requests "$r" --max-seconds "$LEVEL_CAP_SECONDS"
  metrics "$run/atelier-c$n.metrics-after"
  echo "serve_bench:   atelier: $(summary "$run/atelier-c$n.json")"
  if [[ "$PEER" == 1 ]]; then
    echo "serve_bench: concurrency $n, $r requests: peer ..."
    load peer "$p_url" "$p_pid" p_off "$run/peer-c$n-warmup.json" --concurrency 1 --requests 1 --max-seconds "$LEVEL_CAP_SECONDS"
    load peer "$p_url" "$p_pid" p_off "$run/peer-c$n.json" --concurrency "$n" --requests "$r" --max-seconds "$LEVEL_CAP_SECONDS"
    echo "serve_bench:   peer:    $(summary "$run/peer-c$n.json")"
  fi
done

if [[ "$PEER" == 1 ]]; then
  stop_server "$p_pid"  # frees its memory before the soak
  p_pid=""
fi

if [[ "$SOAK_SECONDS" -gt 0 ]]; then
  echo "serve_bench: soak: atelier at concurrency 4 for $SOAK_SECONDS s ..."
  metrics "$run/soak.metrics-before"
  load atelier "$a_url" "$a_pid" a_off "$run/soak.json" --concurrency 4 --seconds "$SOAK_SECONDS"
  metrics "$run/soak.metrics-after"
  echo "serve_bench:   soak: $(summary "$run/soak.json")"
fi

stop_server "$a_pid"
a_pid=""
echo "{\"load_after\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >"$run/meta-after.json"
node "$PEER_DIR/serve-report.mjs" "$run" "$OUT_DIR/serve_bench.json"
