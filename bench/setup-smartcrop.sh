#!/usr/bin/env bash
# Installs smartcrop.js, the peer of `atelier crop` in bench/crop_compare.sh, into
# bench/smartcrop/: smartcrop-sharp 2.0.8 (smartcrop 2.0.5 on sharp) with sharp 0.33.5, from npm.
#
# Idempotent: when bench/smartcrop/node_modules already holds working copies of the pinned
# versions, it only checks them (about a second) and exits 0.
#
# Why the flags (docs: ../../shared/FACTS.md, "Peers and how to run them"):
#   - --legacy-peer-deps: smartcrop-sharp 2.0.8 declares a peer dependency on sharp ^0.32.5,
#     whose install script downloads libvips from a host that is not reachable; sharp 0.33.5
#     ships prebuilt binaries as ordinary npm packages (@img/sharp-*) and works with
#     smartcrop-sharp (it only calls sharp(src).metadata() and .resize().raw().toBuffer()).
#     npm refuses that combination (ERESOLVE) unless peer dependencies are not enforced.
#   - --ignore-scripts: no install script is needed. smartcrop and smartcrop-sharp have none;
#     sharp 0.33's only checks that the prebuilt binary loads (and would try to compile
#     from source if it did not), which check() below does too. Same as setup-peer.sh.
#
# Usage: bench/setup-smartcrop.sh [--force]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="$here/smartcrop"
force=0
[[ "${1:-}" == "--force" ]] && force=1
[[ $# -le 1 && ( $# -eq 0 || $force -eq 1 ) ]] || { echo "usage: bench/setup-smartcrop.sh [--force]" >&2; exit 2; }

die() { echo "setup-smartcrop: $*" >&2; exit 1; }

command -v node >/dev/null || die "node is not installed (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null || die "npm is not installed (Debian: apt-get install npm)"

# Prints nothing and exits 0 when the installed packages are usable: pinned versions, sharp
# loads, and smartcrop-sharp finds a crop of the asked size in a small generated image.
check() {
  (cd "$dir" && node --input-type=module -e '
    import fs from "node:fs";
    const want = { "smartcrop-sharp": "2.0.8", "smartcrop": "2.0.5", "sharp": "0.33.5" };
    for (const [name, version] of Object.entries(want)) {
      const pkg = JSON.parse(fs.readFileSync(`node_modules/${name}/package.json`, "utf8"));
      if (pkg.version !== version) throw new Error(`${name} is ${pkg.version}, want ${version}`);
    }
    const sharp = (await import("sharp")).default;
    const smartcrop = (await import("smartcrop-sharp")).default;
    const img = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#808080" } }).png().toBuffer();
    const r = await smartcrop.crop(img, { width: 27, height: 48 });
    const c = r && r.topCrop;
    if (!c || c.width !== 27 || c.height !== 48) throw new Error(`smartcrop-sharp returned ${JSON.stringify(c)} for a 27x48 crop of 64x48`);
  ' 2>&1)
}

if [[ $force -eq 0 && -d "$dir/node_modules" ]]; then
  if out="$(check)"; then
    echo "setup-smartcrop: smartcrop-sharp already installed in $dir"
    exit 0
  fi
  echo "setup-smartcrop: existing install is not usable ($out); reinstalling from scratch"
  rm -rf "$dir/node_modules"
fi
[[ $force -eq 1 ]] && rm -rf "$dir/node_modules"

echo "setup-smartcrop: npm install in $dir (about 17 MB, mostly sharp's libvips) ..."
(cd "$dir" && npm install --no-audit --no-fund --omit=dev --ignore-scripts --legacy-peer-deps)

if ! out="$(check)"; then
  die "smartcrop-sharp was installed but does not work: $out"
fi
echo "setup-smartcrop: ok ($(node --version), smartcrop-sharp in $dir)"
