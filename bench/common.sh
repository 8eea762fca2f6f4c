# Shared by bench/parity.sh and bench/cutout_bench.sh (sourced, not run).
#
# Sets: BENCH_DIR, REPO_DIR, PEER_DIR, OUT_DIR, SAMPLES, ATELIER
# Environment: ATELIER (the binary; default build/bin/atelier), ATELIER_HOME (model store,
# read by atelier itself), BENCH_OUT (default bench/out).

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
PEER_DIR="$BENCH_DIR/peer"
OUT_DIR="${BENCH_OUT:-$BENCH_DIR/out}"
SAMPLES="${SAMPLES:-/usr/lib/python3/dist-packages/skimage/data}"
ATELIER="${ATELIER:-$REPO_DIR/build/bin/atelier}"

die() { echo "${0##*/}: $*" >&2; exit 1; }
note() { echo "${0##*/}: $*" >&2; }

# Fails with a clear message unless node/sharp and the peer are usable (installs the peer
# with bench/setup-peer.sh when it is missing).
require_peer() {
  command -v node >/dev/null || die "node is not installed (Debian: apt-get install nodejs npm)"
  "$BENCH_DIR/setup-peer.sh" >&2 || die "the peer tool could not be set up (see above; run bench/setup-peer.sh --force to retry)"
}

# Fails with a clear message unless $ATELIER runs and the isnet model is installed.
require_atelier() {
  [[ -x "$ATELIER" ]] || die "$ATELIER not found: build it first (make build), or set ATELIER=/path/to/atelier"
  "$ATELIER" cutout --help >/dev/null 2>&1 || die "$ATELIER has no working 'cutout' command (stale build? run make build)"
  local list
  list="$("$ATELIER" models list --json 2>&1)" || die "'atelier models list --json' failed: $list"
  if ! node -e '
      const l = JSON.parse(process.argv[1]);
      process.exit(Array.isArray(l) && l.some((m) => m && m.name === "isnet") ? 0 : 1);' "$list" 2>/dev/null; then
    die "the isnet model is not installed: run '$ATELIER models fetch isnet' (or make model)"
  fi
}

# Runs a command with its stdout into $1 and stderr into $1.err; on failure prints the
# command and the end of its stderr, then exits.
run_logged() {
  local out="$1"; shift
  if ! "$@" >"$out" 2>"$out.err"; then
    echo "${0##*/}: this command failed:" >&2
    printf '  %q' "$@" >&2; echo >&2
    tail -n 20 "$out.err" | sed 's/^/  | /' >&2
    tail -n 5 "$out" | sed 's/^/  > /' >&2
    exit 1
  fi
}

# Like run_logged, but a failure only prints a note (the caller reports what is missing).
run_tolerant() {
  local out="$1"; shift
  if ! "$@" >"$out" 2>"$out.err"; then
    echo "${0##*/}: note: this command exited non-zero (some photos failed?); continuing:" >&2
    printf '  %q' "$@" >&2; echo >&2
    tail -n 10 "$out.err" | sed 's/^/  | /' >&2
  fi
}

# Fails with a clear message unless $ATELIER runs and has the given (sub)command, e.g.
# `require_atelier_command crop` or `require_atelier_command eval crop`: the parent's --help
# must list it under "Subcommands:" (CLI11 answers `atelier unknown --help` with the main
# help and exit status 0, so that alone proves nothing). Checks no model.
require_atelier_command() {
  [[ -x "$ATELIER" ]] || die "$ATELIER not found: build it first (make build), or set ATELIER=/path/to/atelier"
  local parent=("${@:1:$#-1}") last="${!#}" help
  help="$("$ATELIER" "${parent[@]}" --help 2>&1)" || die "'$ATELIER ${parent[*]} --help' failed (stale build? run make build)"
  sed -n '/^Subcommands:/,$p' <<<"$help" | grep -qE "^[[:space:]]+$last([[:space:]]|$)" ||
    die "$ATELIER has no '$*' command (stale build? run make build)"
}

# The run's context as the first members of a JSON object (date, cores, cpu, load average,
# node, the atelier binary), each line ending in a comma but the last: `cores` must be set.
run_context_json() {
  echo "  \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
  echo "  \"cores\": $cores,"
  echo "  \"cpu\": \"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1 | sed 's/["\\]//g')\","
  echo "  \"load_before\": \"$(cut -d' ' -f1-3 /proc/loadavg)\","
  echo "  \"node\": \"$(node --version)\","
  echo "  \"atelier\": \"$ATELIER\""
}
