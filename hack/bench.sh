#!/usr/bin/env bash
# Prints each figure of DESIGN.md §9 beside its target, measured in one run:
#   1. the Go benchmarks (raw `go test -bench` output kept in "$dir"/bench.txt);
#   2. hack/scalebench: a sandbox scaled to 10,000 kwok pods in 200 Deployments across 5
#      namespaces, measured with the real bin/kubectl-pyroll (figures kept in
#      .cache/bench-scale.txt, its log in .cache/bench-scale.log): the static figures, then
#      `serve --ssh -A` with 5 OpenSSH sessions (RSS per extra session, idle CPU per console),
#      then the churn phase (100 Deployments rolling, a pod status change every 10 ms, 2 minutes
#      with the console filtered to one of them, 2 unfiltered: event -> screen, and the
#      console's own latency, the same pod version on screen minus delivered by the API server
#      to a bare watcher, p50/p99 against p99 < 100 ms with 100 rollouts churning), and the
#      two-context phase (half the Deployments moved to a second sandbox, one console on both
#      with --all-contexts: RSS against the one context's + 10 MB, idle CPU and bytes). About
#      25 minutes on 2 cores.
# BENCH_CONTEXTS=0 skips the two-context phase.
# BENCH_SCALE=0 skips the sandbox part, BENCH_GO=0 the Go benchmarks, BENCH_CHURN=0 the churn
# phase (BENCH_CHURN=30s shortens it; how many roll: SCALEBENCH_FLAGS="-churn-deployments N",
# default 100, DESIGN's figure); BENCH_PODS=N sizes the sandbox run (default 10000;
# Deployments: max(200, N/100), so N a multiple of 200 up to 20,000 and of 500 above:
# BENCH_PODS=50000 is 500 Deployments x 100 pods, about an hour on 2 cores). SCALEBENCH_FLAGS
# passes more flags to hack/scalebench (go run ./hack/scalebench -h), e.g.
# SCALEBENCH_FLAGS="-churn-also /tmp/kubectl-pyroll" to put a second build through the churn,
# or "-serve-sessions 0" to skip the SSH sessions.
# The third_party/bubbletea copy (go.mod's replace) stays only while it earns it: the sandbox
# part also builds the console without that replace (upstream bubbletea, through a copy of
# go.mod with the replace dropped, used with -modfile) and measures its idle CPU right after
# the console's, the same way (hack/scalebench -idle-also); BENCH_UPSTREAM_TEA=0 skips it.
# BENCH_DIR (default .cache) is where the figures, logs and those builds go.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${BENCH_DIR:-.cache}"
mkdir -p "$dir"
if [ "${BENCH_GO:-1}" != "0" ]; then
go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-100x}" ./... | tee "$dir"/bench.txt | grep -E '^(Benchmark|ok|FAIL|---)' || true
echo
echo "Figures (DESIGN.md §9):"
awk '
function verdict(ok) { return ok ? "met" : "MISSED" }
/^BenchmarkBuild200Deployments5000Pods-/ { printf "  rollout.Build, 200 Deployments / 5,000 pods, a snapshot from nothing out of the watch cache: %.2f ms per build, %d allocs   (target < 5 ms: %s)\n", $3/1e6, $7, verdict($3/1e6 < 5) }
/^BenchmarkBuild200Deployments5000PodsFromAPIObjects/ { printf "  rollout.Build from API objects, every pod read on the way (history; the cache reads a pod once, when it changes): %.2f ms, %d allocs   (no target)\n", $3/1e6, $7 }
/^BenchmarkRebuild200Deployments5000PodsOnePodChanged-/ { printf "  rollout.Builder, a rebuild after one pod changed, the pods in one list (5,000 pods): %.2f ms, %d allocs   (target < 5 ms: %s)\n", $3/1e6, $7, verdict($3/1e6 < 5) }
/^BenchmarkRebuild200Deployments5000PodsOnePodChangedFromIndex-/ { printf "  rollout.Builder, the watcher'"'"'s rebuild after one pod changed, the pods grouped by its index (5,000 pods): %.2f ms, %d allocs   (target < 5 ms: %s)\n", $3/1e6, $7, verdict($3/1e6 < 5) }
/^BenchmarkRetainedBytesPerCachedPod/ {
  for (i = 1; i <= NF; i++) { if ($i == "retained-B/pod") r = $(i-1); if ($i == "untransformed-B/pod") u = $(i-1) }
  printf "  heap retained per cached pod: %d B (untransformed: %d B)   (target <= 2048 B: %s)\n", r, u, verdict(r <= 2048) }
/^BenchmarkBuild200ArgoRollouts5000Pods-/ { printf "  rollout.Build, 200 Argo Rollouts / 5,000 pods with their AnalysisRuns, from the watch cache: %.2f ms per build, %d allocs   (target < 5 ms: %s)\n", $3/1e6, $7, verdict($3/1e6 < 5) }
/^BenchmarkView200ArgoRollouts5000Pods/ { printf "  console View(), 200 Argo Rollouts / 5,000 pods (STEP column): %.3f ms per frame   (target < 1 ms: %s)\n", $3/1e6, verdict($3/1e6 < 1) }
/^BenchmarkView200Rollouts5000Pods/ { printf "  console View(), 200 rollouts / 5,000 pods: %.3f ms per frame   (target < 1 ms: %s)\n", $3/1e6, verdict($3/1e6 < 1) }
/^BenchmarkTerminalBytesArgo/ {
  for (i = 1; i <= NF; i++) { if ($i ~ /^idle-bytes/) { idle = $(i-1); unit = $i } }
  sub("idle-bytes/", "", unit)
  printf "  terminal bytes while nothing changes, 200 Argo Rollouts in view: %d over %s   (target 0: %s)\n", idle, unit, verdict(idle == 0)
  next }
/^BenchmarkTerminalBytes/ {
  for (i = 1; i <= NF; i++) { if ($i ~ /^idle-bytes/) { idle = $(i-1); unit = $i } if ($i == "bytes/pod-change") change = $(i-1); if ($i == "first-frame-bytes") first = $(i-1) }
  sub("idle-bytes/", "", unit)
  printf "  terminal bytes while nothing changes: %d over %s   (target 0: %s)\n", idle, unit, verdict(idle == 0)
  printf "  terminal bytes for one pod status change: %d (first full frame at 80x24: %d)\n", change, first }
/^BenchmarkRoundsWith20Baking/ {
  for (i = 1; i <= NF; i++) { if ($i == "first-round-queries") f = $(i-1); if ($i == "queries/round") rq = $(i-1); if ($i == "baseline-queries") bq = $(i-1) }
  printf "  metrics rounds, 200 rollouts of which 20 in their bake window (fake Prometheus): %.2f ms and %.2f queries per round; the first round %d queries, %d of them the 20 baselines (one per release, kept for its window)   (target: no query per round for a baseline: %s)\n", $3/1e6, rq, f, bq, verdict(rq < 5 && bq == 20)
  next }
/^BenchmarkQueriesPerInterval\/services=/ {
  split($1, a, /[=-]/); for (i = 1; i <= NF; i++) if ($i == "queries/interval") q[a[2]] = $(i-1) }
END {
  if (length(q) > 0)
    printf "  Prometheus queries per interval, one namespace (fake Prometheus): %s with 1 service, %s with 200 (4 metrics, plus the exporter detection once every 30 rounds)   (target one per metric per namespace, whatever the number of services: %s)\n", q["1"], q["200"], verdict(q["1"] == q["200"] && q["1"] < 5)
}
' "$dir"/bench.txt
fi

if [ "${BENCH_SCALE:-1}" != "0" ]; then
  pods="${BENCH_PODS:-10000}"
  churn="${BENCH_CHURN:-2m}"
  [ "$churn" = "1" ] && churn=2m
  echo
  echo "Figures at scale (hack/scalebench: a sandbox with ${pods} kwok pods; progress on stderr, log in ${dir}/bench-scale.log):"
  [ -x bin/kubectl-pyroll ] || { echo "bench: bin/kubectl-pyroll is missing: run make bench (or make build first)" >&2; exit 1; }
  # Run by hand, the script measures whatever bin/ holds: say so when that is not this checkout.
  built=$(bin/kubectl-pyroll version 2>/dev/null | sed -n 's/.*(commit \([^,]*\),.*/\1/p')
  head=$(git rev-parse --short HEAD 2>/dev/null || true)
  if [ -n "$head" ] && [ "$built" != "$head" ]; then
    echo "bench: bin/kubectl-pyroll was built from ${built:-an unknown commit}, the checkout is $head: these figures are that build's (make bench builds first)" >&2
  fi
  go build -o "$dir"/scalebench ./hack/scalebench
  also=()
  if [ "${BENCH_UPSTREAM_TEA:-1}" != "0" ] && grep -q '^replace charm.land/bubbletea/v2 ' go.mod; then
    # The same build as bin/kubectl-pyroll (make build's flags) but for the replace.
    cp go.mod "$dir"/go.upstream-tea.mod
    cp go.sum "$dir"/go.upstream-tea.sum
    go mod edit -dropreplace=charm.land/bubbletea/v2 "$dir"/go.upstream-tea.mod
    pkg=github.com/pyroll/kubectl-pyroll
    go build -modfile "$dir"/go.upstream-tea.mod -trimpath \
      -ldflags "-s -w -X $pkg/internal/version.Version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)-upstream-tea -X $pkg/internal/version.Commit=${head:-unknown}" \
      -o "$dir"/kubectl-pyroll-upstream-tea ./cmd/kubectl-pyroll
    also=(-idle-also "$dir"/kubectl-pyroll-upstream-tea -idle-also-label "without the third_party/bubbletea patch (upstream $(go list -m -f '{{.Path}} {{.Version}}' charm.land/bubbletea/v2))")
  fi
  # The sandbox's own log lines go to the log file; the benchmark's progress lines to stderr.
  # shellcheck disable=SC2086 # SCALEBENCH_FLAGS is a list of flags
  contexts=()
  if [ "${BENCH_CONTEXTS:-1}" != "0" ]; then
    contexts=(-contexts-phase)
  fi
  "$dir"/scalebench -pods "$pods" -churn "$churn" "${also[@]}" "${contexts[@]}" ${SCALEBENCH_FLAGS:-} -out "$dir"/bench-scale.txt 2> >(tee "$dir"/bench-scale.log | grep --line-buffered '^scalebench: ' >&2)
fi
