// Turns the raw files of one bench/serve_bench.sh run into its table and JSON summary.
//
//   node serve-report.mjs RUN_DIR OUT_JSON
//
// RUN_DIR holds meta.json, meta-after.json, cli.jsonl (`atelier cutout --json`: call 0 is the
// warm-up), per level N atelier-cN.json and peer-cN.json (load.mjs lines; *-warmup.json the
// discarded warm-up requests), atelier-cN.metrics-before/-after (atelier's /metrics around
// the timed run), and with a soak soak.json and soak.metrics-before/-after.
import fs from "node:fs";
import path from "node:path";

const [runDir, outJson] = process.argv.slice(2);
if (!runDir || !outJson) {
  console.error("usage: node serve-report.mjs RUN_DIR OUT_JSON");
  process.exit(2);
}
const file = (f) => path.join(runDir, f);
const exists = (f) => fs.existsSync(file(f));
function fail(msg) {
  console.error(`serve-report.mjs: ${msg}`);
  process.exit(1);
}
const readJson = (f) => {
  try { return JSON.parse(fs.readFileSync(file(f), "utf8")); } catch (e) { fail(`${f}: ${e.message}`); }
};
const readLines = (f) => fs.readFileSync(file(f), "utf8").split("\n").filter((l) => l.trim().startsWith("{")).map((l) => JSON.parse(l));
const median = (xs) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r4 = (x) => (x == null || !Number.isFinite(x) ? null : +x.toFixed(4));
const ratio = (a, b) => (a != null && b ? a / b : null);

const meta = { ...readJson("meta.json"), ...(exists("meta-after.json") ? readJson("meta-after.json") : {}) };

// Inference calls and seconds from atelier's Prometheus text (all models summed).
function inference(f) {
  if (!exists(f)) return null;
  let sum = 0, count = 0, seen = false;
  for (const line of fs.readFileSync(file(f), "utf8").split("\n")) {
    const m = /^atelier_inference_duration_seconds_(sum|count)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    seen = true;
    if (m[1] === "sum") sum += Number(m[2]); else count += Number(m[2]);
  }
  return seen ? { sum, count } : { sum: 0, count: 0 };
}
function inferenceDelta(prefix) {
  const a = inference(`${prefix}.metrics-before`), b = inference(`${prefix}.metrics-after`);
  if (!a || !b) return null;
  const calls = b.count - a.count;
  return { calls, mean_seconds: r4(calls > 0 ? (b.sum - a.sum) / calls : null) };
}

// CLI per-photo time.
const cliLines = readLines("cli.jsonl");
const cliFailed = cliLines.filter((l) => !l.ok);
if (cliFailed.length) fail(`cli.jsonl: ${cliFailed.length} call(s) failed, e.g. ${cliFailed[0].input}: ${cliFailed[0].error}`);
const cliWarm = cliLines.slice(1);
const cli = {
  what: "atelier cutout --json on the 3 plain photos in one process after a warm-up call on another variant (discarded): " +
    "per-photo seconds (read, cutout, write the RGBA PNG)",
  warmup_seconds: r4(cliLines[0]?.seconds),
  seconds: cliWarm.map((l) => r4(l.seconds)),
  median_seconds: r4(median(cliWarm.map((l) => l.seconds))),
  median_inference_seconds: r4(median(cliWarm.map((l) => l.timings?.inference).filter((x) => x != null))),
};

const TARGETS = {
  throughput_ratio_min: 2,
  p50_at_1_over_cli_max: 1.1,
  errors_other_than_429: 0,
  peak_rss_mb_at_16_max: 1536,
  soak_growth_percent_max: 5,
};

const levels = [];
for (const n of meta.levels) {
  const entry = { concurrency: n };
  for (const tool of ["atelier", "peer"]) {
    if (!exists(`${tool}-c${n}.json`)) continue;
    const r = readJson(`${tool}-c${n}.json`);
    const warm = exists(`${tool}-c${n}-warmup.json`) ? readJson(`${tool}-c${n}-warmup.json`) : null;
    entry[tool] = { ...r, warmup: warm ? { ok: warm.ok, seconds: warm.latency_s.max, errors: warm.errors } : null };
    if (tool === "atelier") entry[tool].inference = inferenceDelta(`atelier-c${n}`);
  }
  entry.throughput_ratio = r4(ratio(entry.atelier?.throughput, entry.peer?.throughput));
  levels.push(entry);
}

// Queue bound: a request waits behind at most `queue` others and the `workers` running, so
// no latency should exceed (queue + workers) x service time.
const l1 = levels.find((l) => l.concurrency === 1);
const service = l1?.atelier?.latency_s.p50 ?? null;
const serviceFrom = service != null ? "atelier p50 at concurrency 1" : "CLI per-photo median (no level 1)";
const serviceSeconds = service ?? cli.median_seconds;
const bound = serviceSeconds != null ? (meta.queue + meta.workers) * serviceSeconds : null;
const maxes = levels.filter((l) => l.atelier).map((l) => ({ concurrency: l.concurrency, max: l.atelier.latency_s.max }));
let soak = null;
if (exists("soak.json")) {
  const s = readJson("soak.json");
  const series = s.rss?.series ?? [];
  const end = series.length ? series.at(-1)[0] : 0;
  const win = Math.min(60, Math.max(1, s.wall_seconds / 3));
  const first = median(series.filter(([t]) => t <= win).map(([, mb]) => mb));
  const last = median(series.filter(([t]) => t >= end - win).map(([, mb]) => mb));
  soak = {
    what: "atelier at concurrency 4 for soak_seconds, same server after the levels; RSS sampled every 0.5 s; " +
      "median of the first window (after warm-up) against the median of the last window",
    seconds: meta.soak_seconds,
    window_seconds: r4(win),
    ...s,
    inference: inferenceDelta("soak"),
    rss_first_window_median_mb: r4(first),
    rss_last_window_median_mb: r4(last),
    rss_growth_percent: r4(first ? ((last - first) / first) * 100 : null),
  };
  maxes.push({ concurrency: "soak (4)", max: s.latency_s.max });
}
const worst = maxes.reduce((w, m) => (m.max != null && (w == null || m.max > w.max) ? m : w), null);
const queueBound = {
  what: "max latency of any ok atelier request against (queue + workers) x service time",
  queue: meta.queue, workers: meta.workers,
  service_seconds: r4(serviceSeconds), service_from: serviceFrom,
  bound_seconds: r4(bound),
  max_latency_seconds: worst?.max ?? null, at: worst?.concurrency ?? null,
  ok: bound != null && worst?.max != null ? worst.max <= bound : null,
};

const p50at1 = l1?.atelier?.latency_s.p50 ?? null;
const l16 = levels.find((l) => l.concurrency === 16);
const atelierErrors = levels.reduce((s, l) => s + (l.atelier?.errors_total ?? 0), 0) + (soak?.errors_total ?? 0);
const peerErrors = levels.reduce((s, l) => s + (l.peer?.errors_total ?? 0), 0);
const ratios = levels.map((l) => l.throughput_ratio).filter((x) => x != null);
const checks = {
  throughput_ratio_min: r4(ratios.length ? Math.min(...ratios) : null),
  throughput_ratio_ok: ratios.length ? ratios.every((x) => x >= TARGETS.throughput_ratio_min) : null,
  p50_at_1_over_cli: r4(ratio(p50at1, cli.median_seconds)),
  p50_at_1_over_cli_ok: p50at1 != null && cli.median_seconds ? p50at1 / cli.median_seconds <= TARGETS.p50_at_1_over_cli_max : null,
  atelier_errors_other_than_429: atelierErrors,
  atelier_errors_ok: atelierErrors === 0,
  atelier_429: levels.reduce((s, l) => s + (l.atelier?.rejected_429 ?? 0), 0) + (soak?.rejected_429 ?? 0),
  peer_errors_other_than_429: peerErrors,
  atelier_peak_rss_mb_at_16: l16?.atelier?.rss?.peak_mb ?? null,
  atelier_peak_rss_at_16_ok: l16?.atelier?.rss?.peak_mb != null ? l16.atelier.rss.peak_mb <= TARGETS.peak_rss_mb_at_16_max : null,
  soak_growth_percent: soak?.rss_growth_percent ?? null,
  soak_growth_ok: soak?.rss_growth_percent != null ? soak.rss_growth_percent <= TARGETS.soak_growth_percent_max : null,
  queue_bound_ok: queueBound.ok,
};
// Inference per answered request: fewer calls than ok answers, or a mean far below the CLI's,
// means answers came from atelier's analysis cache.
const cacheSuspect = levels.filter((l) => {
  const i = l.atelier?.inference;
  if (!i) return false;
  return i.calls < l.atelier.ok || (cli.median_inference_seconds && i.mean_seconds != null && i.mean_seconds < 0.3 * cli.median_inference_seconds);
}).map((l) => l.concurrency);
checks.inference_per_request_ok = levels.some((l) => l.atelier?.inference) ? cacheSuspect.length === 0 : null;

const result = {
  ...meta,
  method: "closed-loop POST /v1/cutout (raw JPEG body, PNG answer) with bench/peer/load.mjs; per level and server one " +
    "warm-up request, then requests_per_level; throughput = ok answers per wall second; latency of ok answers; " +
    "peak VmRSS of the server process sampled every 0.5 s; MB = MiB",
  targets: TARGETS,
  cli,
  levels,
  queue_bound: queueBound,
  soak,
  checks,
};
fs.mkdirSync(path.dirname(outJson), { recursive: true });
fs.writeFileSync(outJson, JSON.stringify(result, null, 2) + "\n");

// ---- table -------------------------------------------------------------------------------
const f = (x, d = 2) => (x == null || !Number.isFinite(x) ? "-" : x.toFixed(d));
const pad = (s, n) => String(s).padStart(n);
const mark = (ok) => (ok == null ? "n/a" : ok ? "ok" : "MISSED");
console.log(`atelier serve vs @imgly/background-removal-node 1.4.5 on node:http — POST /v1/cutout, 1 MP JPEGs (${meta.photos} distinct, cycled)`);
console.log(`${meta.cores} cores (${meta.cpu}), ${meta.date}, load ${meta.load_before} -> ${meta.load_after ?? "?"}`);
console.log(`atelier serve: --workers ${meta.workers} --queue ${meta.queue} --threads ${meta.threads ?? "all cores"} --timeout ${meta.serve_timeout_s ?? "60 (default)"}; peer: shipped onnxruntime options, no queue`);
console.log("");
const head = ["conc", "req", "|", "atelier ok/s", "p50 s", "p99 s", "err", "429", "RSS MB", "|", "peer ok/s", "p50 s", "p99 s", "err", "429", "RSS MB", "|", "ratio ok/s (>= 2)"];
const widths = [4, 4, 1, 12, 6, 6, 4, 4, 6, 1, 9, 6, 6, 4, 4, 6, 1, 0];
const row = (cells) => cells.map((c, i) => (widths[i] ? pad(c, widths[i]) : String(c))).join(" ");
console.log(row(head));
for (const l of levels) {
  const a = l.atelier, p = l.peer;
  const r = l.throughput_ratio;
  console.log(row([
    l.concurrency, a?.requests ?? p?.requests ?? "-",
    "|", f(a?.throughput), f(a?.latency_s.p50), f(a?.latency_s.p99), a?.errors_total ?? "-", a?.rejected_429 ?? "-", f(a?.rss?.peak_mb, 0),
    "|", f(p?.throughput), f(p?.latency_s.p50), f(p?.latency_s.p99), p?.errors_total ?? "-", p?.rejected_429 ?? "-", f(p?.rss?.peak_mb, 0),
    "|", r == null ? "-" : `${f(r)}x ${mark(r >= TARGETS.throughput_ratio_min)}`,
  ]));
}
console.log("");
for (const l of levels) {
  const bits = [];
  if (l.atelier?.inference) bits.push(`atelier inference ${l.atelier.inference.calls} calls for ${l.atelier.ok} ok, mean ${f(l.atelier.inference.mean_seconds, 3)} s`);
  if (l.atelier?.server_cpu_seconds != null && l.atelier.ok) bits.push(`atelier CPU ${f(l.atelier.server_cpu_seconds / l.atelier.ok)} s/request`);
  if (l.peer?.server_cpu_seconds != null && l.peer.ok) bits.push(`peer CPU ${f(l.peer.server_cpu_seconds / l.peer.ok)} s/request`);
  for (const t of ["atelier", "peer"]) if (l[t]?.first_error) bits.push(`${t} first error: ${l[t].first_error.error} ${String(l[t].first_error.detail ?? "").replace(/\s+/g, " ").slice(0, 100)}`);
  if (bits.length) console.log(`c${l.concurrency}: ${bits.join("; ")}`);
}
const firstPeer = levels.find((l) => l.peer?.warmup)?.peer.warmup;
if (firstPeer) console.log(`peer's first request (loads the model): ${f(firstPeer.seconds)} s`);
console.log("");
console.log(`CLI per-photo time (atelier cutout --json, median of ${cli.seconds.length} warm photos): ${f(cli.median_seconds, 3)} s (inference ${f(cli.median_inference_seconds, 3)} s)`);
console.log(`p50 at concurrency 1 / CLI: ${f(p50at1, 3)} / ${f(cli.median_seconds, 3)} = ${f(checks.p50_at_1_over_cli)} (target <= ${TARGETS.p50_at_1_over_cli_max}) ${mark(checks.p50_at_1_over_cli_ok)}`);
console.log(`errors other than 429: atelier ${atelierErrors} (target 0) ${mark(checks.atelier_errors_ok)}; 429s: atelier ${checks.atelier_429}; peer errors ${peerErrors}`);
console.log(`atelier peak RSS at concurrency 16: ${f(checks.atelier_peak_rss_mb_at_16, 0)} MB (target <= ${TARGETS.peak_rss_mb_at_16_max} MB = 1.5 GiB) ${mark(checks.atelier_peak_rss_at_16_ok)}`);
console.log(`throughput atelier / peer: min ${f(checks.throughput_ratio_min)}x over the levels (target >= ${TARGETS.throughput_ratio_min}x at every level) ${mark(checks.throughput_ratio_ok)}`);
console.log(`queue bound: max latency ${f(queueBound.max_latency_seconds)} s (at ${queueBound.at ?? "-"}) vs (queue ${meta.queue} + workers ${meta.workers}) x service ${f(queueBound.service_seconds, 3)} s (${serviceFrom}) = ${f(queueBound.bound_seconds)} s ${mark(queueBound.ok)}`);
if (soak) {
  console.log(`soak: ${soak.seconds} s at concurrency 4: ${soak.ok}/${soak.requests} ok, ${f(soak.throughput)}/s, p50 ${f(soak.latency_s.p50)} s, errors ${soak.errors_total}, 429 ${soak.rejected_429}; ` +
    `RSS median first ${f(soak.window_seconds, 0)} s ${f(soak.rss_first_window_median_mb, 0)} MB -> last ${f(soak.window_seconds, 0)} s ${f(soak.rss_last_window_median_mb, 0)} MB: ` +
    `${f(soak.rss_growth_percent, 1)}% (target <= ${TARGETS.soak_growth_percent_max}%) ${mark(checks.soak_growth_ok)}`);
  if (soak.seconds < 180) console.log("  (a soak this short says little: windows of a third of it; the target is meant for SOAK_SECONDS >= 600)");
} else {
  console.log("soak: skipped (SOAK_SECONDS=0)");
}
if (cacheSuspect.length) {
  console.log(`WARNING: at concurrency ${cacheSuspect.join(", ")} atelier ran fewer inferences than it answered, or far shorter ones than the CLI: answers from its analysis cache? Raise VARIANTS.`);
}
console.log(`\nJSON: ${outJson}`);
