// The peer background remover served the way a Node.js developer would put it behind HTTP:
// a plain node:http server whose POST handler reads the body and calls
// removeBackground() of @imgly/background-removal-node 1.4.5 (ISNet "medium", fp16, on
// onnxruntime-node), answering the PNG. Used by bench/serve_bench.sh.
//
//   node serve-peer.mjs [--port N] [--host H]     (defaults: 0 = any free port, 127.0.0.1)
//
// Prints `listening on http://HOST:PORT` as its first stdout line. Any POST (whatever the
// path): the body is the photo, its Content-Type (image/jpeg, image/png, image/webp) tells
// the package how to decode it; the answer is the cutout as image/png, or 500 with the
// error's message as text. Other methods: 405.
//
// Deliberately plain, as typical usage is: no queue, no worker pool, no concurrency limit
// (every request that arrives is started at once and they interleave on the one event
// loop), no timeouts beyond Node's defaults, the model loaded on the first request
// (lodash-memoised inside the package). onnxruntime runs with the options the package
// itself passes (graphOptimizationLevel "all", executionMode "parallel"; intra-op threads
// left to onnxruntime's default, which uses every core here: ../../shared/FACTS.md), not the
// "tuned" wrapper of remove.mjs. Note that onnxruntime-node 1.17's session.run() executes
// synchronously on the main thread (inside a setImmediate), so while one inference runs the
// server reads, decodes and answers nothing else; sharp's decode and PNG encode run on
// libuv's thread pool. Output format "image/png" at the package's default quality 0.8,
// which sharp turns into a palette-quantised PNG (the package's default output).
//
// Our only addition: publicPath points at the installed package's dist/, so the script runs
// from any directory (the package's default is node_modules/... under the current one).
import http from "node:http";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

import { removeBackground } from "@imgly/background-removal-node";

let port = 0, host = "127.0.0.1";
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === "--port") port = Number(process.argv[++i]);
  else if (process.argv[i] === "--host") host = process.argv[++i];
  else {
    console.error(`serve-peer.mjs: unknown argument ${process.argv[i]}\nusage: node serve-peer.mjs [--port N] [--host H]`);
    process.exit(2);
  }
}

const require = createRequire(import.meta.url);
const config = {
  publicPath: pathToFileURL(path.dirname(require.resolve("@imgly/background-removal-node"))).href + "/",
  model: "medium",
  output: { format: "image/png" },
};

const server = http.createServer(async (req, res) => {
  if (req.method !== "POST") {
    res.writeHead(405, { "Content-Type": "text/plain", Allow: "POST" });
    res.end("use POST with the photo as the body\n");
    return;
  }
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const blob = new Blob([Buffer.concat(chunks)], { type: req.headers["content-type"] ?? "application/octet-stream" });
    const result = await removeBackground(blob, config);
    const png = Buffer.from(await result.arrayBuffer());
    res.writeHead(200, { "Content-Type": "image/png", "Content-Length": png.length });
    res.end(png);
  } catch (e) {
    const message = String(e?.message ?? e);
    if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
    res.end(message + "\n");
  }
});

server.listen(port, host, () => {
  console.log(`listening on http://${host}:${server.address().port}`);
});
