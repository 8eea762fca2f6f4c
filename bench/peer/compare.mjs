// Compares two folders of mattes, image by image (same file stem in both).
//
//   node compare.mjs [--json] [--label TEXT] A_DIR B_DIR [STEM...]
//
// For every stem (default: every PNG in A_DIR) it reads A_DIR/<stem>.png and
// B_DIR/<stem>.png and reports
//   iou  intersection over union of the foregrounds alpha > 127 (1 when both are empty)
//   mad  mean absolute difference of the alpha values, 0..255
// The alpha value of a pixel is the grey value of a 1- or 3-channel image, or the alpha
// channel of a 2- or 4-channel one (so an RGBA cutout compares by its alpha). 16-bit
// images are reduced to 8 bits. Sizes must match.
//
// Output: a table and the means; with --json one object
// {"label","pairs":[{"name","iou","mad","width","height"}],"missing":[...],"errors":[...],
//  "mean_iou","mean_mad","min_iou"}.
// Exit status: 0 when every pair was compared, 1 when a file was missing or unreadable.
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";

function usage(msg) {
  if (msg) console.error(`compare.mjs: ${msg}`);
  console.error("usage: node compare.mjs [--json] [--label TEXT] A_DIR B_DIR [STEM...]");
  process.exit(2);
}

let json = false, label = "";
const rest = [];
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === "--json") json = true;
  else if (a === "--label") label = process.argv[++i] ?? "";
  else if (a.startsWith("--")) usage(`unknown option ${a}`);
  else rest.push(a);
}
if (rest.length < 2) usage();
const [dirA, dirB, ...stemArgs] = rest;
for (const d of [dirA, dirB]) if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) usage(`${d}: not a folder`);

const stems = stemArgs.length
  ? stemArgs
  : fs.readdirSync(dirA).filter((f) => f.toLowerCase().endsWith(".png")).map((f) => f.slice(0, -4)).sort();

async function readAlpha(file) {
  const { data, info } = await sharp(file).raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const c = channels === 2 || channels === 4 ? channels - 1 : 0;
  if (channels === 1) return { width, height, alpha: data };
  const alpha = Buffer.allocUnsafe(width * height);
  for (let i = 0, j = c; i < alpha.length; i++, j += channels) alpha[i] = data[j];
  return { width, height, alpha };
}

const pairs = [], missing = [], errors = [];
for (const name of stems) {
  const fa = path.join(dirA, name + ".png"), fb = path.join(dirB, name + ".png");
  if (!fs.existsSync(fa) || !fs.existsSync(fb)) { missing.push(name); continue; }
  try {
    const [a, b] = await Promise.all([readAlpha(fa), readAlpha(fb)]);
    if (a.width !== b.width || a.height !== b.height) {
      throw new Error(`size differs: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
    }
    let inter = 0, union = 0, absSum = 0;
    const A = a.alpha, B = b.alpha;
    for (let i = 0; i < A.length; i++) {
      const x = A[i], y = B[i];
      const fx = x > 127, fy = y > 127;
      if (fx && fy) inter++;
      if (fx || fy) union++;
      absSum += x > y ? x - y : y - x;
    }
    pairs.push({ name, iou: union ? inter / union : 1, mad: absSum / A.length, width: a.width, height: a.height });
  } catch (e) {
    errors.push({ name, error: String(e?.message ?? e) });
  }
}

const mean = (xs) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
const summary = {
  label, a: dirA, b: dirB, pairs, missing, errors,
  mean_iou: mean(pairs.map((p) => p.iou)),
  mean_mad: mean(pairs.map((p) => p.mad)),
  min_iou: pairs.length ? Math.min(...pairs.map((p) => p.iou)) : null,
};

if (json) {
  console.log(JSON.stringify(summary));
} else {
  const w = Math.max(5, ...pairs.map((p) => p.name.length));
  if (label) console.log(label);
  console.log(`  ${"image".padEnd(w)}  ${"size".padStart(11)}  ${"IoU>127".padStart(8)}  ${"|Δα| 0-255".padStart(10)}`);
  for (const p of pairs) {
    console.log(`  ${p.name.padEnd(w)}  ${`${p.width}x${p.height}`.padStart(11)}  ${p.iou.toFixed(4).padStart(8)}  ${p.mad.toFixed(2).padStart(10)}`);
  }
  for (const m of missing) console.log(`  ${m.padEnd(w)}  missing in one of the folders`);
  for (const e of errors) console.log(`  ${e.name.padEnd(w)}  error: ${e.error}`);
  if (pairs.length) {
    console.log(`  ${"mean".padEnd(w)}  ${`n=${pairs.length}`.padStart(11)}  ${summary.mean_iou.toFixed(4).padStart(8)}  ${summary.mean_mad.toFixed(2).padStart(10)}   (min IoU ${summary.min_iou.toFixed(4)})`);
  }
}
process.exitCode = missing.length || errors.length ? 1 : 0;
