// Runs the peer background remover, @imgly/background-removal-node 1.4.5 (ISNet "medium",
// fp16, on onnxruntime-node), over photos one after another in one process, and writes the
// alpha matte of each result as an 8-bit grey PNG: OUT/<stem>.png.
//
//   node remove.mjs --mode shipped|tuned --out DIR [--json] [--threads N] [--model medium|small] FILE...
//
// --mode shipped  the package as published: onnxruntime with its default options (the
//                 package asks for graphOptimizationLevel "all", executionMode "parallel").
// --mode tuned    the same, but InferenceSession.create gets intraOpNumThreads = the core
//                 count (or --threads N) added to its options, as a user could do.
// --model         the package's model: "medium" (ISNet fp16, the default here) or "small"
//                 (the same network quantized to 8 bits: the package's own int8 answer).
//
// One line per photo on stdout; with --json: {"file","ok","seconds","write_seconds",
// "cpu_seconds","width","height","call"}, where
//   seconds        removeBackground(): read + decode + resize + inference + resize back +
//                  raw RGBA result (the first call also loads the model);
//   write_seconds  extracting the alpha channel and writing the grey PNG (our addition,
//                  not part of the peer's own work);
//   cpu_seconds    CPU time of all threads during removeBackground() (divided by seconds:
//                  how many cores it kept busy).
// The raw "image/x-rgba8" output format is used so that the peer's own PNG encoding
// (palette-quantised, slow on colourful photos) is not timed.
//
// What the package returns for output.format "image/x-rgba8" (read from its dist/index.mjs):
// a Blob whose type is "image/x-rgba8;width=W;height=H" and whose bytes are W*H*4 RGBA,
// row-major, the input's own size; the alpha byte is the model's mask, bilinearly resized
// back from 1024x1024. Known limits of the peer's decoder: it ignores EXIF orientation and
// only handles 3- and 4-channel images (grey photos give a wrong mask); such inputs are
// flagged with a "warning".
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";

import sharp from "sharp";
import ort from "onnxruntime-node";
import { removeBackground } from "@imgly/background-removal-node";

function usage(msg) {
  if (msg) console.error(`remove.mjs: ${msg}`);
  console.error("usage: node remove.mjs --mode shipped|tuned --out DIR [--json] [--threads N] [--model medium|small] FILE...");
  process.exit(2);
}

const args = { mode: null, out: null, json: false, threads: null, model: "medium", files: [] };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === "--mode") args.mode = process.argv[++i];
  else if (a === "--out") args.out = process.argv[++i];
  else if (a === "--json") args.json = true;
  else if (a === "--threads") args.threads = Number(process.argv[++i]);
  else if (a === "--model") args.model = process.argv[++i];
  else if (a === "-h" || a === "--help") usage();
  else if (a.startsWith("--")) usage(`unknown option ${a}`);
  else args.files.push(a);
}
if (args.mode !== "shipped" && args.mode !== "tuned") usage("--mode must be shipped or tuned");
if (!args.out) usage("--out DIR is required");
if (args.files.length === 0) usage("no input files");
if (args.model !== "medium" && args.model !== "small") usage("--model must be medium or small");
if (args.threads !== null && !(Number.isInteger(args.threads) && args.threads > 0)) usage("--threads must be a positive integer");

// The package's default publicPath is node_modules/... relative to the current directory;
// point it at the installed package's dist/ so this script runs from any directory.
const require = createRequire(import.meta.url);
const distDir = path.dirname(require.resolve("@imgly/background-removal-node"));
const config = {
  publicPath: pathToFileURL(distDir).href + "/",
  model: args.model,
  output: { format: "image/x-rgba8" },
};

let threads = null;
if (args.mode === "tuned") threads = args.threads ?? (os.availableParallelism?.() ?? os.cpus().length);

// The package calls ort.InferenceSession.create(modelBytes, options) once (memoised). Its
// `import * as ort` sees this same class object, so wrapping the static method here, before
// the first removeBackground() call, reaches it. In "shipped" mode the wrapper only records
// the options (reported as session_options on the line of the call that created the
// session); in "tuned" mode it also adds intraOpNumThreads.
let sessionOptions = null;
{
  const original = ort.InferenceSession.create.bind(ort.InferenceSession);
  ort.InferenceSession.create = (...a) => {
    // Overloads: (pathOrBuffer, options?) and (buffer, byteOffset, byteLength?, options?).
    let last = a.length > 1 && a[a.length - 1] !== null && typeof a[a.length - 1] === "object" ? a.length - 1 : -1;
    if (last < 0) { a.push({}); last = a.length - 1; }
    if (threads !== null) a[last] = { ...a[last], intraOpNumThreads: threads };
    sessionOptions = a[last];
    return original(...a);
  };
  process.on("exit", () => {
    if (sessionOptions === null) console.error("remove.mjs: warning: InferenceSession.create was never called through the wrapper");
  });
}

fs.mkdirSync(args.out, { recursive: true });

let failed = 0;
for (let call = 0; call < args.files.length; call++) {
  const file = args.files[call];
  const line = { file, ok: false, mode: args.mode, model: args.model, threads, call };
  const hadSession = sessionOptions !== null;
  try {
    const meta = await sharp(file).metadata();
    const warnings = [];
    if (meta.channels !== 3 && meta.channels !== 4) warnings.push(`${meta.channels}-channel image: the peer's decoder expects RGB/RGBA`);
    if ((meta.orientation ?? 1) > 1) warnings.push(`EXIF orientation ${meta.orientation}: the peer ignores it`);
    if (warnings.length) line.warning = warnings.join("; ");

    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const blob = await removeBackground(pathToFileURL(path.resolve(file)), config);
    const rgba = new Uint8Array(await blob.arrayBuffer());
    const t1 = performance.now();
    const cpu = process.cpuUsage(c0);

    const params = Object.fromEntries(
      blob.type.split(";").slice(1).map((p) => p.split("=").map((s) => s.trim())),
    );
    const width = Number(params.width), height = Number(params.height);
    if (!(width > 0 && height > 0) || rgba.length !== width * height * 4) {
      throw new Error(`unexpected result "${blob.type}" with ${rgba.length} bytes`);
    }
    const alpha = Buffer.allocUnsafe(width * height);
    for (let i = 0, j = 3; i < alpha.length; i++, j += 4) alpha[i] = rgba[j];
    const outFile = path.join(args.out, path.parse(file).name + ".png");
    await sharp(alpha, { raw: { width, height, channels: 1 } }).toColourspace("b-w").png().toFile(outFile);
    const t2 = performance.now();

    Object.assign(line, {
      ok: true, output: outFile, width, height,
      seconds: +((t1 - t0) / 1000).toFixed(4),
      write_seconds: +((t2 - t1) / 1000).toFixed(4),
      cpu_seconds: +((cpu.user + cpu.system) / 1e6).toFixed(4),
    });
    if (!hadSession && sessionOptions !== null) line.session_options = sessionOptions;
  } catch (e) {
    failed++;
    line.error = String(e?.message ?? e);
  }
  if (args.json) console.log(JSON.stringify(line));
  else if (line.ok) console.log(`${file} -> ${line.output}  ${line.seconds.toFixed(2)} s (+ ${line.write_seconds.toFixed(2)} s write)${line.warning ? "  warning: " + line.warning : ""}`);
  else console.error(`${file}: ${line.error}`);
}
process.exitCode = failed ? 1 : 0;
