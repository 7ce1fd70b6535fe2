#!/usr/bin/env bash
# Builds .gpu/, the kit that lets bench/gpu/run.sh run the benchmarks on a
# machine that has a GPU driver but no Node.js and no network:
#
#   .gpu/node.xz              this machine's node, stripped, xz -9
#   .gpu/libs.tar.xz          node's C++ runtime (libstdc++, libgcc_s), used
#                             only if the machine's own are missing or too old
#   .gpu/node_modules.tar.xz  the runtime dependencies of the benchmarks and
#                             the test suite: tsx + esbuild (linux-x64),
#                             webgpu (linux-x64 dawn.node), wgsl-preprocessor,
#                             commander, cli-progress, vitest, vega(-lite),
#                             TensorFlow.js (core, layers, webgpu and cpu
#                             backends) and what they need; no docs,
#                             tests, type files, source maps or other
#                             platforms' binaries
#   .gpu/libvulkan1_*.deb     the Vulkan loader (apt-get download libvulkan1),
#                             or, offline, .gpu/libvulkan.so.1* copied from
#                             this machine
#   .gpu/gl/*.deb             libglvnd and its GL/EGL/GLX front ends, which the
#                             NVIDIA Vulkan ICD needs (apt-get download)
#   .gpu/torch_bench.py       PyTorch's side of the comparison (../shared/gpu/)
#   .gpu/mnist/               the four MNIST .gz files, when a folder with
#                             them is found (--mnist DIR, MNIST_DIR,
#                             ./shared/mnist or ../shared/mnist): the GPU
#                             machine gets the repository only
#
# Usage (from anywhere): bash bench/gpu/make-kit.sh [--mnist DIR] [--no-mnist]
# Each part is rebuilt only when its source changed, so a rerun takes seconds.
# The kit is git-ignored (.gpu/): send it along with the working tree, whose
# size with the kit this script prints (keep it under 64 MiB where transfers
# are limited to that).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIT="$ROOT/.gpu"
MNIST_SRC=""
WITH_MNIST=1
while [ $# -gt 0 ]; do
  case "$1" in
    --mnist) MNIST_SRC="$2"; shift 2 ;;
    --no-mnist) WITH_MNIST=0; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "make-kit: unknown argument $1" >&2; exit 2 ;;
  esac
done

mkdir -p "$KIT"
say() { echo "make-kit: $*"; }
# A file's identity for the up-to-date checks: path, size, modification time.
ident() { stat -L -c '%n %s %Y' "$@"; }

# --- node -------------------------------------------------------------------
NODE_BIN=$(readlink -f "$(command -v node)")
NODE_ID="$(ident "$NODE_BIN") $(node -v)"
if [ -f "$KIT/node.xz" ] && [ "$(cat "$KIT/node.stamp" 2>/dev/null)" = "$NODE_ID" ]; then
  say "node.xz up to date ($(node -v))"
else
  say "compressing $NODE_BIN ($(node -v)); xz -9 takes about a minute"
  tmp=$(mktemp -d)
  # Debug info and the static symbol table are not needed to run; native
  # addons (dawn.node) link against the dynamic symbols, which strip keeps.
  if command -v strip >/dev/null && strip --strip-all -o "$tmp/node" "$NODE_BIN" && "$tmp/node" -e '' ; then :; else cp "$NODE_BIN" "$tmp/node"; fi
  xz -9 -T1 -c "$tmp/node" > "$KIT/node.xz.part"
  mv "$KIT/node.xz.part" "$KIT/node.xz"
  echo "$NODE_ID" > "$KIT/node.stamp"
  rm -rf "$tmp"
fi

# --- node's C++ runtime (fallback only) ---------------------------------------
LIBS_ID=""
for lib in libstdc++.so.6 libgcc_s.so.1; do
  path=$(ldd "$NODE_BIN" | awk -v l="$lib" '$1 == l { print $3 }')
  [ -n "$path" ] && LIBS_ID+="$(ident "$(readlink -f "$path")");"
done
if [ -f "$KIT/libs.tar.xz" ] && [ "$(cat "$KIT/libs.stamp" 2>/dev/null)" = "$LIBS_ID" ]; then
  say "libs.tar.xz up to date"
else
  tmp=$(mktemp -d)
  for lib in libstdc++.so.6 libgcc_s.so.1; do
    path=$(ldd "$NODE_BIN" | awk -v l="$lib" '$1 == l { print $3 }')
    [ -n "$path" ] && cp -L "$path" "$tmp/$lib"
  done
  tar -C "$tmp" -cf - . | xz -9 -T1 > "$KIT/libs.tar.xz"
  echo "$LIBS_ID" > "$KIT/libs.stamp"
  rm -rf "$tmp"
  say "libs.tar.xz built"
fi

# --- node_modules -------------------------------------------------------------
[ -d "$ROOT/node_modules" ] || { echo "make-kit: $ROOT/node_modules is missing; run npm ci first" >&2; exit 1; }
# The packages the benchmarks load at run time, and everything they depend on
# (resolved as Node does, nested node_modules first). Type-only packages and
# optional dependencies that are not installed (other platforms) drop out.
PACKAGES=$(cd "$ROOT" && node -e '
  const { existsSync, readFileSync } = require("node:fs");
  const { join, dirname } = require("node:path");
  const roots = ["tsx", "webgpu", "wgsl-preprocessor", "commander", "cli-progress",
    // The test suite on the GPU adapter, and TensorFlow.js (WebGPU and CPU) beside shaderprop in the benchmark.
    "vitest", "vega", "vega-lite", "@tensorflow/tfjs-core", "@tensorflow/tfjs-layers", "@tensorflow/tfjs-backend-webgpu", "@tensorflow/tfjs-backend-cpu"];
  const typeOnly = (name) => name.startsWith("@types/") || name === "@webgpu/types";
  const found = new Set();
  function locate(name, from) {
    for (let dir = from; ; dir = dirname(dirname(dir))) {
      const candidate = join(dir, "node_modules", name);
      if (existsSync(join(candidate, "package.json"))) return candidate;
      if (!dir.includes("node_modules")) return undefined;
    }
  }
  function visit(name, from) {
    if (typeOnly(name)) return;
    const dir = locate(name, from);
    if (!dir || found.has(dir)) return;
    found.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep, dir);
  }
  for (const name of roots) visit(name, ".");
  console.log([...found].map((d) => d.replace(/^node_modules\//, "")).sort().join("\n"));
')
NM_ID="$(ident "$ROOT/package-lock.json" "$0") $(echo "$PACKAGES" | tr '\n' ' ')"
if [ -f "$KIT/node_modules.tar.xz" ] && [ "$(cat "$KIT/node_modules.stamp" 2>/dev/null)" = "$NM_ID" ]; then
  say "node_modules.tar.xz up to date"
else
  say "packing node_modules: $(echo "$PACKAGES" | tr '\n' ' ')"
  # shellcheck disable=SC2086
  tar -C "$ROOT/node_modules" -cf - --sort=name \
    --exclude='*.map' --exclude='*.ts' --exclude='*.mts' --exclude='*.cts' \
    --exclude='*.md' --exclude='*.markdown' --exclude='CHANGELOG*' --exclude='.github' \
    --exclude='test' --exclude='tests' --exclude='__tests__' --exclude='docs' --exclude='example' --exclude='examples' \
    --exclude='webgpu/build' --exclude='webgpu/dist/win32-*' --exclude='webgpu/dist/darwin-*' \
    --exclude='webgpu/dist/linux-arm64' --exclude='esbuild/install.js' \
    $PACKAGES | xz -9 -T1 > "$KIT/node_modules.tar.xz.part"
  mv "$KIT/node_modules.tar.xz.part" "$KIT/node_modules.tar.xz"
  echo "$NM_ID" > "$KIT/node_modules.stamp"
fi

# --- Vulkan loader ------------------------------------------------------------
if ls "$KIT"/libvulkan1_*.deb >/dev/null 2>&1; then
  say "$(basename "$(ls "$KIT"/libvulkan1_*.deb | head -1)") present"
elif (cd "$KIT" && timeout 120 apt-get download libvulkan1 >/dev/null 2>&1) && ls "$KIT"/libvulkan1_*.deb >/dev/null 2>&1; then
  say "downloaded $(basename "$(ls "$KIT"/libvulkan1_*.deb | head -1)")"
else
  say "apt-get download libvulkan1 failed (offline?); copying this machine's loader instead"
  copied=0
  for f in /usr/lib/x86_64-linux-gnu/libvulkan.so.1*; do
    [ -e "$f" ] || continue
    cp -P "$f" "$KIT/" && copied=1
  done
  [ "$copied" = 1 ] || say "WARNING: no libvulkan.so.1 on this machine either; the kit has no Vulkan loader"
fi

# --- GL dispatch libraries ------------------------------------------------------
# The NVIDIA Vulkan ICD (libGLX_nvidia.so.0) loads only where libglvnd's
# libraries are: a bare machine with the driver but no desktop stack lacks them.
GL_DEBS="libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2"
mkdir -p "$KIT/gl"
missing=""
for pkg in $GL_DEBS; do ls "$KIT/gl/${pkg}"_*.deb >/dev/null 2>&1 || missing+=" $pkg"; done
if [ -z "$missing" ]; then
  say "gl/: $GL_DEBS present"
elif (cd "$KIT/gl" && timeout 180 apt-get download $missing >/dev/null 2>&1); then
  say "gl/: downloaded$missing"
else
  say "WARNING: apt-get download$missing failed (offline? run apt-get update first); the NVIDIA ICD may not load on a bare machine"
fi

# --- MNIST --------------------------------------------------------------------
if [ "$WITH_MNIST" = 1 ]; then
  if [ -z "$MNIST_SRC" ]; then
    for d in "${MNIST_DIR:-}" "$ROOT/shared/mnist" "$ROOT/../shared/mnist"; do
      [ -n "$d" ] && [ -f "$d/train-images-idx3-ubyte.gz" ] && { MNIST_SRC=$(cd "$d" && pwd -P); break; }
    done
  fi
  if [ -n "$MNIST_SRC" ]; then
    mkdir -p "$KIT/mnist"
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
      src="$MNIST_SRC/$f.gz"
      [ -f "$src" ] || { echo "make-kit: $src is missing" >&2; exit 1; }
      cmp -s "$src" "$KIT/mnist/$f.gz" || cp "$src" "$KIT/mnist/$f.gz"
    done
    say "mnist/ from $MNIST_SRC"
  else
    say "no MNIST folder found (pass --mnist DIR): bench/epochs.ts will need one on the GPU machine"
  fi
else
  rm -rf "$KIT/mnist"
  say "no MNIST in the kit (--no-mnist)"
fi

# --- PyTorch's side of the comparison --------------------------------------------
for f in "$ROOT/../shared/gpu/torch_bench.py" "$ROOT/shared/gpu/torch_bench.py"; do
  if [ -f "$f" ]; then cmp -s "$f" "$KIT/torch_bench.py" || cp "$f" "$KIT/torch_bench.py"; say "torch_bench.py from $f"; break; fi
done

# --- size ---------------------------------------------------------------------
total=$(find "$KIT" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
tree=$(cd "$ROOT" && { git ls-files; git ls-files --others --exclude-standard; } | sort -u | while IFS= read -r f; do [ -f "$f" ] && echo "$f"; done | tr '\n' '\0' | xargs -0 -r stat -c %s | awk '{ s += $1 } END { print s + 0 }')
echo
(cd "$KIT" && ls -la --time-style=+ | tail -n +2)
awk -v k="$total" -v t="$tree" 'BEGIN { printf "make-kit: kit %.1f MiB + working tree %.1f MiB = %.1f MiB to send\n", k / 1048576, t / 1048576, (k + t) / 1048576 }'
if [ $((total + tree)) -ge $((60 * 1048576)) ]; then
  echo "make-kit: WARNING: kit and working tree come close to or exceed 64 MiB; try --no-mnist" >&2
fi
