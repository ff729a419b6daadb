//go:build e2e

package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
)

// Error rates in the console against the real Prometheus: an idle service is never 0%, and
// Prometheus going away is said at once (everything else stays live) and recovers.
func TestConsoleMetricsStates(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	busy, _ := releaseV1V2(ns, "busy-api")
	busy.ErrorRate = 0.02
	idle, _ := releaseV1V2(ns, "idle-api")
	idle.NoTraffic = true
	applyComplete(t, busy)
	applyComplete(t, idle)

	pane := startTmux(t, 120, 24)
	pane.keys(pyrollBinary() + " --kubeconfig " + sb.Kubeconfig + " --prometheus-url " + sb.PrometheusURL + " --metrics-interval 2s -n " + ns)
	pane.key("Enter")
	// busy-api settles on one revision, so its ERR% cell is that revision's error rate alone
	// (no "/stable"), as list.FormatRate writes it: percent with one decimal, near the 2% its
	// pods err at (the sample service spaces its failures evenly).
	hasRate := func(s string) bool {
		cell := errCell(s, "busy-api")
		if !regexp.MustCompile(`^[0-9]+\.[0-9]$`).MatchString(cell) {
			return false
		}
		percent, err := strconv.ParseFloat(cell, 64)
		return err == nil && percent >= 1 && percent <= 3
	}
	// idle-api has never served a request, and prometheus_client exports a labelled counter
	// only from its first one: with no request series the cell says no data ("n/a"), never 0%.
	pane.waitScreen("busy-api with an error rate, idle-api without data (never 0%)", func(s string) bool {
		return hasRate(s) && errCell(s, "idle-api") == "n/a" && strings.Contains(s, "metrics prometheus_client")
	})

	sb.StopPrometheus()
	pane.waitScreen("metrics unreachable, the rollouts still live", func(s string) bool {
		return strings.Contains(s, "metrics unreachable") && strings.Contains(s, "live") &&
			errCell(s, "busy-api") == "?" && strings.Contains(s, "Complete")
	})
	if err := sb.StartPrometheus(context.Background()); err != nil {
		t.Fatal(err)
	}
	pane.waitScreen("error rates back after Prometheus restarts", func(s string) bool {
		return hasRate(s) && strings.Contains(s, "metrics prometheus_client")
	})
}

// errCell is the text of a row's ERR% cell: under the ERR% title, up to the next column's
// title (cells are left-aligned under their titles), or "" while the screen has no such row.
// The screen is plain text where each rune takes one terminal cell: the list's glyphs are
// all narrow.
func errCell(screen, name string) string {
	row := []rune(rowOf(screen, name))
	for _, line := range strings.Split(screen, "\n") {
		start := strings.Index(line, " ERR% ")
		if !strings.HasPrefix(strings.TrimSpace(line), "NAME ") || start < 0 {
			continue
		}
		header := []rune(line)
		start = utf8.RuneCountInString(line[:start+1])
		end := start + len("ERR%")
		for end < len(header) && header[end] == ' ' {
			end++
		}
		if len(row) < end {
			return ""
		}
		return strings.TrimSpace(string(row[start:end]))
	}
	return ""
}
