// Builds the benchmark photos: Debian's sample photos (python3-skimage) resized with sharp
// to three size classes, three different source photos per class, as JPEG (quality 92).
//
//   node make-photos.mjs --src DIR --out DIR
//
// Writes OUT/<class>/<source>-<W>x<H>.jpg (scaled to cover W x H, centre-cropped) and
// prints one JSON object {"classes":[{"name","width","height","megapixels","files":[...]}]}.
// Existing files of the right size are kept, so a second run is instant.
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";

// 512x512 ≈ 0.26 MP, 1152x864 ≈ 1.0 MP, 4000x3000 = 12 MP. Each class uses three sources;
// neighbouring classes rotate through the five photos so every class mixes subjects.
export const CLASSES = [
  { name: "0.25MP", width: 512, height: 512, sources: ["astronaut.png", "chelsea.png", "coffee.png"] },
  { name: "1MP", width: 1152, height: 864, sources: ["rocket.jpg", "motorcycle_left.png", "astronaut.png"] },
  { name: "12MP", width: 4000, height: 3000, sources: ["chelsea.png", "coffee.png", "rocket.jpg"] },
];

let src = null, out = null;
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === "--src") src = process.argv[++i];
  else if (process.argv[i] === "--out") out = process.argv[++i];
  else { console.error(`make-photos.mjs: unknown argument ${process.argv[i]}`); process.exit(2); }
}
if (!src || !out) { console.error("usage: node make-photos.mjs --src DIR --out DIR"); process.exit(2); }

const result = { classes: [] };
for (const c of CLASSES) {
  const dir = path.join(out, c.name);
  fs.mkdirSync(dir, { recursive: true });
  const files = [];
  for (const s of c.sources) {
    const from = path.join(src, s);
    if (!fs.existsSync(from)) {
      console.error(`make-photos.mjs: ${from} is missing (Debian: apt-get install python3-skimage)`);
      process.exit(1);
    }
    const to = path.join(dir, `${path.parse(s).name}-${c.width}x${c.height}.jpg`);
    let ok = false;
    if (fs.existsSync(to)) {
      try {
        const m = await sharp(to).metadata();
        ok = m.width === c.width && m.height === c.height;
      } catch { ok = false; }
    }
    if (!ok) {
      const tmp = to + ".tmp";
      await sharp(from)
        .removeAlpha()
        .resize(c.width, c.height, { fit: "cover", position: "centre", kernel: "lanczos3" })
        .jpeg({ quality: 92 })
        .toFile(tmp);
      fs.renameSync(tmp, to);
    }
    files.push(to);
  }
  result.classes.push({ name: c.name, width: c.width, height: c.height, megapixels: +(c.width * c.height / 1e6).toFixed(3), files });
}
console.log(JSON.stringify(result));
