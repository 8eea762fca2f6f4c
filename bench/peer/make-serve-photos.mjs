// Builds the photos of bench/serve_bench.sh: the three 1 MP subjects of make-photos.mjs
// (Debian's sample photos from python3-skimage: rocket, motorcycle_left, astronaut), each
// resized with sharp to 1152x864 (scaled to cover, centre-cropped, lanczos3, JPEG q92, as
// make-photos.mjs does), in V variants whose pixels differ invisibly: variant k adds k to
// every channel value (k = 0 .. V-1; k = 0 is the plain photo).
//
//   node make-serve-photos.mjs --src DIR --out DIR [--variants V]     (default V = 4)
//
// Why variants: `atelier serve` keeps a per-process cache of subject maps keyed by the
// decoded pixels (src/vision/analysis_cache.h, the 8 most recent images), so three photos
// sent in turn would be answered from the cache from the fourth request on, without
// inference. With 3 x V distinct images sent cyclically (V >= 3: 9 or more, more than the
// cache holds) every request runs the model, as distinct user uploads would.
//
// Writes OUT/<source>-v<k>-1152x864.jpg and prints one JSON object
// {"width","height","variants","files":[...]} with the files in sending order: subjects
// interleaved (rocket v0, motorcycle v0, astronaut v0, rocket v1, ...), so consecutive
// requests carry different photos. Existing files of the right size are kept.
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";

const SOURCES = ["rocket.jpg", "motorcycle_left.png", "astronaut.png"];
const WIDTH = 1152, HEIGHT = 864;

let src = null, out = null, variants = 4;
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === "--src") src = process.argv[++i];
  else if (process.argv[i] === "--out") out = process.argv[++i];
  else if (process.argv[i] === "--variants") variants = Number(process.argv[++i]);
  else { console.error(`make-serve-photos.mjs: unknown argument ${process.argv[i]}`); process.exit(2); }
}
if (!src || !out) { console.error("usage: node make-serve-photos.mjs --src DIR --out DIR [--variants V]"); process.exit(2); }
if (!(Number.isInteger(variants) && variants >= 1 && variants <= 16)) {
  console.error("make-serve-photos.mjs: --variants must be 1..16");
  process.exit(2);
}

fs.mkdirSync(out, { recursive: true });
const files = [];
for (let k = 0; k < variants; k++) {
  for (const s of SOURCES) {
    const from = path.join(src, s);
    if (!fs.existsSync(from)) {
      console.error(`make-serve-photos.mjs: ${from} is missing (Debian: apt-get install python3-skimage)`);
      process.exit(1);
    }
    const to = path.join(out, `${path.parse(s).name}-v${k}-${WIDTH}x${HEIGHT}.jpg`);
    let ok = false;
    if (fs.existsSync(to)) {
      try {
        const m = await sharp(to).metadata();
        ok = m.width === WIDTH && m.height === HEIGHT;
      } catch { ok = false; }
    }
    if (!ok) {
      const tmp = to + ".tmp";
      await sharp(from)
        .removeAlpha()
        .resize(WIDTH, HEIGHT, { fit: "cover", position: "centre", kernel: "lanczos3" })
        .linear(1, k)
        .jpeg({ quality: 92 })
        .toFile(tmp);
      fs.renameSync(tmp, to);
    }
    files.push(to);
  }
}
console.log(JSON.stringify({ width: WIDTH, height: HEIGHT, variants, files }));
