#!/usr/bin/env bash
# The project's test command (README): installs the packages the tests need (scripts/test-setup.sh; skip it with
# OPENVISION_SKIP_SETUP=1), builds everything and runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/test-setup.sh

log=$(mktemp "${TMPDIR:-/tmp}/openvision-test.XXXXXX")
status=0
dotnet test OpenVision.slnx -c Release "$@" 2>&1 | tee "$log" || status=$?
# A plain closing line that any CI reader understands.
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "test log: ${log}"
echo "tests: ${passed} passed, ${failed} failed"
if ((status == 0 && failed > 0)); then status=1; fi
exit "$status"
