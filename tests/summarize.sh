# summarize: prints a digest of the failed tests, then "N passed, N failed", from the .trx files under $log/results.
# Needs $log and $status; sets $passed and $failed. Sourced by tests/run.sh and by .ci/run (for a run that ended early).
summarize() {
  passed=0 failed=0
  for trx in "$log"/results/*.trx; do
    [ -f "$trx" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<< "$counters")
    f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<< "$counters")
    e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<< "$counters")
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0}))
  done
  # One report per test assembly, and one more: tests/run.sh runs the engine's tests a second time on PostgreSQL.
  projects=$(( $(grep -c '<IsTestProject>true' tests/*/*.csproj | awk -F: '{s+=$2} END {print s}') + 1 ))
  reports=$(ls "$log"/results/*.trx 2>/dev/null | wc -l)
  if [ "$reports" -lt "$projects" ]; then
    echo "only $reports of $projects test assemblies reported results (a test host crashed?)"
    failed=$((failed + projects - reports))
  fi
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  # What failed, last, where a reader of only the end of the output still sees it.
  [ "$failed" -gt 0 ] && python3 tests/failure-digest.py "$log"/results/*.trx 2>/dev/null
  echo "$passed passed, $failed failed"
}
