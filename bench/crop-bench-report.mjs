// Turns the raw files of one bench/crop_bench.sh run into its table and JSON summary.
//
//   node crop-bench-report.mjs RUN_DIR OUT_JSON
//
// RUN_DIR holds meta.json, meta-after.json, crop-<round>.jsonl and cutout-<round>.jsonl (one
// JSON line per call; call 0 is the warm-up on a photo outside the timed set) and, when
// build/bench/crop_bench ran, search.txt (its stdout), search.txt.err, search.status and
// search.command.
import fs from "node:fs";
import path from "node:path";

const [runDir, outJson] = process.argv.slice(2);
if (!runDir || !outJson) {
  console.error("usage: node crop-bench-report.mjs RUN_DIR OUT_JSON");
  process.exit(2);
}
const file = (f) => path.join(runDir, f);
const exists = (f) => fs.existsSync(file(f));
const readJson = (f) => JSON.parse(fs.readFileSync(file(f), "utf8"));
const readText = (f) => (exists(f) ? fs.readFileSync(file(f), "utf8") : null);
const readLines = (f) =>
  fs.readFileSync(file(f), "utf8").split("\n").filter((l) => l.trim().startsWith("{")).map((l) => {
    try { return JSON.parse(l); } catch (e) { fail(`${f}: not JSON (${e.message}): ${l.slice(0, 200)}`); }
  });
function fail(msg) {
  console.error(`crop-bench-report.mjs: ${msg}`);
  process.exit(1);
}
const median = (xs) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r4 = (x) => (x == null ? null : +x.toFixed(4));
const ratio = (a, b) => (a != null && b ? a / b : null);

const meta = { ...readJson("meta.json"), ...(exists("meta-after.json") ? readJson("meta-after.json") : {}) };
const rounds = fs.readdirSync(runDir).filter((f) => /^crop-\d+\.jsonl$/.test(f)).length;

// A call's seconds: its "seconds" when the line has one, else the sum of its "timings".
let fromTimings = false;
function secondsOf(l) {
  if (typeof l.seconds === "number") return l.seconds;
  if (l.timings && typeof l.timings === "object") {
    fromTimings = true;
    return Object.values(l.timings).filter((v) => typeof v === "number").reduce((a, b) => a + b, 0);
  }
  throw new Error(`a line of ${l.input} has neither "seconds" nor "timings"`);
}

function tool(prefix) {
  fromTimings = false;
  const perPhoto = new Map(), warmups = [], all = [], timings = {};
  for (let r = 1; r <= rounds; r++) {
    const lines = readLines(`${prefix}-${r}.jsonl`);
    const failed = lines.filter((l) => l.ok === false || l.error);
    if (failed.length) throw new Error(`${prefix}-${r}.jsonl: ${failed.length} call(s) failed, e.g. ${failed[0].input}: ${failed[0].error}`);
    if (lines.length !== meta.photos.length + 1) throw new Error(`${prefix}-${r}.jsonl: ${lines.length} lines, want ${meta.photos.length + 1}`);
    warmups.push(secondsOf(lines[0]));
    for (const l of lines.slice(1)) {
      const s = secondsOf(l);
      all.push(s);
      const k = path.basename(l.input ?? "?");
      if (!perPhoto.has(k)) perPhoto.set(k, []);
      perPhoto.get(k).push(s);
      for (const [name, v] of Object.entries(l.timings ?? {})) if (typeof v === "number") (timings[name] ??= []).push(v);
    }
  }
  return {
    seconds_from: fromTimings ? "sum of timings (the lines have no seconds field)" : "seconds",
    warmup_seconds: warmups.map(r4),
    per_photo: Object.fromEntries([...perPhoto].map(([k, v]) => [k, { seconds: v.map(r4), median_seconds: r4(median(v)) }])),
    median_seconds: r4(median(all)),
    median_timings: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, r4(median(v))])),
  };
}

let crop, cutout;
try {
  crop = tool("crop");
  cutout = tool("cutout");
} catch (e) {
  fail(e.message);
}
const perPhotoRatio = {};
for (const k of Object.keys(crop.per_photo)) perPhotoRatio[k] = r4(ratio(crop.per_photo[k].median_seconds, cutout.per_photo[k]?.median_seconds));
const overall = r4(ratio(crop.median_seconds, cutout.median_seconds));

let search = null;
if (exists("search.status")) {
  const text = readText("search.txt") ?? "";
  let parsed = null;
  try { parsed = JSON.parse(text); } catch { /* plain text */ }
  search = {
    command: (readText("search.command") ?? "").trim(),
    status: readText("search.status").trim(),
    ...(parsed ? { result: parsed } : { output: text }),
    ...(readText("search.txt.err")?.trim() ? { stderr_tail: readText("search.txt.err").trim().split("\n").slice(-20).join("\n") } : {}),
  };
}

const result = {
  ...meta,
  method: "1 MP photos (1152x864); each tool handles the photos in one process after a discarded warm-up call on " +
    "another photo; per photo the median over rounds, per tool the median over all warm calls. " +
    "crop: atelier crop --aspect 1:1 --aspect 9:16 --aspect 16:9 (read + analysis + search + write 3 crops); " +
    "cutout: atelier cutout at default settings (read + cutout + write RGBA PNG).",
  crop,
  cutout,
  ratio_crop_over_cutout: overall,
  ratio_per_photo: perPhotoRatio,
  target: "crop at most 10% slower than cutout (ratio <= 1.1): beyond the shared model run, crop adds almost nothing",
  within_target: overall != null && overall <= 1.1,
  window_search: search,
};
const tmp = outJson + ".tmp";
fs.writeFileSync(tmp, JSON.stringify(result, null, 2) + "\n");
fs.renameSync(tmp, outJson);

const f = (x, d = 3) => (x == null ? "n/a" : x.toFixed(d));
console.log();
console.log(`crop_bench: 1 MP, ${rounds} round(s), warm (seconds per photo; median over rounds)`);
console.log(`| photo | atelier crop | atelier cutout | crop / cutout |`);
console.log(`|---|---|---|---|`);
for (const k of Object.keys(crop.per_photo)) {
  console.log(`| ${k} | ${f(crop.per_photo[k].median_seconds)} | ${f(cutout.per_photo[k]?.median_seconds)} | ${f(perPhotoRatio[k], 2)} |`);
}
console.log(`| **median, all warm calls** | ${f(crop.median_seconds)} | ${f(cutout.median_seconds)} | ${f(overall, 2)} |`);
const stages = (t) => Object.entries(t.median_timings).map(([k, v]) => `${k} ${f(v)}`).join(", ") || "n/a";
console.log(`crop stages (median): ${stages(crop)}; cutout stages (median): ${stages(cutout)}`);
console.log(`warm-up calls (s): crop ${crop.warmup_seconds.map((x) => f(x, 2)).join(" ")}, cutout ${cutout.warmup_seconds.map((x) => f(x, 2)).join(" ")}`);
if (crop.seconds_from !== "seconds" || cutout.seconds_from !== "seconds")
  console.log(`note: crop seconds from ${crop.seconds_from}; cutout seconds from ${cutout.seconds_from}`);
console.log(`crop / cutout = ${f(overall, 2)}: ${result.within_target ? "within" : "NOT within"} the target (crop <= 1.1 x cutout)`);
console.log(`load average before ${meta.load_before}, after ${meta.load_after ?? "n/a"}`);
console.log();
if (search) {
  console.log(`window search (${search.command}): ${search.status}`);
  const out = search.result ? JSON.stringify(search.result, null, 2) : search.output;
  if (out.trim()) console.log(out.trimEnd());
  else if (search.stderr_tail) console.log(search.stderr_tail);
} else {
  console.log("window search: build/bench/crop_bench not built (yet); skipped");
}
console.log();
console.log(`crop_bench: details in ${outJson}`);
