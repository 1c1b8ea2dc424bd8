#!/usr/bin/env bash
# Builds the float32 kernel library (AVX-512 where the CPU has it, else AVX2) at a commit and from the working tree,
# then times whole towers of both in turn with tower_harness.c (which also prints the threads' waits at barriers):
# ViT-Ti and ViT-B shapes at batch 1, ViT-B also at batch 8 unless CALLS_B8=0, ViT-Ti also at batch 32 (where the rows
# are partly claimed, not shared by speed) unless CALLS_B32=0. The towers get the thread count the app passes
# (torch.get_num_threads(), the cores: THREADS overrides), which decides whether ViT-Ti runs split by rows at batch 1.
# Usage: benchmarks/native/compare.sh [COMMIT (default HEAD)] [CALLS (default 30)]
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
commit=${1:-HEAD}
calls=${2:-30}
torch=$(find "$root/src" "$HOME/.nuget/packages/libtorch-cpu-linux-x64" -name libtorch_cpu.so 2>/dev/null | head -n 1)
[ -n "$torch" ] || { echo "libtorch_cpu.so not found: build the solution first (dotnet build OpenVision.slnx -c Release)" >&2; exit 1; }
if grep -qw avx512f /proc/cpuinfo; then source=openvision_f32.c; else source=openvision_f32_avx2.c; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
native=src/OpenVision/Native
mkdir -p "$work/before"
git -C "$root" archive "$commit" "$native" | tar -x -C "$work/before"
short=$(git -C "$root" rev-parse --short "$commit")
before="$work/$short.so" after="$work/working-tree.so"
# Waits are counted where the commit's code can (-DOV_COUNT_WAITS; ignored by code before it).
cc -shared -fPIC -O3 -DOV_COUNT_WAITS -o "$before" "$work/before/$native/$source" -ldl -lm
cc -shared -fPIC -O3 -DOV_COUNT_WAITS -o "$after" "$root/$native/$source" -ldl -lm
cc -O2 -o "$work/tower_harness" "$root/benchmarks/native/tower_harness.c" -ldl -lm
export THREADS=${THREADS:-$(nproc)}
echo "$source at $commit ($short) against the working tree; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, THREADS=$THREADS"

TORCH=$torch "$work/tower_harness" 192 3 1 "$calls" "$before" "$after"
TORCH=$torch "$work/tower_harness" 768 12 1 "$calls" "$before" "$after"
if [ "${CALLS_B8:-1}" != 0 ]; then TORCH=$torch "$work/tower_harness" 768 12 8 "$(( (calls + 3) / 4 ))" "$before" "$after"; fi
if [ "${CALLS_B32:-1}" != 0 ]; then TORCH=$torch "$work/tower_harness" 192 3 32 "$(( (calls + 3) / 4 ))" "$before" "$after"; fi
