package app

import (
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/ui/footer"
)

// MetricsFeed brings rounds of error rates per revision (the CLI hands it a
// metrics.Poller, which reads Prometheus on its own goroutine, under a deadline, one round
// at a time). SetRollouts only hands over the rollouts to read next: no I/O.
type MetricsFeed interface {
	SetRollouts(rollouts []rollout.Rollout)
	Rounds() <-chan metrics.Polled
}

type metricsMsg metrics.Polled

type metricsClosedMsg struct{}

func waitForRound(rounds <-chan metrics.Polled) tea.Cmd {
	return func() tea.Msg {
		polled, ok := <-rounds
		if !ok {
			return metricsClosedMsg{}
		}
		return metricsMsg(polled)
	}
}

func (m Model) handleMetricsMsg(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case metricsMsg:
		// The round is judged once; every view reads these verdicts.
		verdicts := guard.JudgeRound(m.snap.Rollouts, msg.Report, m.opts.Thresholds)
		// A round that changes nothing drawn is not drawn again: the list (every row) only
		// when a verdict or a latest value changed, the detail (one rollout, with its
		// sparklines) also when a history did.
		sameNow := verdicts.ReadsTheSameNow(m.verdicts)
		same := sameNow && verdicts.ShowsTheSame(m.verdicts)
		m.verdicts = verdicts
		if !sameNow {
			m.list.SetVerdicts(m.verdicts)
		}
		if !same {
			m.detail.SetVerdicts(m.verdicts)
		}
		next := waitForRound(m.opts.Metrics.Rounds())
		before := m.breaches
		m.breaches = m.verdicts.Breaching()
		if !sameNow {
			m.resize() // the breach banner and the footer's metrics word may change height
		}
		cmds := []tea.Cmd{next}
		if anyNew(before, m.breaches) {
			cmds = append(cmds, tea.Raw("\a")) // a new breach rings the bell, once
		}
		var halt tea.Cmd
		m, halt = m.autoHalt()
		return m, tea.Batch(append(cmds, halt)...)
	case metricsClosedMsg:
		// The poller stopped (the console is ending): no more rounds.
	}
	return m, nil
}

// metricsState is the footer's word on the metrics.
func (m Model) metricsState() string {
	report := m.verdicts.Report
	switch {
	case m.opts.Metrics == nil:
		return m.styles.Dim.Render("metrics off (no --prometheus-url)")
	case report.At.IsZero():
		return m.styles.Dim.Render("metrics: reading…")
	case report.Err != nil:
		return m.styles.Warning.Render("metrics unreachable: " + report.Err.Error())
	case len(report.Warnings) > 0:
		return m.styles.Warning.Render(("metrics " + report.Preset + ", warning: " + report.Warnings[0]).String())
	default:
		return m.styles.Dim.Render(("metrics " + report.Preset).String())
	}
}

// breachBanner is the loud line shown while any canary breaches its thresholds.
func (m Model) breachBanner() string {
	if len(m.breaches) == 0 {
		return ""
	}
	names := make([]string, 0, len(m.breaches))
	for r, j := range m.breaches {
		name := r.Name
		if r.Cluster != "" {
			name += " (" + r.Cluster + ")" // the same name may breach in two clusters
		}
		names = append(names, name+": "+j.Why)
	}
	sort.Strings(names)
	return m.styles.Error.Render("BREACH " + strings.Join(names, "; "))
}

// anyNew reports whether after holds a breach that before did not.
func anyNew(before, after map[ref.Rollout]guard.Judged) bool {
	for r := range after {
		if _, known := before[r]; !known {
			return true
		}
	}
	return false
}

// autoHalt hosts the guard's decision (guard.Step, as the headless guard does): with
// --auto-halt it halts a rollout whose canary has breached for AutoHaltAfter rounds in a
// row, once per canary revision, saying why in the audit record. It lasts as long as the
// console: `kubectl pyroll guard` is the one that outlives it.
func (m Model) autoHalt() (Model, tea.Cmd) {
	act := guard.ActHalt
	if m.opts.AutoAction == guard.ActRollback {
		act = guard.ActRollback
	}
	policy := guard.Policy{After: max(m.opts.AutoHaltAfter, 1), Act: act, By: "auto-halt", Guard: "auto-halt"}
	next, decisions, _ := guard.Step(m.guardState, m.snap.Rollouts, m.verdicts, policy)
	m.guardState = next
	if !m.opts.AutoHalt || m.opts.Actor == nil {
		return m, nil
	}
	var halt tea.Cmd
	for _, d := range decisions {
		req := intent.Request{Action: intent.Halt, Target: d.Rollout, Reason: d.Reason, Guard: policy.Guard}
		doing := "auto-halting "
		switch {
		case d.Act == guard.ActRollback && m.opts.AutoAction == guard.ActRollback:
			req.Action, req.ToRevision, doing = intent.Rollback, d.Stable, "auto-rolling back "
		case d.Act == guard.ActNotify || (d.Act == guard.ActRollback && d.Bake != nil):
			// Nothing to halt (a release that completed), and rolling back is for an
			// explicit --auto-action rollback: said, once per revision.
			m.footer.SetStatus(footer.Status{Text: safetext.Line(d.Rollout.Name + ": " + d.Reason), Bad: true})
			continue
		}
		perms, answered := m.perms[intent.ScopeOf(d.Rollout)]
		allowed, _ := perms.Allowed(req.Action)
		allowed = allowed && answered
		if halt != nil || m.busy || !allowed {
			m.guardState.Retry(d.Rollout) // one action at a time: the next round tries again
			continue
		}
		m.busy = true
		m.footer.SetStatus(footer.Status{Text: safetext.Line(doing + d.Rollout.Name + " (" + d.Reason + ")…"), Bad: true})
		halt = m.haltCmd(req)
	}
	return m, halt
}
