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
#   bench/train-throughput.ts --json --out $OUT/bench.json   (log: bench.log)
#   bench/epochs.ts --json --out $OUT/epochs.json           (log: epochs.log)
#
# Everything it prints also goes to $OUT/run.log. OUT defaults to ./gpu-out.
# --quick passes small sizes to bench/epochs.ts (bench/train-throughput.ts has
# no size options and runs as it is), so the whole run takes a few minutes on
# a CPU adapter (SwiftShader). On a machine that has node_modules and a
# Vulkan driver already, the kit is used for node only when there is no node.
#
# Environment: OUT, KIT (default ./.gpu), MNIST_DIR, QUICK=1,
# BENCH_TIMEOUT / EPOCHS_TIMEOUT (seconds per step), EPOCHS_ARGS (more
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
  BENCH_TIMEOUT=${BENCH_TIMEOUT:-150}
  EPOCHS_TIMEOUT=${EPOCHS_TIMEOUT:-150}
else
  # About 9 minutes in all, inside a 10-minute limit on one command.
  BENCH_TIMEOUT=${BENCH_TIMEOUT:-180}
  EPOCHS_TIMEOUT=${EPOCHS_TIMEOUT:-330}
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
  for d in ${NVIDIA_ICD_DIRS:-/usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d /usr/local/share/vulkan/icd.d}; do
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
step() { # name, seconds, command...
  local name=$1 seconds=$2
  shift 2
  say "step $name (at most ${seconds}s): $*"
  local t0=$(date +%s)
  timeout --kill-after=15 "$seconds" "$@" 2>&1 | tee "$OUT/$name.log"
  local rc=${PIPESTATUS[0]}
  local dt=$(( $(date +%s) - t0 ))
  local what="ok"
  [ "$rc" = 124 ] || [ "$rc" = 137 ] && what="TIMED OUT"
  [ "$rc" != 0 ] && [ "$what" = ok ] && what="FAILED"
  say "step $name: $what (exit $rc) after ${dt}s"
  STATUS+="$name: $what (exit $rc, ${dt}s); "
}

step bench "$BENCH_TIMEOUT" "$NODE" --import ./demo/register.mjs bench/train-throughput.ts --json --out "$OUT/bench.json"

# bench/epochs.ts stops starting new epochs of its recipe 30 s before the step's limit.
EPOCHS=(--json --out "$OUT/epochs.json" --budget $((EPOCHS_TIMEOUT > 60 ? EPOCHS_TIMEOUT - 30 : EPOCHS_TIMEOUT)))
[ -n "$MNIST" ] && EPOCHS+=(--mnist "$MNIST")
[ "$QUICK" = 1 ] && EPOCHS+=(--quick)
# shellcheck disable=SC2206
[ -n "${EPOCHS_ARGS:-}" ] && EPOCHS+=(${EPOCHS_ARGS})
step epochs "$EPOCHS_TIMEOUT" "$NODE" --import ./demo/register.mjs bench/epochs.ts "${EPOCHS[@]}"

say "done: $STATUS"
say "files in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
