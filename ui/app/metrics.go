package app

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/ui/footer"
)

// MetricsSource reads error rates per revision (the CLI hands it the Prometheus client).
// It does I/O, so the console calls it only inside commands.
type MetricsSource interface {
	Report(ctx context.Context, namespace string, rollouts []rollout.Rollout, now time.Time) metrics.Report
}

type metricsMsg metrics.Report

type metricsTickMsg struct{}

// pollMetrics reads one round of metrics for the rollouts on screen.
func (m Model) pollMetrics() tea.Cmd {
	source, namespace, rollouts := m.opts.Metrics, m.opts.Namespace, m.snap.Rollouts
	return withDeadline(2*metricsTimeout, func(ctx context.Context) tea.Msg {
		return metricsMsg(source.Report(ctx, namespace, rollouts, time.Now()))
	})
}

const metricsTimeout = 5 * time.Second

func (m Model) metricsInterval() time.Duration {
	if m.opts.MetricsInterval > 0 {
		return m.opts.MetricsInterval
	}
	return 10 * time.Second
}

func (m Model) handleMetricsMsg(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case metricsMsg:
		m.metrics = metrics.Report(msg)
		m.list.SetMetrics(m.metrics)
		m.detail.SetMetrics(m.metrics)
		next := tea.Tick(m.metricsInterval(), func(time.Time) tea.Msg { return metricsTickMsg{} })
		before := m.breaches
		m.breaches = breaches(m.snap.Rollouts, m.metrics, m.opts.Thresholds)
		m.resize()
		cmds := []tea.Cmd{next}
		if anyNew(before, m.breaches) {
			cmds = append(cmds, tea.Raw("\a")) // a new breach rings the bell, once
		}
		var halt tea.Cmd
		m, halt = m.autoHalt()
		return m, tea.Batch(append(cmds, halt)...)
	case metricsTickMsg:
		return m, m.pollMetrics()
	}
	return m, nil
}

// metricsState is the footer's word on the metrics.
func (m Model) metricsState() string {
	switch {
	case m.opts.Metrics == nil:
		return m.styles.Dim.Render("metrics off (no --prometheus-url)")
	case m.metrics.At.IsZero():
		return m.styles.Dim.Render("metrics: reading…")
	case m.metrics.Err != nil:
		return m.styles.Warning.Render("metrics unreachable: " + m.metrics.Err.Error())
	case len(m.metrics.Warnings) > 0:
		return m.styles.Warning.Render("metrics " + m.metrics.Preset + ", warning: " + m.metrics.Warnings[0])
	default:
		return m.styles.Dim.Render("metrics " + m.metrics.Preset)
	}
}

// breaches are the rollouts whose canary is past a threshold, with why.
func breaches(rollouts []rollout.Rollout, report metrics.Report, thresholds guard.Thresholds) map[ref.Rollout]string {
	out := map[ref.Rollout]string{}
	for _, r := range rollouts {
		if j := guard.Judge(r, report, thresholds); j.Verdict == guard.Breach {
			out[r.Ref()] = r.Name + ": " + j.Why
		}
	}
	return out
}

// breachBanner is the loud line shown while any canary breaches its thresholds.
func (m Model) breachBanner() string {
	if len(m.breaches) == 0 {
		return ""
	}
	names := make([]string, 0, len(m.breaches))
	for _, why := range m.breaches {
		names = append(names, why)
	}
	sort.Strings(names)
	return m.styles.Error.Render("BREACH " + strings.Join(names, "; "))
}

// anyNew reports whether after holds a breach that before did not.
func anyNew(before, after map[ref.Rollout]string) bool {
	for name := range after {
		if _, known := before[name]; !known {
			return true
		}
	}
	return false
}

// autoHalt counts each rollout's consecutive breaching rounds and, with --auto-halt, halts
// one that has breached for AutoHaltAfter rounds in a row, saying why in the audit record.
func (m Model) autoHalt() (Model, tea.Cmd) {
	streaks := map[ref.Rollout]int{}
	for key := range m.breaches {
		streaks[key] = m.breachStreak[key] + 1
	}
	m.breachStreak = streaks
	if !m.opts.AutoHalt || m.opts.Actor == nil || m.busy {
		return m, nil
	}
	after := max(m.opts.AutoHaltAfter, 1)
	for _, r := range m.snap.Rollouts {
		key := r.Ref()
		if r.Paused || streaks[key] < after {
			continue
		}
		if allowed, _ := m.perms[intent.ScopeOf(r.Ref())].Allowed(intent.Halt); !allowed {
			continue
		}
		reason := fmt.Sprintf("auto-halt: %s for %d intervals", guard.Judge(r, m.metrics, m.opts.Thresholds).Why, streaks[key])
		m.busy = true
		m.footer.SetStatus(footer.Status{Text: "auto-halting " + r.Name + " (" + reason + ")…", Bad: true})
		return m, m.haltCmd(intent.Request{Action: intent.Halt, Target: r.Ref(), Reason: reason})
	}
	return m, nil
}
