#!/usr/bin/env bash
# Runs shaderprop's benchmarks on a machine with a GPU driver but no Node.js
# and no network, from the kit that bench/gpu/make-kit.sh built in .gpu/.
# Run it from anywhere; it works in the repository root:
#
#   bash bench/gpu/run.sh [--quick]        (or QUICK=1)
#
# It unpacks node and node_modules into a temporary folder (node_modules is
# linked into the repository root when the root has none), makes the Vulkan
# loader available (the machine's own, else the kit's .deb unpacked into the
# temporary folder and put on LD_LIBRARY_PATH, and as root also into /),
# points Vulkan at the NVIDIA driver when the default adapter probe finds no
# NVIDIA adapter, prints nvidia-smi, and then runs, each under `timeout`, a
# failing step not stopping the next:
#
#   1. bench/train-throughput.ts: kernel rates (every variant of each family,
#      1024³, 4096³, the models' shapes), step profiles, the models beside
#      TensorFlow.js-WebGPU, in interleaved rounds;
#   2. torch_bench.py (PyTorch eager and CUDA graph; the kit carries a copy);
#   3. bench/epochs.ts: epoch times and time to 99 %;
#   4. the test suite on this adapter (vitest, files in parallel);
#   5. (only when STEPS names it) `registry`: notebook ids at full size with
#      `shaderprop run --seeds --jobs`, for the table of notebook numbers;
#
# and leaves three files in $OUT: run.log (everything printed), results.json
# (every step's results) and summary.md (one table with the ratios, from
# bench/gpu/summary.ts). OUT defaults to ./gpu-out. --quick runs small sizes
# and a few test files, so the whole run takes a few minutes on a CPU adapter
# (SwiftShader): a dry run, not a measurement. On a machine that has node_modules and a
# Vulkan driver already, the kit is used for node only when there is no node.
#
# Environment: OUT, KIT (default ./.gpu), MNIST_DIR, QUICK=1,
# BENCH_TIMEOUT / TORCH_TIMEOUT / EPOCHS_TIMEOUT / TESTS_TIMEOUT (seconds per
# step), BENCH_ROUNDS, BENCH_SECONDS, TEST_WORKERS, STEPS (default
# "bench torch epochs tests"), SKIP_TORCH=1, EPOCHS_WARM=0, EPOCHS_ARGS (more
# arguments for bench/epochs.ts, e.g. "--time-limit 200"), KIT_VULKAN=1 (use
# the kit's Vulkan loader even where the machine has one), NVIDIA_ICD_DIRS
# (the folders searched for nvidia*.json, space-separated).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
QUICK=${QUICK:-0}
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-$ROOT/gpu-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
KIT=${KIT:-$ROOT/.gpu}
if [ "$QUICK" = 1 ]; then
  BENCH_TIMEOUT=${BENCH_TIMEOUT:-300}
  TORCH_TIMEOUT=${TORCH_TIMEOUT:-120}
  EPOCHS_TIMEOUT=${EPOCHS_TIMEOUT:-150}
  TESTS_TIMEOUT=${TESTS_TIMEOUT:-300}
  REGISTRY_TIMEOUT=${REGISTRY_TIMEOUT:-300}
else
  # About 8 minutes in all, inside a 10-minute limit on one command.
  BENCH_TIMEOUT=${BENCH_TIMEOUT:-180}
  TORCH_TIMEOUT=${TORCH_TIMEOUT:-90}
  EPOCHS_TIMEOUT=${EPOCHS_TIMEOUT:-90}
  TESTS_TIMEOUT=${TESTS_TIMEOUT:-100}
fi

exec > >(tee -a "$OUT/run.log") 2>&1
TEE_PID=$!
STARTED=$(date +%s)
say() { echo "[run.sh +$(( $(date +%s) - STARTED ))s] $*"; }
say "$(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n), $(uname -srm), $(nproc) CPUs, user $(id -un), quick=$QUICK"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shaderprop-gpu.XXXXXX")
LINKED_NODE_MODULES=0
cleanup() {
  [ "$LINKED_NODE_MODULES" = 1 ] && [ -L "$ROOT/node_modules" ] && rm -f "$ROOT/node_modules"
  rm -rf "$WORK"
  # Let tee write the last lines of run.log before the script returns.
  exec 1>&- 2>&-
  wait "$TEE_PID" 2>/dev/null
}
trap cleanup EXIT

# xz -d to stdout, with python3's lzma where there is no xz.
unxz_to_stdout() {
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$1"
  elif command -v python3 >/dev/null 2>&1 && python3 -c 'import lzma' 2>/dev/null; then
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"
  else
    echo "run.sh: neither xz nor python3 with lzma is here to unpack $1" >&2
    return 1
  fi
}

# --- node ---------------------------------------------------------------------
mkdir -p "$WORK/bin"
NODE=""
if [ -f "$KIT/node.xz" ]; then
  if unxz_to_stdout "$KIT/node.xz" > "$WORK/bin/node" && chmod +x "$WORK/bin/node"; then
    if ! "$WORK/bin/node" -e '' 2>/dev/null && [ -f "$KIT/libs.tar.xz" ]; then
      say "the kit's node does not start with this machine's libraries; adding the kit's libstdc++/libgcc_s"
      mkdir -p "$WORK/lib"
      unxz_to_stdout "$KIT/libs.tar.xz" | tar -C "$WORK/lib" -xf -
      export LD_LIBRARY_PATH="$WORK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
    if "$WORK/bin/node" -e ''; then NODE="$WORK/bin/node"; fi
  fi
fi
if [ -z "$NODE" ]; then
  NODE=$(command -v node || true)
  [ -n "$NODE" ] && say "no usable node in the kit ($KIT); using $NODE"
fi
if [ -z "$NODE" ]; then
  say "FATAL: no node: build the kit with bash bench/gpu/make-kit.sh and send .gpu/ along"
  exit 1
fi
export PATH="$(dirname "$NODE"):$PATH"
say "node $("$NODE" -v) at $NODE"

# --- node_modules -------------------------------------------------------------
if [ -e "$ROOT/node_modules/webgpu/package.json" ] && [ -e "$ROOT/node_modules/tsx/package.json" ]; then
  say "using the repository's own node_modules"
elif [ -f "$KIT/node_modules.tar.xz" ]; then
  mkdir -p "$WORK/node_modules"
  unxz_to_stdout "$KIT/node_modules.tar.xz" | tar -C "$WORK/node_modules" -xf -
  if [ ! -e "$ROOT/node_modules" ] || [ -L "$ROOT/node_modules" ]; then
    rm -f "$ROOT/node_modules"
    if ln -s "$WORK/node_modules" "$ROOT/node_modules" 2>/dev/null; then
      LINKED_NODE_MODULES=1
      say "node_modules from the kit, linked into the repository root"
    else
      # A read-only tree: run from a copy of it instead.
      say "cannot write to $ROOT; running from a copy in $WORK/repo"
      mkdir -p "$WORK/repo"
      tar -C "$ROOT" --exclude=./.gpu --exclude=./node_modules -cf - . | tar -C "$WORK/repo" -xf -
      ln -s "$WORK/node_modules" "$WORK/repo/node_modules"
      cd "$WORK/repo" || exit 1
    fi
  else
    # A partial node_modules is there: add what it lacks, leave the rest.
    cp -a -n "$WORK/node_modules/." "$ROOT/node_modules/"
    say "node_modules from the kit, copied into the existing node_modules where missing"
  fi
else
  say "FATAL: no node_modules here and none in the kit ($KIT/node_modules.tar.xz)"
  exit 1
fi

# --- Vulkan loader ------------------------------------------------------------
has_system_vulkan() {
  { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } | grep -q 'libvulkan\.so\.1 ' && return 0
  for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /lib/x86_64-linux-gnu; do
    [ -e "$d/libvulkan.so.1" ] && return 0
  done
  return 1
}
# KIT_VULKAN=1 takes the kit's loader even where the machine has one (to test the kit).
if [ "${KIT_VULKAN:-0}" != 1 ] && has_system_vulkan; then
  say "Vulkan loader: the machine's own"
else
  DEB=$(ls "$KIT"/libvulkan1_*.deb 2>/dev/null | head -1)
  VKLIB=""
  if [ -n "$DEB" ] && command -v dpkg >/dev/null 2>&1; then
    dpkg -x "$DEB" "$WORK/vulkan" && VKLIB="$WORK/vulkan/usr/lib/x86_64-linux-gnu"
    # As root, also where the system looks (a machine that starts fresh each time).
    if [ "$(id -u)" = 0 ] && [ "${KIT_VULKAN:-0}" != 1 ]; then
      if dpkg -x "$DEB" / && { /sbin/ldconfig 2>/dev/null || ldconfig 2>/dev/null; }; then
        say "Vulkan loader: $(basename "$DEB") unpacked into / as well"
      fi
    fi
  elif [ -n "$DEB" ] && command -v ar >/dev/null 2>&1; then
    mkdir -p "$WORK/vulkan" && (cd "$WORK/vulkan" && ar x "$DEB" && tar -xf data.tar.* ) && VKLIB="$WORK/vulkan/usr/lib/x86_64-linux-gnu"
  elif ls "$KIT"/libvulkan.so.1* >/dev/null 2>&1; then
    mkdir -p "$WORK/vulkan/lib" && cp -P "$KIT"/libvulkan.so.1* "$WORK/vulkan/lib/" && VKLIB="$WORK/vulkan/lib"
  fi
  if [ -n "$VKLIB" ] && [ -e "$VKLIB/libvulkan.so.1" ]; then
    export LD_LIBRARY_PATH="$VKLIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    say "Vulkan loader: from the kit, LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  else
    say "WARNING: no Vulkan loader on this machine and none usable in the kit"
  fi
fi
# libglvnd and its front ends, which the NVIDIA ICD (libGLX_nvidia.so.0) needs: as
# root into / (a bare machine), else beside the loader on LD_LIBRARY_PATH.
if ls "$KIT"/gl/*.deb >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    for f in "$KIT"/gl/*.deb; do dpkg -x "$f" /; done
    { /sbin/ldconfig 2>/dev/null || ldconfig 2>/dev/null; } && say "GL dispatch libraries: $(ls "$KIT"/gl/*.deb | wc -l) packages unpacked into /"
  else
    mkdir -p "$WORK/gl"
    for f in "$KIT"/gl/*.deb; do dpkg -x "$f" "$WORK/gl"; done
    export LD_LIBRARY_PATH="$WORK/gl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    say "GL dispatch libraries: from the kit on LD_LIBRARY_PATH"
  fi
fi
# The NVIDIA driver's user-space libraries, where a container mounts them.
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$d" ] && case ":${LD_LIBRARY_PATH:-}:" in *":$d:"*) ;; *) export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d" ;; esac
done

# --- adapter ------------------------------------------------------------------
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
probe() { timeout 60 "$NODE" bench/gpu/probe.mjs 2>"$WORK/probe.err"; }
probe_errors() { [ -s "$WORK/probe.err" ] && sed 's/^/  probe: /' "$WORK/probe.err" | tail -20; }
PROBE=$(probe)
say "default adapter probe: ${PROBE:-no answer} ${VK_ICD_FILENAMES:+(VK_ICD_FILENAMES=$VK_ICD_FILENAMES)}${VK_DRIVER_FILES:+(VK_DRIVER_FILES=$VK_DRIVER_FILES)}"
if ! echo "$PROBE" | grep -qi '"found":true.*nvidia\|"vendor":"nvidia'; then
  ICD=""
  # shellcheck disable=SC2086
  for d in ${NVIDIA_ICD_DIRS:-/usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d}; do
    for f in "$d"/nvidia*.json; do
      [ -f "$f" ] && { ICD="$f"; break 2; }
    done
  done
  if [ -n "$ICD" ]; then
    SAVED_ICD=${VK_ICD_FILENAMES-__unset__}
    SAVED_DRIVER=${VK_DRIVER_FILES-__unset__}
    export VK_DRIVER_FILES="$ICD" VK_ICD_FILENAMES="$ICD"
    PROBE_NV=$(probe)
    say "probe with VK_DRIVER_FILES=$ICD: ${PROBE_NV:-no answer}"
    if ! echo "$PROBE_NV" | grep -q '"found":true'; then
      say "the NVIDIA ICD gave no adapter; going back to the default driver search"
      probe_errors
      if [ "$SAVED_ICD" = __unset__ ]; then unset VK_ICD_FILENAMES; else export VK_ICD_FILENAMES="$SAVED_ICD"; fi
      if [ "$SAVED_DRIVER" = __unset__ ]; then unset VK_DRIVER_FILES; else export VK_DRIVER_FILES="$SAVED_DRIVER"; fi
    fi
  else
    say "no NVIDIA Vulkan ICD (nvidia*.json) found; shaderprop picks its own adapter (SwiftShader where installed)"
    echo "$PROBE" | grep -q '"found":true' || probe_errors
  fi
fi

# --- the GPU ------------------------------------------------------------------
if command -v nvidia-smi >/dev/null 2>&1; then
  say "nvidia-smi:"
  nvidia-smi 2>&1
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.sm --format=csv 2>&1
else
  say "no nvidia-smi on this machine"
fi

# --- MNIST --------------------------------------------------------------------
MNIST=""
for d in "${MNIST_DIR:-}" "$KIT/mnist" "$ROOT/shared/mnist" "$ROOT/../shared/mnist"; do
  [ -n "$d" ] && [ -f "$d/train-images-idx3-ubyte.gz" -o -f "$d/train-images-idx3-ubyte" ] && { MNIST="$d"; break; }
done
say "MNIST: ${MNIST:-not found (bench/epochs.ts will say so)}"

# --- the steps ----------------------------------------------------------------
STATUS=""
LOGS="$WORK/logs"
# STEPS: which of them to run (default: bench torch epochs tests; registry only when named).
STEPS=" ${STEPS:-bench torch epochs tests} "
wanted() { case "$STEPS" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
mkdir -p "$LOGS"
step() { # name, seconds, command...
  local name=$1 seconds=$2
  shift 2
  say "step $name (at most ${seconds}s): $*"
  local t0=$(date +%s)
  timeout --kill-after=15 "$seconds" "$@" > "$LOGS/$name.out" 2> >(tee "$LOGS/$name.err" >&2)
  local rc=$?
  sleep 0.2
  local dt=$(( $(date +%s) - t0 ))
  local what="ok"
  { [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && what="TIMED OUT"
  [ "$rc" != 0 ] && [ "$what" = ok ] && what="FAILED"
  say "step $name: $what (exit $rc) after ${dt}s"
  STATUS+="$name: $what (exit $rc, ${dt}s); "
}

# 1. Kernel rates, step profiles and the models beside TensorFlow.js (WebGPU on the same adapter).
BENCH_ARGS=(--json --out "$LOGS/bench.json" --tfjs-backends webgpu --no-unchecked --rounds "${BENCH_ROUNDS:-3}" --seconds "${BENCH_SECONDS:-0.4}" --kernel-seconds 0.1)
[ "$QUICK" = 1 ] && BENCH_ARGS+=(--quick)
wanted bench && step bench "$BENCH_TIMEOUT" "$NODE" --import ./demo/register.mjs bench/train-throughput.ts "${BENCH_ARGS[@]}"

# 2. PyTorch on the same models (eager, and the step in one CUDA graph), where python3 has torch.
TORCH_PY=""
for f in "$KIT/torch_bench.py" "$ROOT/../shared/gpu/torch_bench.py"; do [ -f "$f" ] && { TORCH_PY="$f"; break; }; done
if [ "${SKIP_TORCH:-0}" = 1 ] || ! wanted torch; then
  say "step torch: skipped (SKIP_TORCH=1)"
elif [ -n "$TORCH_PY" ] && [ -n "$MNIST" ] && command -v python3 >/dev/null && python3 -c 'import torch' 2>/dev/null; then
  TORCH_ARGS=(--mnist "$MNIST" --seconds "${BENCH_SECONDS:-0.4}" --budget $((TORCH_TIMEOUT > 40 ? TORCH_TIMEOUT - 25 : TORCH_TIMEOUT)))
  [ "$QUICK" = 1 ] && TORCH_ARGS+=(--small)
  step torch "$TORCH_TIMEOUT" env PYTHONUNBUFFERED=1 python3 "$TORCH_PY" "${TORCH_ARGS[@]}"
else
  say "step torch: skipped (${TORCH_PY:-no torch_bench.py in the kit}; python3 with torch: $(python3 -c 'import torch; print(torch.__version__)' 2>/dev/null || echo no))"
fi

# 3. Epoch times and time to 99 % (bench/epochs.ts stops starting new epochs 30 s before its limit).
EPOCHS=(--json --out "$LOGS/epochs.json" --budget $((EPOCHS_TIMEOUT > 60 ? EPOCHS_TIMEOUT - 30 : EPOCHS_TIMEOUT)))
[ -n "$MNIST" ] && EPOCHS+=(--mnist "$MNIST")
[ "$QUICK" = 1 ] && EPOCHS+=(--quick)
# shellcheck disable=SC2206
[ -n "${EPOCHS_ARGS:-}" ] && EPOCHS+=(${EPOCHS_ARGS})
wanted epochs && step epochs "$EPOCHS_TIMEOUT" "$NODE" --import ./demo/register.mjs bench/epochs.ts "${EPOCHS[@]}"
# The recipe again in a new process: kernel choices now come from the cache the first run filled.
if [ "${EPOCHS_WARM:-1}" = 1 ] && wanted epochs; then
  WARM=(--json --out "$LOGS/epochs-warm.json" --only recipe --budget $((EPOCHS_TIMEOUT > 60 ? EPOCHS_TIMEOUT - 30 : EPOCHS_TIMEOUT)))
  [ -n "$MNIST" ] && WARM+=(--mnist "$MNIST")
  [ "$QUICK" = 1 ] && WARM+=(--quick)
  step epochs-warm "$EPOCHS_TIMEOUT" "$NODE" --import ./demo/register.mjs bench/epochs.ts "${WARM[@]}"
fi

# 4. The test suite on this adapter (files in parallel; not the browser or slow tiers).
[ -n "$MNIST" ] && export MNIST_DIR="$MNIST"
if ! wanted tests; then
  :
elif [ -e node_modules/vitest/vitest.mjs ]; then
  if [ "$QUICK" = 1 ]; then
    TESTS=(test/kernels/gemm.test.ts test/kernels/tuner.test.ts test/model/large-batch.test.ts)
  else
    # Not the package test: it packs and installs with npm, which the kit does not carry.
    TESTS=(--fileParallelism --maxWorkers "${TEST_WORKERS:-8}" --exclude 'test/slow/**' --exclude 'test/report/browser.test.ts' --exclude 'test/package/**')
  fi
  step tests "$TESTS_TIMEOUT" "$NODE" node_modules/vitest/vitest.mjs run --reporter=dot "${TESTS[@]}"
  sed 's/\x1b\[[0-9;]*m//g' "$LOGS/tests.out" | grep -v '^$' | tail -40 > "$LOGS/tests.tail"
else
  say "step tests: skipped (no vitest in the kit's node_modules)"
fi

# 5. Notebook ids at full size, with seed spreads (STEPS="registry"; the run's summary table goes into summary.md).
if wanted registry; then
  # shellcheck disable=SC2206
  REG_IDS=(${REGISTRY_IDS:-'s*'})
  REG=(run "${REG_IDS[@]}" --out "$WORK/registry" --seeds "${REGISTRY_SEEDS:-3}" --jobs "${REGISTRY_JOBS:-4}" --json)
  [ "$QUICK" = 1 ] && REG+=(--quick)
  [ -n "$MNIST" ] && REG+=(--data "$MNIST")
  step registry "${REGISTRY_TIMEOUT:-540}" "$NODE" demo/cli/shaderprop.mjs "${REG[@]}"
  [ -f "$WORK/registry/report.json" ] && cp "$WORK/registry/report.json" "$LOGS/registry.json"
  [ -f "$WORK/registry/summary.md" ] && cp "$WORK/registry/summary.md" "$LOGS/registry.md"
fi

# --- results: at most three files ------------------------------------------------
"$NODE" --import ./demo/register.mjs bench/gpu/summary.ts --bench "$LOGS/bench.json" --torch "$LOGS/torch.out" \
  --epochs "$LOGS/epochs.json" --epochs-warm "$LOGS/epochs-warm.json" --tests "$LOGS/tests.out" > "$OUT/summary.md" 2>> "$OUT/run.log"
if [ -f "$LOGS/registry.md" ]; then
  { echo; echo "## Notebook ids at full size (shaderprop run, ${REGISTRY_SEEDS:-3} seeds)"; echo; cat "$LOGS/registry.md"; echo; } >> "$OUT/summary.md"
fi
"$NODE" -e '
  const fs = require("node:fs"), dir = process.argv[1];
  const read = (f) => { try { return fs.readFileSync(dir + "/" + f, "utf8"); } catch { return null; } };
  const json = (f) => { const t = read(f); try { return t && JSON.parse(t); } catch { return null; } };
  const lines = (f) => (read(f) || "").split("\n").filter((l) => l.startsWith("{")).map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Boolean);
  fs.writeFileSync(process.argv[2], JSON.stringify({ bench: json("bench.json"), torch: lines("torch.out"), epochs: json("epochs.json"), epochsWarm: json("epochs-warm.json"), tests: read("tests.tail"), registry: json("registry.json") }, null, 1));
' "$LOGS" "$OUT/results.json"
cat "$OUT/summary.md"
say "done: $STATUS"
say "files in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
