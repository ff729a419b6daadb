#!/usr/bin/env bash
# Runs the Go benchmarks and prints each figure of DESIGN.md §9 that exists so far beside
# its target. The raw `go test -bench` output is kept in .cache/bench.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-100x}" ./... | tee .cache/bench.txt | grep -E '^(Benchmark|ok|FAIL|---)' || true
echo
echo "Figures (DESIGN.md §9):"
awk '
/^BenchmarkBuild200Deployments5000Pods/ { printf "  rollout.Build, 200 Deployments / 5,000 pods: %.2f ms per build, %d allocs   (target < 5 ms)\n", $3/1e6, $7 }
/^BenchmarkRetainedBytesPerCachedPod/ {
  for (i = 1; i <= NF; i++) { if ($i == "retained-B/pod") r = $(i-1); if ($i == "untransformed-B/pod") u = $(i-1) }
  printf "  heap retained per cached pod: %d B (untransformed: %d B)   (target <= 2048 B)\n", r, u }
/^BenchmarkView200Rollouts5000Pods/ { printf "  console View(), 200 rollouts / 5,000 pods: %.3f ms per frame   (target < 1 ms)\n", $3/1e6 }
/^BenchmarkTerminalBytes/ {
  for (i = 1; i <= NF; i++) { if ($i ~ /^idle-bytes/) { idle = $(i-1); unit = $i } if ($i == "bytes/pod-change") change = $(i-1); if ($i == "first-frame-bytes") first = $(i-1) }
  sub("idle-bytes/", "", unit)
  printf "  terminal bytes while nothing changes: %d over %s   (target 0)\n", idle, unit
  printf "  terminal bytes for one pod status change: %d (first full frame at 80x24: %d)\n", change, first }
' .cache/bench.txt
