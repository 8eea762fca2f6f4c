// Closed-loop HTTP load generator for bench/serve_bench.sh: N clients, each sending its next
// request as soon as the previous answer has arrived (so at most N requests are in flight),
// POSTing files as raw request bodies. Only Node's own modules; no dependencies.
//
//   node load.mjs --url URL --concurrency N (--requests R | --seconds S) --file F [--file F ...]
//                 [--offset K] [--timeout SECONDS] [--max-seconds SECONDS] [--pid PID]
//                 [--rss-interval SECONDS] [--label TEXT]
//
// --file F...      bodies, sent in turn: request i (0-based, in the order requests are
//                  started, over all clients) sends file (K + i) mod n. Files are read into
//                  memory before the clock starts; Content-Type from the extension (.jpg,
//                  .jpeg: image/jpeg; .png: image/png; .webp: image/webp; else
//                  application/octet-stream). Several names may follow one --file.
// --offset K       where in the cycle to start (the caller continues it across runs so a
//                  server with a per-content cache never sees a recently sent image again).
// --requests R     stop starting requests after R (every attempt counts, 429s included).
// --seconds S      stop starting requests after S seconds (the soak); answers still in
//                  flight are awaited and counted.
// --timeout        per-request limit, seconds (default 120): past it the request is aborted
//                  and counted as error "timeout".
// --max-seconds    total cap (default: S + timeout + 10 with --seconds, else 1800): no new
//                  request starts after it, and at cap + timeout whatever is still in flight
//                  is aborted ("capped": true in the output).
// --pid PID        samples VmRSS of /proc/PID/status every --rss-interval seconds (default
//                  0.5) from the first request to the last answer: peak, and the series;
//                  and the process's CPU time over the run (/proc/PID/stat utime + stime,
//                  at 100 ticks a second, Linux's USER_HZ).
//
// A 200 answer counts as ok only when its body is a PNG (the 8-byte signature); otherwise it
// is error "bad_body". 429: counted apart (rejected_429); the client then waits the answer's
// Retry-After (at most 5 s; 1 s when absent) before its next request, as a well-behaved
// client would. Other statuses and network errors are errors, by status or error code.
//
// Output: one JSON line on stdout: label, url, concurrency, requests (started), ok, errors
// ({status or code: count}, 429 not included), errors_total, rejected_429, throughput (ok per
// second of wall time), latency_s {p50, p90, p99, max, mean} of the ok requests (request start
// to last response byte, seconds; nearest-rank percentiles), wall_seconds (first request
// start to last answer), response_bytes_mean, first_error (status and the start of the body,
// for diagnosis), capped, and with --pid rss {peak_mb, first_mb, last_mb, samples, series:
// [[seconds since start, MB], ...]} (MB = MiB: kB / 1024) and server_cpu_seconds. Exit
// status 0 whenever the run itself worked (errors in answers are data, not a failure); 2 for
// bad arguments.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { performance } from "node:perf_hooks";

function usage(msg) {
  if (msg) console.error(`load.mjs: ${msg}`);
  console.error("usage: node load.mjs --url URL --concurrency N (--requests R | --seconds S) --file F... " +
    "[--offset K] [--timeout S] [--max-seconds S] [--pid PID] [--rss-interval S] [--label TEXT]");
  process.exit(2);
}

const a = { url: null, concurrency: null, requests: null, seconds: null, files: [], offset: 0, timeout: 120,
  maxSeconds: null, pid: null, rssInterval: 0.5, label: null };
const num = (v, name) => {
  const x = Number(v);
  if (!Number.isFinite(x)) usage(`${name} needs a number, got '${v}'`);
  return x;
};
for (let i = 2; i < process.argv.length; i++) {
  const o = process.argv[i];
  const next = () => (i + 1 < process.argv.length ? process.argv[++i] : usage(`${o} needs a value`));
  if (o === "--url") a.url = next();
  else if (o === "--concurrency") a.concurrency = num(next(), o);
  else if (o === "--requests") a.requests = num(next(), o);
  else if (o === "--seconds") a.seconds = num(next(), o);
  else if (o === "--offset") a.offset = num(next(), o);
  else if (o === "--timeout") a.timeout = num(next(), o);
  else if (o === "--max-seconds") a.maxSeconds = num(next(), o);
  else if (o === "--pid") a.pid = num(next(), o);
  else if (o === "--rss-interval") a.rssInterval = num(next(), o);
  else if (o === "--label") a.label = next();
  else if (o === "--file") {
    a.files.push(next());
    while (i + 1 < process.argv.length && !process.argv[i + 1].startsWith("--")) a.files.push(process.argv[++i]);
  } else if (o === "-h" || o === "--help") usage();
  else usage(`unknown argument ${o}`);
}
if (!a.url) usage("--url is required");
let url;
try { url = new URL(a.url); } catch { usage(`--url: not a URL: ${a.url}`); }
if (url.protocol !== "http:") usage("--url: only http:// is supported");
if (!(Number.isInteger(a.concurrency) && a.concurrency >= 1 && a.concurrency <= 1024)) usage("--concurrency must be 1..1024");
if ((a.requests === null) === (a.seconds === null)) usage("give exactly one of --requests and --seconds");
if (a.requests !== null && !(Number.isInteger(a.requests) && a.requests >= 1)) usage("--requests must be a positive integer");
if (a.seconds !== null && !(a.seconds > 0)) usage("--seconds must be positive");
if (!(Number.isInteger(a.offset) && a.offset >= 0)) usage("--offset must be a non-negative integer");
if (!(a.timeout > 0)) usage("--timeout must be positive");
if (a.files.length === 0) usage("no --file");
if (a.pid !== null && !(Number.isInteger(a.pid) && a.pid > 0)) usage("--pid must be a process id");
if (!(a.rssInterval >= 0.05)) usage("--rss-interval must be at least 0.05");
const cap = a.maxSeconds ?? (a.seconds !== null ? a.seconds + a.timeout + 10 : 1800);
if (!(cap > 0)) usage("--max-seconds must be positive");

const TYPES = { ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp" };
const bodies = a.files.map((f) => {
  try {
    return { file: f, bytes: fs.readFileSync(f), type: TYPES[path.extname(f).toLowerCase()] ?? "application/octet-stream" };
  } catch (e) {
    console.error(`load.mjs: cannot read ${f}: ${e.message}`);
    process.exit(2);
  }
});
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const agent = new http.Agent({ keepAlive: true, maxSockets: a.concurrency });
const inFlight = new Set();

// One request: resolves {status, seconds, bytes, retryAfter, ok, error, detail}; never rejects.
function send(body) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let settled = false;
    const finish = (r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      inFlight.delete(req);
      resolve({ seconds: (performance.now() - t0) / 1000, ...r });
    };
    const req = http.request(url, {
      method: "POST", agent,
      headers: { "Content-Type": body.type, "Content-Length": body.bytes.length },
    }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", (e) => finish({ status: null, error: e.code ?? "response_error", detail: e.message }));
      res.on("end", () => {
        const bytes = Buffer.concat(chunks);
        const status = res.statusCode;
        const r = { status, bytes: bytes.length };
        if (status === 200 && bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG)) r.ok = true;
        else if (status === 200) { r.error = "bad_body"; r.detail = `200 but not a PNG (${bytes.length} bytes, ${res.headers["content-type"]})`; }
        else if (status === 429) r.retryAfter = Number(res.headers["retry-after"]);
        else { r.error = String(status); r.detail = bytes.subarray(0, 300).toString("utf8"); }
        finish(r);
      });
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${a.timeout} s`), { code: "timeout" })),
      a.timeout * 1000);
    req.on("error", (e) => finish({ status: null, error: e.code ?? "request_error", detail: e.message }));
    inFlight.add(req);
    req.end(body.bytes);
  });
}

// RSS sampling of the server process.
const rss = { series: [], peak: 0 };
const start = performance.now();
const since = () => (performance.now() - start) / 1000;
function sampleRss() {
  if (a.pid === null) return;
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${a.pid}/status`, "utf8"));
    if (m) {
      const mb = Number(m[1]) / 1024;
      rss.series.push([+since().toFixed(2), +mb.toFixed(1)]);
      rss.peak = Math.max(rss.peak, mb);
    }
  } catch { /* the process is gone: the answers will show it */ }
}
function cpuTicks() {
  if (a.pid === null) return null;
  try {
    // Fields after the ")" closing the command name: state is field 3, utime 14, stime 15.
    const stat = fs.readFileSync(`/proc/${a.pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch { return null; }
}
const cpu0 = cpuTicks();
sampleRss();
const sampler = a.pid !== null ? setInterval(sampleRss, a.rssInterval * 1000) : null;

let started = 0, capped = false;
const results = [];
const stopStarting = () => {
  if (since() >= cap) { capped = true; return true; }
  if (a.requests !== null) return started >= a.requests;
  return since() >= a.seconds;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function client() {
  while (!stopStarting()) {
    const i = started++;
    const r = await send(bodies[(a.offset + i) % bodies.length]);
    results.push(r);
    if (r.status === 429) {
      const wait = Number.isFinite(r.retryAfter) && r.retryAfter >= 0 ? Math.min(r.retryAfter, 5) : 1;
      await sleep(wait * 1000);
    }
  }
}

// Past cap + timeout, abort whatever is still in flight (the per-request timeout normally does it first).
const hardStop = setTimeout(() => {
  capped = true;
  for (const req of inFlight) req.destroy(Object.assign(new Error("total cap reached"), { code: "capped" }));
}, (cap + a.timeout) * 1000);

await Promise.all(Array.from({ length: a.concurrency }, client));
const wall = since();
sampleRss();
const cpu1 = cpuTicks();
clearTimeout(hardStop);
if (sampler) clearInterval(sampler);
agent.destroy();

const ok = results.filter((r) => r.ok);
const lat = ok.map((r) => r.seconds).sort((x, y) => x - y);
const pct = (q) => (lat.length ? lat[Math.min(lat.length - 1, Math.max(0, Math.ceil(q * lat.length) - 1))] : null);
const r4 = (x) => (x == null ? null : +x.toFixed(4));
const errors = {};
for (const r of results) if (!r.ok && r.status !== 429) errors[r.error] = (errors[r.error] ?? 0) + 1;
const firstError = results.find((r) => !r.ok && r.status !== 429);
const out = {
  label: a.label,
  url: a.url,
  concurrency: a.concurrency,
  files: bodies.length,
  offset: a.offset,
  requests: results.length,
  ok: ok.length,
  errors,
  errors_total: Object.values(errors).reduce((s, n) => s + n, 0),
  rejected_429: results.filter((r) => r.status === 429).length,
  throughput: r4(wall > 0 ? ok.length / wall : null),
  latency_s: {
    p50: r4(pct(0.5)), p90: r4(pct(0.9)), p99: r4(pct(0.99)), max: r4(lat.at(-1) ?? null),
    mean: r4(lat.length ? lat.reduce((s, x) => s + x, 0) / lat.length : null),
  },
  wall_seconds: r4(wall),
  response_bytes_mean: ok.length ? Math.round(ok.reduce((s, r) => s + r.bytes, 0) / ok.length) : null,
  first_error: firstError ? { error: firstError.error, detail: firstError.detail ?? null } : null,
  capped,
  timeout_s: a.timeout,
  cap_s: cap,
};
if (a.pid !== null) {
  out.rss = {
    pid: a.pid,
    peak_mb: rss.series.length ? +rss.peak.toFixed(1) : null,
    first_mb: rss.series[0]?.[1] ?? null,
    last_mb: rss.series.at(-1)?.[1] ?? null,
    samples: rss.series.length,
    interval_s: a.rssInterval,
    series: rss.series,
  };
  out.server_cpu_seconds = cpu0 !== null && cpu1 !== null ? +((cpu1 - cpu0) / 100).toFixed(2) : null;
}
console.log(JSON.stringify(out));
