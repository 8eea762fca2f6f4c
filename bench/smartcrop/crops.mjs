// smartcrop.js (through smartcrop-sharp 2.0.8) on every stimuli/*.jpg of an eye-tracking set,
// for the ratios 1:1, 9:16 and 16:9, each time asking for the LARGEST window of the ratio.
//
//   node crops.mjs [--details FILE.json] DIR OUT.json
//
// DIR holds stimuli/*.jpg (e.g. ../shared/eval-dev/nus_scene50). OUT.json is the input of
// `atelier eval crop DIR --extra smartcrop.js=OUT.json`:
//   {"<stem>": {"1:1": [x,y,w,h], "9:16": [x,y,w,h], "16:9": [x,y,w,h]}, ...}
// in the original photo's pixel coordinates: exactly the rectangle smartcrop returns
// (topCrop), clamped into the photo.
//
// How it asks: crop(file, {width: w, height: h}) where w x h is the largest window of the
// ratio that fits the photo (full height or full width). smartcrop then searches only that
// size (minScale = maxScale = 1). It analyses a copy prescaled to a 256 px short side and
// places windows on an 8 px grid of that copy, then floors the window back to full
// resolution, so the returned window can be a few pixels smaller than the one asked for
// and cannot always reach the photo's right or bottom edge (see bench/README.md).
//
// stdout: one line per photo (size, seconds per ratio, total), then a summary. Seconds are
// the wall time of each crop() call, which includes sharp opening, decoding and resizing the
// JPEG. --details writes, per photo and ratio, the size asked for, smartcrop's raw topCrop
// (with its score) and the call's seconds.
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import smartcrop from "smartcrop-sharp";

export const RATIOS = [["1:1", 1, 1], ["9:16", 9, 16], ["16:9", 16, 9]];

// The largest w x h with w:h = a:b inside W x H (integer pixels, full width or full height).
export function largestWindow(W, H, a, b) {
  if (W * b >= H * a) return [Math.max(1, Math.min(W, Math.floor((H * a) / b))), H];
  return [W, Math.max(1, Math.min(H, Math.floor((W * b) / a)))];
}

function clampRect(r, W, H) {
  let x = Math.max(0, Math.min(W - 1, Math.round(r.x)));
  let y = Math.max(0, Math.min(H - 1, Math.round(r.y)));
  const w = Math.max(1, Math.min(W - x, Math.round(r.width)));
  const h = Math.max(1, Math.min(H - y, Math.round(r.height)));
  return [x, y, w, h];
}

async function main() {
  const args = process.argv.slice(2);
  let details = null;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--details") details = args[++i];
    else if (args[i].startsWith("-")) usage(`unknown option ${args[i]}`);
    else pos.push(args[i]);
  }
  if (pos.length !== 2 || (details !== null && !details)) usage();
  const [dir, outJson] = pos;
  const stimuli = path.join(dir, "stimuli");
  if (!fs.existsSync(stimuli)) usage(`${stimuli}: no such folder`);
  const files = fs.readdirSync(stimuli).filter((f) => /\.jpe?g$/i.test(f) && !f.startsWith(".")).sort();
  if (!files.length) usage(`${stimuli}: no .jpg files`);

  const out = {}, info = {}, totals = [], failed = [];
  for (const f of files) {
    const file = path.join(stimuli, f);
    const stem = path.parse(f).name;
    try {
      const meta = await sharp(file).metadata();
      // smartcrop-sharp reads the stored pixels: it ignores EXIF orientation, so its
      // rectangles would be in the unrotated frame. Such photos are handed to it as an
      // upright PNG in memory instead, and flagged. (Grey JPEGs are fine: sharp 0.33's raw
      // output is sRGB, 3 channels.)
      let input = file, warning = null;
      if ((meta.orientation ?? 1) > 1) {
        input = await sharp(file).rotate().png().toBuffer();
        warning = `EXIF orientation ${meta.orientation}: passed as an upright PNG`;
      }
      const size = input === file ? meta : await sharp(input).metadata();
      const W = size.width, H = size.height;  // what smartcrop-sharp sees (upright here)
      const rects = {}, per = {};
      let total = 0;
      for (const [name, a, b] of RATIOS) {
        const [w, h] = largestWindow(W, H, a, b);
        const t0 = process.hrtime.bigint();
        const res = await smartcrop.crop(input, { width: w, height: h });
        const secs = Number(process.hrtime.bigint() - t0) / 1e9;
        total += secs;
        const c = res.topCrop;
        rects[name] = clampRect(c, W, H);
        per[name] = { asked: [w, h], top_crop: { x: c.x, y: c.y, width: c.width, height: c.height, score: c.score?.total }, seconds: +secs.toFixed(4) };
      }
      out[stem] = rects;
      info[stem] = { width: W, height: H, seconds: +total.toFixed(4), ...(warning ? { warning } : {}), ratios: per };
      totals.push(total);
      const ms = RATIOS.map(([n]) => `${n} ${(per[n].seconds * 1000).toFixed(0)} ms`).join(", ");
      console.log(`${stem}  ${W}x${H}  ${(total * 1000).toFixed(0)} ms  (${ms})${warning ? `  warning: ${warning}` : ""}`);
    } catch (e) {
      failed.push(stem);
      console.log(`${stem}  FAILED: ${e.message}`);
    }
  }

  const tmp = outJson + ".tmp";
  // One photo a line: {"<stem>": {"1:1": [x,y,w,h], "9:16": [...], "16:9": [...]}, ...}
  fs.writeFileSync(tmp, "{\n" + Object.entries(out).map(([k, v]) => ` ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(",\n") + "\n}\n");
  fs.renameSync(tmp, outJson);
  const s = [...totals].sort((x, y) => x - y);
  const med = s.length ? (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
  const mean = s.length ? s.reduce((x, y) => x + y, 0) / s.length : null;
  const summary = {
    photos: files.length, failed, first_photo_seconds: totals[0] ?? null,
    median_seconds_per_photo: med, mean_seconds_per_photo: mean,
    median_seconds_per_photo_after_first: (() => {
      const r = totals.slice(1).sort((x, y) => x - y);
      return r.length ? (r.length % 2 ? r[r.length >> 1] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2) : null;
    })(),
  };
  if (details) {
    const tmpd = details + ".tmp";
    fs.writeFileSync(tmpd, JSON.stringify({
      tool: "smartcrop-sharp " + pkgVersion("smartcrop-sharp") + " (smartcrop " + pkgVersion("smartcrop") + ", sharp " + pkgVersion("sharp") + ")",
      node: process.version, options: "crop(file, {width, height}) with the largest window of each ratio; defaults otherwise",
      summary, photos: info,
    }, null, 1) + "\n");
    fs.renameSync(tmpd, details);
  }
  const f = (x) => (x == null ? "n/a" : `${(x * 1000).toFixed(1)} ms`);
  console.log(`smartcrop: ${totals.length}/${files.length} photos, 3 ratios each: median ${f(med)} per photo ` +
    `(${f(med == null ? null : med / 3)} per ratio), mean ${f(mean)}, first photo ${f(totals[0])} (includes warm-up); ` +
    `rectangles in ${outJson}`);
  if (failed.length) {
    console.error(`crops.mjs: ${failed.length} photo(s) failed: ${failed.join(" ")}`);
    process.exit(1);
  }
}

function pkgVersion(name) {
  const here = path.dirname(new URL(import.meta.url).pathname);
  try { return JSON.parse(fs.readFileSync(path.join(here, "node_modules", name, "package.json"), "utf8")).version; }
  catch { return "?"; }
}

function usage(msg) {
  if (msg) console.error(`crops.mjs: ${msg}`);
  console.error("usage: node crops.mjs [--details FILE.json] DIR OUT.json   (DIR holds stimuli/*.jpg)");
  process.exit(2);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) await main();
