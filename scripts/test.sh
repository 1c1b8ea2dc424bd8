#!/usr/bin/env bash
# The project's test command (README): installs the packages the tests need (scripts/test-setup.sh; skip it with
# OPENVISION_SKIP_SETUP=1), builds everything, runs every test project, then the consumer test
# (scripts/consumer-test.sh: the packages and the tool used from a local feed, as a stranger would). The parity tests
# run a second time with kernels capped at AVX2.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/test-setup.sh

# The parity tests compare with the reference outputs; without them hundreds of tests would fail one by one.
reference="${OPENVISION_REFERENCE:-$(cd .. && pwd)/shared/reference}"
if [[ ! -f "$reference/README.md" ]]; then
  echo "test.sh: reference data not found at $reference; set OPENVISION_REFERENCE to the shared/reference folder" >&2
  exit 2
fi

log=$(mktemp "${TMPDIR:-/tmp}/openvision-test.XXXXXX")
consumer_log=$(mktemp "${TMPDIR:-/tmp}/openvision-consumer-test.XXXXXX")
status=0
dotnet test OpenVision.slnx -c Release "$@" 2>&1 | tee "$log" || status=$?
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')

# The parity tests again with the kernels a CPU without AVX-512 gets (libtorch, oneDNN and MKL capped at AVX2, our
# AVX512-BF16 linear kernels off, our float32 blocks in their AVX2 build): the tolerances are derived from the
# arithmetic, so they must hold whichever kernels run. On such a CPU this repeats the main pass.
isa_log=$(mktemp "${TMPDIR:-/tmp}/openvision-test-avx2.XXXXXX")
ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 OPENVISION_BF16_KERNELS=0 OPENVISION_F32_KERNELS=avx2 \
    dotnet test tests/OpenVision.Tests -c Release --no-build --filter "FullyQualifiedName~OpenVision.Tests.Parity" 2>&1 | tee "$isa_log" || status=$?
passed=$((passed + $(grep -Eo 'Passed: +[0-9]+' "$isa_log" | awk '{s+=$2} END {print s+0}')))
failed=$((failed + $(grep -Eo 'Failed: +[0-9]+' "$isa_log" | awk '{s+=$2} END {print s+0}')))

# Each PASS/FAIL line of the consumer test counts as one test.
consumer=0
./scripts/consumer-test.sh 2>&1 | tee "$consumer_log" || consumer=$?
passed=$((passed + $(grep -c '^PASS ' "$consumer_log" || true)))
consumer_failed=$(grep -c '^FAIL ' "$consumer_log" || true)
if ((consumer != 0 && consumer_failed == 0)); then consumer_failed=1; fi
failed=$((failed + consumer_failed))

# A plain closing line that any CI reader understands.
echo "test logs: ${log} ${isa_log} ${consumer_log}"
echo "tests: ${passed} passed, ${failed} failed"
if ((status != 0 || consumer != 0 || failed != 0)); then exit 1; fi
