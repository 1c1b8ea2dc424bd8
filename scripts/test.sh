#!/usr/bin/env bash
# The project's test command (README): builds everything and runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet test OpenVision.slnx -c Release "$@" 2>&1 | tee /tmp/openvision-test.log
# A plain closing line that any CI reader understands.
passed=$(grep -Eo 'Passed: +[0-9]+' /tmp/openvision-test.log | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' /tmp/openvision-test.log | awk '{s+=$2} END {print s+0}')
echo "tests: ${passed} passed, ${failed} failed"
