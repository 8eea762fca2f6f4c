// Turns the raw files of one bench/cutout_bench.sh run into its table and JSON summary.
//
//   node bench-report.mjs RUN_DIR OUT_JSON
//
// RUN_DIR holds photos.json, meta.json, meta-after.json and, per size class,
// <class>/{atelier,peer-shipped,peer-tuned}.jsonl (one line per call; call 0 is the warm-up
// on the class's first photo) and <class>/<tool>.rss ("peak_KB wall_seconds" from GNU time);
// the 1 MP class also reference.jsonl, default-mask.jsonl and iou.json.
import fs from "node:fs";
import path from "node:path";

const [runDir, outJson] = process.argv.slice(2);
if (!runDir || !outJson) {
  console.error("usage: node bench-report.mjs RUN_DIR OUT_JSON");
  process.exit(2);
}
const readJson = (f) => JSON.parse(fs.readFileSync(path.join(runDir, f), "utf8"));
const exists = (f) => fs.existsSync(path.join(runDir, f));
const readLines = (f) =>
  fs.readFileSync(path.join(runDir, f), "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
const median = (xs) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ratio = (a, b) => (a != null && b ? a / b : null);
const r4 = (x) => (x == null ? null : +x.toFixed(4));

// One tool's calls: call 0 is the warm-up; the median is over the others.
function timing(file) {
  const lines = readLines(file);
  const failed = lines.filter((l) => !l.ok);
  if (failed.length) throw new Error(`${file}: ${failed.length} call(s) failed, e.g. ${failed[0].input ?? failed[0].file}: ${failed[0].error}`);
  const warm = lines.slice(1);
  const res = {
    warmup_seconds: r4(lines[0]?.seconds),
    seconds: warm.map((l) => r4(l.seconds)),
    median_seconds: r4(median(warm.map((l) => l.seconds))),
  };
  if (warm.length && warm[0].timings) {
    res.median_timings = {};
    for (const k of Object.keys(warm[0].timings)) res.median_timings[k] = r4(median(warm.map((l) => l.timings[k])));
  }
  if (warm.length && warm[0].write_seconds !== undefined) res.median_write_seconds = r4(median(warm.map((l) => l.write_seconds)));
  return res;
}
function rss(file) {
  const [kb, secs] = fs.readFileSync(path.join(runDir, file), "utf8").trim().split(/\s+/).map(Number);
  return { peak_rss_mb: r4(kb / 1024), one_photo_process_seconds: secs };
}

const photos = readJson("photos.json");
const meta = { ...readJson("meta.json"), ...(exists("meta-after.json") ? readJson("meta-after.json") : {}) };
const tools = [["atelier", "atelier"], ["peer_shipped", "peer-shipped"], ["peer_tuned", "peer-tuned"]];
const result = {
  ...meta,
  method: "per-photo median wall time over 3 warm calls in one process (after a warm-up call on a photo of another class; " +
    "the first call, which includes warm-up, is discarded). atelier: read + cutout + write RGBA PNG at default settings; " +
    "peer: removeBackground() with raw RGBA output (no encoding). Peak RSS: one process handling one photo.",
  classes: [],
};

for (const c of photos.classes) {
  const entry = { name: c.name, width: c.width, height: c.height, megapixels: c.megapixels, photos: c.files.map((f) => path.basename(f)) };
  for (const [key, file] of tools) entry[key] = { ...timing(`${c.name}/${file}.jsonl`), ...rss(`${c.name}/${file}.rss`) };
  entry.ratios = {
    time_atelier_over_peer_shipped: r4(ratio(entry.atelier.median_seconds, entry.peer_shipped.median_seconds)),
    time_atelier_over_peer_tuned: r4(ratio(entry.atelier.median_seconds, entry.peer_tuned.median_seconds)),
    rss_atelier_over_peer_shipped: r4(ratio(entry.atelier.peak_rss_mb, entry.peer_shipped.peak_rss_mb)),
    rss_atelier_over_peer_tuned: r4(ratio(entry.atelier.peak_rss_mb, entry.peer_tuned.peak_rss_mb)),
  };
  if (exists(`${c.name}/reference.jsonl`)) {
    const iou = readJson(`${c.name}/iou.json`);
    const iouFast = exists(`${c.name}/iou-fastconv.json`) ? readJson(`${c.name}/iou-fastconv.json`) : null;
    const iouRefined = exists(`${c.name}/iou-refined.json`) ? readJson(`${c.name}/iou-refined.json`) : null;
    const ref = timing(`${c.name}/reference.jsonl`), def = timing(`${c.name}/default-mask.jsonl`);
    const fast = exists(`${c.name}/fastconv-mask.jsonl`) ? timing(`${c.name}/fastconv-mask.jsonl`) : null;
    const pairs = (j) => j.pairs.map((p) => ({ name: p.name, iou: r4(p.iou), mad: r4(p.mad) }));
    entry.reference = {
      what: "reference: atelier cutout --mask --no-fast-conv --no-refine (OpenCV convolution, bilinear upsampling: the " +
        "model's raw matte); reference_refined: --mask --no-fast-conv (full 1024x1024 inference with OpenCV's " +
        "convolution, default refinement); default: atelier cutout --mask; fastconv: atelier cutout --mask --no-refine " +
        "(Winograd, bilinear upsampling)",
      reference_mask: { ...ref, ...(exists(`${c.name}/reference.rss`) ? rss(`${c.name}/reference.rss`) : {}) },
      default_mask: def,
      fastconv_mask: fast,
      inference_speedup: r4(ratio(ref.median_timings?.inference, def.median_timings?.inference)),
      iou_default_vs_reference: pairs(iou),
      mean_iou: r4(iou.mean_iou),
      min_iou: r4(iou.min_iou),
      // The target is on the speed-up: default against the full inference with the same refinement.
      iou_default_vs_reference_refined: iouRefined ? pairs(iouRefined) : null,
      mean_iou_refined: iouRefined ? r4(iouRefined.mean_iou) : null,
      min_iou_refined: iouRefined ? r4(iouRefined.min_iou) : null,
      target_iou: 0.98,
      meets_target: iouRefined != null && iouRefined.mean_iou >= 0.98 && iouRefined.min_iou >= 0.98 &&
        !iouRefined.missing.length && !iouRefined.errors.length,
      iou_fastconv_vs_reference: iouFast ? pairs(iouFast) : null,
      mean_iou_fastconv: iouFast ? r4(iouFast.mean_iou) : null,
    };
  }
  if (exists(`${c.name}/precision-fp32.jsonl`)) {
    // Rows per precision and the peer's two models: time, inference, one-photo process, RSS
    // and the raw matte against the reference's (OpenCV fp32).
    const row = (jsonl, rssFile, iouFile) => {
      const t = timing(jsonl), iou = readJson(iouFile);
      return {
        median_seconds: t.median_seconds,
        median_inference_seconds: t.median_timings?.inference ?? null,
        ...rss(rssFile),
        mean_iou_vs_reference: r4(iou.mean_iou),
        min_iou_vs_reference: r4(iou.min_iou),
        mean_abs_alpha_vs_reference: r4(iou.mean_mad),
      };
    };
    entry.precisions = {};
    for (const p of ["fp32", "bf16", "int8"]) {
      entry.precisions[p] = row(`${c.name}/precision-${p}.jsonl`, `${c.name}/precision-${p}.rss`, `${c.name}/iou-precision-${p}.json`);
    }
    entry.peer_models = {
      medium: row(`${c.name}/peer-tuned.jsonl`, `${c.name}/peer-tuned.rss`, `${c.name}/iou-peer-tuned.json`),
      small: row(`${c.name}/peer-small.jsonl`, `${c.name}/peer-small.rss`, `${c.name}/iou-peer-small.json`),
    };
  }
  result.classes.push(entry);
}
fs.writeFileSync(outJson, JSON.stringify(result, null, 2) + "\n");

// ---- table ----
const f = (x, d = 2) => (x == null ? "n/a" : x.toFixed(d));
const pad = (s, n) => String(s).padStart(n);
console.log();
console.log(`atelier cutout vs @imgly/background-removal-node 1.4.5 — ${result.cores} cores (${result.cpu}), ${result.date}`);
console.log(`load average before ${result.load_before}, after ${result.load_after ?? "?"} (a shared machine is noisy: compare ratios)`);
console.log();
console.log("Per-photo median wall time, warm (3 calls; first call on the first photo discarded), seconds");
console.log(`${"class".padEnd(8)} ${"size".padStart(10)} ${pad("atelier", 9)} ${pad("peer", 9)} ${pad("peer", 9)}  ${pad("atelier/", 9)} ${pad("atelier/", 9)}`);
console.log(`${"".padEnd(8)} ${"".padStart(10)} ${pad("default", 9)} ${pad("shipped", 9)} ${pad("tuned", 9)}  ${pad("shipped", 9)} ${pad("tuned", 9)}`);
for (const c of result.classes) {
  console.log(`${c.name.padEnd(8)} ${pad(`${c.width}x${c.height}`, 10)} ${pad(f(c.atelier.median_seconds), 9)} ${pad(f(c.peer_shipped.median_seconds), 9)} ${pad(f(c.peer_tuned.median_seconds), 9)}  ${pad(f(c.ratios.time_atelier_over_peer_shipped), 9)} ${pad(f(c.ratios.time_atelier_over_peer_tuned), 9)}`);
}
console.log();
console.log("Peak RSS of one process handling one photo, MB  [wall time of that whole process, s]");
console.log(`${"class".padEnd(8)} ${pad("atelier", 15)} ${pad("peer shipped", 15)} ${pad("peer tuned", 15)}  ${pad("atelier/", 9)} ${pad("atelier/", 9)}`);
console.log(`${"".padEnd(8)} ${pad("", 15)} ${pad("", 15)} ${pad("", 15)}  ${pad("shipped", 9)} ${pad("tuned", 9)}`);
const cell = (t) => `${f(t.peak_rss_mb, 0)} [${f(t.one_photo_process_seconds, 1)}]`;
for (const c of result.classes) {
  console.log(`${c.name.padEnd(8)} ${pad(cell(c.atelier), 15)} ${pad(cell(c.peer_shipped), 15)} ${pad(cell(c.peer_tuned), 15)}  ${pad(f(c.ratios.rss_atelier_over_peer_shipped), 9)} ${pad(f(c.ratios.rss_atelier_over_peer_tuned), 9)}`);
}
console.log();
console.log("atelier default, median per stage, seconds (inference / matte / foreground / composite); warm-up call");
for (const c of result.classes) {
  const t = c.atelier.median_timings ?? {};
  console.log(`${c.name.padEnd(8)} ${f(t.inference)} / ${f(t.matte)} / ${f(t.foreground)} / ${f(t.composite)}   warm-up ${f(c.atelier.warmup_seconds)}  (peer warm-up: shipped ${f(c.peer_shipped.warmup_seconds)}, tuned ${f(c.peer_tuned.warmup_seconds)})`);
}
for (const c of result.classes) {
  if (!c.reference) continue;
  const r = c.reference;
  console.log();
  console.log(`${c.name}: reference --no-fast-conv --no-refine vs default (both --mask)`);
  console.log(`  median per photo: reference ${f(r.reference_mask.median_seconds)} s (inference ${f(r.reference_mask.median_timings?.inference)} s), default ${f(r.default_mask.median_seconds)} s (inference ${f(r.default_mask.median_timings?.inference)} s); inference speed-up ${f(r.inference_speedup)}x`);
  if (r.fastconv_mask) console.log(`  --no-refine (Winograd only): ${f(r.fastconv_mask.median_seconds)} s (inference ${f(r.fastconv_mask.median_timings?.inference)} s)`);
  if (r.reference_mask.peak_rss_mb != null) console.log(`  peak RSS, one photo, RGBA output: reference ${f(r.reference_mask.peak_rss_mb, 0)} MB vs default ${f(c.atelier.peak_rss_mb, 0)} MB`);
  if (r.iou_default_vs_reference_refined) console.log(`  IoU (alpha>127) default vs full 1024² inference with OpenCV's convolution, same refinement (--no-fast-conv): ${r.iou_default_vs_reference_refined.map((p) => `${p.name} ${f(p.iou, 4)}`).join(", ")}; mean ${f(r.mean_iou_refined, 4)} -> ${r.meets_target ? "meets" : "BELOW"} the 0.98 target`);
  console.log(`  IoU (alpha>127) default vs the model's raw matte (--no-fast-conv --no-refine; what refinement changes on purpose): ${r.iou_default_vs_reference.map((p) => `${p.name} ${f(p.iou, 4)}`).join(", ")}; mean ${f(r.mean_iou, 4)}`);
  if (r.iou_fastconv_vs_reference) console.log(`  IoU (alpha>127) --no-refine (Winograd only) vs reference: ${r.iou_fastconv_vs_reference.map((p) => `${p.name} ${f(p.iou, 4)}`).join(", ")}; mean ${f(r.mean_iou_fastconv, 4)}`);
}
for (const c of result.classes) {
  if (!c.precisions) continue;
  console.log();
  console.log(`${c.name}: per precision (atelier --precision P, default settings) and the peer's models (tuned)`);
  console.log("  time: per-photo median, warm; process: wall of a one-photo process (load included); IoU / |d alpha|: raw matte vs the reference's (OpenCV fp32)");
  console.log(`  ${"".padEnd(16)} ${pad("time s", 7)} ${pad("infer s", 8)} ${pad("process s", 10)} ${pad("RSS MB", 7)} ${pad("mean IoU", 9)} ${pad("min IoU", 8)} ${pad("|d alpha|", 10)} ${pad("time/peer", 10)}`);
  const med = c.peer_models.medium.median_seconds, small = c.peer_models.small.median_seconds;
  const line = (name, r, vs) => console.log(`  ${name.padEnd(16)} ${pad(f(r.median_seconds, 3), 7)} ${pad(f(r.median_inference_seconds, 3), 8)} ${pad(f(r.one_photo_process_seconds, 2), 10)} ${pad(f(r.peak_rss_mb, 0), 7)} ${pad(f(r.mean_iou_vs_reference, 4), 9)} ${pad(f(r.min_iou_vs_reference, 4), 8)} ${pad(f(r.mean_abs_alpha_vs_reference, 3), 10)} ${pad(vs, 10)}`);
  for (const [p, r] of Object.entries(c.precisions)) line(`atelier ${p}`, r, `${f(ratio(r.median_seconds, med))}/${f(ratio(r.median_seconds, small))}`);
  line("peer medium", c.peer_models.medium, "1.00");
  line("peer small", c.peer_models.small, f(ratio(small, med)));
  console.log("  (time/peer: atelier's time over the peer medium's / small's)");
}
console.log();
console.log(`written: ${outJson}`);
