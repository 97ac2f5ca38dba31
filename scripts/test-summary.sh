#!/usr/bin/env bash
# Runs every test project and ends with one line counting passed, failed and skipped tests.
# Exits non-zero when any test failed or a test project failed to run.
set -uo pipefail
configuration="${1:-Release}"
shift || true
log="$(mktemp)"
status=0

projects=(tests/Cri.Interop.Tests tests/Cri.Server.Tests tests/Cri.ImageService.Tests tests/Cri.Runtime.Tests tests/Cri.Chart.Tests tests/Cri.Runtime.IntegrationTests tests/Cri.ImageService.IntegrationTests tests/e2e)
for project in "${projects[@]}"; do
  echo "=== $project"
  # The default console logger prints each failure with its message and stack, then one
  # "Passed!/Failed! - Failed: N, Passed: N, Skipped: N" line per assembly.
  dotnet test "$project" -c "$configuration" --no-build "$@" 2>&1 | tee -a "$log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
done

# dotnet test prints one "Failed!/Passed! - Failed: N, Passed: N, Skipped: N" line per assembly.
read -r passed failed skipped < <(grep -E "(Passed|Failed|Skipped)! +- +Failed:" "$log" | sed -E 's/.*Failed: *([0-9]+), *Passed: *([0-9]+), *Skipped: *([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
runs=$(grep -cE "(Passed|Failed|Skipped)! +- +Failed:" "$log" || true)
# CI shows only the tail of this output: name every failed test again just above the summary line.
failures=$(grep -E "^ +Failed [A-Za-z_]" "$log" | sed -E 's/^ +Failed +//' | sort -u || true)
rm -f "$log"
if [[ -n "$failures" ]]; then
  echo "Failed tests:"
  sed 's/^/  /' <<<"$failures"
fi
if [[ "$runs" -lt ${#projects[@]} ]]; then
  echo "test-summary: only $runs of ${#projects[@]} test projects reported results" >&2
  status=1
fi
[[ "$failed" -eq 0 ]] || status=1
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit $status
