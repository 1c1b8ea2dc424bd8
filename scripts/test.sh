#!/usr/bin/env bash
# The project's test command (README): builds everything, runs every test project, then the consumer test
# (scripts/consumer-test.sh: the packages and the tool used from a local feed, as a stranger would).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
dotnet test OpenVision.slnx -c Release "$@" 2>&1 | tee /tmp/openvision-test.log || status=$?
passed=$(grep -Eo 'Passed: +[0-9]+' /tmp/openvision-test.log | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' /tmp/openvision-test.log | awk '{s+=$2} END {print s+0}')
# Each PASS/FAIL line of the consumer test counts as one test.
consumer=0
./scripts/consumer-test.sh 2>&1 | tee /tmp/openvision-consumer-test.log || consumer=$?
passed=$((passed + $(grep -c '^PASS ' /tmp/openvision-consumer-test.log || true)))
consumer_failed=$(grep -c '^FAIL ' /tmp/openvision-consumer-test.log || true)
if ((consumer != 0 && consumer_failed == 0)); then consumer_failed=1; fi
failed=$((failed + consumer_failed))
# A plain closing line that any CI reader understands.
echo "tests: ${passed} passed, ${failed} failed"
if ((status != 0 || consumer != 0 || failed != 0)); then exit 1; fi
