package app

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/ui/list"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// fakeMetrics is a feed whose rounds the test delivers itself (pollMetrics); its channel
// is closed, so the console's wait for the next round ends at once.
type fakeMetrics struct{ report metrics.Report }

func (f fakeMetrics) SetRollouts([]rollout.Rollout) {}

func (f fakeMetrics) Rounds() <-chan metrics.Polled {
	ch := make(chan metrics.Polled)
	close(ch)
	return ch
}

// pollMetrics is a command that delivers the fake's round, as the poller's would.
func (m Model) pollMetrics() tea.Cmd {
	report := m.opts.Metrics.(fakeMetrics).report
	return func() tea.Msg { return metricsMsg(metrics.Polled{Report: report, NewWarnings: report.Warnings}) }
}

func withMetrics(t *testing.T, report metrics.Report) Model {
	t.Helper()
	m := newConsole(t, 100, 30, styles.Options{})
	m.opts.Metrics = fakeMetrics{report}
	return send(m, m.pollMetrics()())
}

func revKey(name string, rev int64) metrics.Key {
	return metrics.Key{Rollout: ref.Rollout{Kind: ref.Deployment, Namespace: "demo", Name: name}, Revision: rev}
}

func TestErrorRatesCanaryAgainstStable(t *testing.T) {
	m := withMetrics(t, metrics.Report{At: clock, Preset: "prometheus_client", Revisions: map[metrics.Key]metrics.Revision{
		revKey("orders-api", 2):   {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 5, P95: 140 * time.Millisecond, History: []float64{0.01, 0.03, 0.05}, P95History: []float64{0.1, 0.14}},
		revKey("orders-api", 1):   {State: metrics.StateOK, ErrorRate: 0.005, RequestRate: 20},
		revKey("search-api", 2):   {State: metrics.StateNoData},
		revKey("search-api", 1):   {State: metrics.StateOK, ErrorRate: 0.002, RequestRate: 15},
		revKey("payments-api", 1): {State: metrics.StateNoTraffic},
	}})
	s := text(m)
	for name, want := range map[string]string{"orders-api": "5.0/0.5", "search-api": "n/a/0.2", "payments-api": "idle"} {
		if !strings.Contains(rowIn(s, name), want) {
			t.Errorf("%s row lacks %q:\n%s", name, want, s)
		}
	}
	detail := text(send(m, press("j"), press("enter")))
	if !strings.Contains(detail, "5.0% err ▂▅█") || !strings.Contains(detail, "140ms p95 ▂▂") || !strings.Contains(detail, "WARN canary errors 5.0% vs stable 0.5%") {
		t.Errorf("detail lacks the canary's numbers, sparklines and verdict:\n%s", detail)
	}
}

// The config file's thresholds judge Deployments without annotations, and show beside
// the sparklines.
func TestDefaultThresholds(t *testing.T) {
	m := New(Options{Styles: styles.New(styles.Options{}), Context: "pyroll-sandbox", Namespace: "demo", Now: clock,
		Thresholds: guard.Thresholds{MaxErrorRate: 0.01, MaxP95: 300 * time.Millisecond},
		Metrics: fakeMetrics{metrics.Report{At: clock, Preset: "prometheus_client", Revisions: map[metrics.Key]metrics.Revision{
			revKey("orders-api", 2): {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 5, P95: 140 * time.Millisecond, History: []float64{0.05}, P95History: []float64{0.14}},
		}}}})
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	m = send(m, SnapshotMsg(rollout.Snapshot{Rollouts: demoRollouts(), Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
	m = send(m, m.pollMetrics()())
	if !strings.Contains(text(m), "orders-api: canary errors 5.0% > max 1.0%") || !strings.Contains(rowIn(text(m), "orders-api"), "BREACH") {
		t.Errorf("no breach banner and GUARD word from the default threshold:\n%s", text(m))
	}
	detail := text(send(m, press("j"), press("enter")))
	if !strings.Contains(detail, "max 1.0%") || !strings.Contains(detail, "max 300ms") || !strings.Contains(detail, "BREACH canary errors 5.0% > max 1.0%") {
		t.Errorf("detail lacks the thresholds beside the sparklines:\n%s", detail)
	}
}

func TestUnreachablePrometheusIsSaid(t *testing.T) {
	m := withMetrics(t, metrics.Report{At: clock, Err: errors.New("prometheus at http://x: connection refused"),
		Revisions: map[metrics.Key]metrics.Revision{revKey("orders-api", 2): {State: metrics.StateUnreachable}}})
	if s := text(m); !strings.Contains(s, "metrics unreachable: prometheus at http://x: connection refused") || !strings.Contains(rowIn(s, "orders-api"), "?") {
		t.Errorf("unreachable metrics should say so and show ?, never 0:\n%s", s)
	}
}

func rowIn(screen, name string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	return ""
}

func TestBreachIsLoud(t *testing.T) {
	m := newConsole(t, 100, 30, styles.Options{})
	rollouts := demoRollouts()
	rollouts[1].Settings = map[string]string{"pyroll.dev/max-error-rate": "0.01"}
	m = send(m, SnapshotMsg(rollout.Snapshot{Rollouts: rollouts, Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
	m.opts.Metrics = fakeMetrics{metrics.Report{At: clock, Preset: "prometheus_client", Revisions: map[metrics.Key]metrics.Revision{
		revKey("orders-api", 2): {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 5},
		revKey("orders-api", 1): {State: metrics.StateOK, ErrorRate: 0.005, RequestRate: 20},
	}}}
	next, cmd := m.Update(m.pollMetrics()())
	m = next.(Model)
	s := text(m)
	if !strings.Contains(rowIn(s, "orders-api"), "5.0/0.5!") || !strings.Contains(s, "BREACH orders-api: canary errors 5.0% > max 1.0%") {
		t.Errorf("a breach should be marked in the row and in a banner:\n%s", s)
	}
	if bells := bellsIn(runAll(cmd)); bells != 1 {
		t.Errorf("a new breach should ring the bell once, rang %d times", bells)
	}
	// The next round with the same breach: the banner stays, the bell does not ring again.
	next, cmd = m.Update(m.pollMetrics()())
	m = next.(Model)
	if bells := bellsIn(runAll(cmd)); bells != 0 {
		t.Errorf("the same breach a second round rang the bell %d times, want 0", bells)
	}
	if !strings.Contains(text(m), "BREACH orders-api") {
		t.Errorf("the banner should stay while the breach lasts:\n%s", text(m))
	}
}

// bellsIn counts the terminal bells (a raw BEL written to the terminal) among msgs.
func bellsIn(msgs []tea.Msg) int {
	n := 0
	for _, msg := range msgs {
		if raw, ok := msg.(tea.RawMsg); ok && raw.Msg == "\a" {
			n++
		}
	}
	return n
}

func TestAutoHaltAfterConsecutiveBreaches(t *testing.T) {
	actor := &fakeActor{}
	m := newConsole(t, 100, 30, styles.Options{})
	rollouts := demoRollouts()
	rollouts[0].Settings = map[string]string{"pyroll.dev/max-error-rate": "0.01"} // search-api, not paused
	m = send(m, SnapshotMsg(rollout.Snapshot{Rollouts: rollouts, Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
	m.opts.Actor, m.opts.AutoHalt, m.opts.AutoHaltAfter = actor, true, 3
	m = send(m, permissionsMsg{scope: intent.Scope{Kind: ref.Deployment, Namespace: "demo"}}) // every action allowed
	m.opts.Metrics = fakeMetrics{metrics.Report{At: clock, Preset: "prometheus_client", Revisions: map[metrics.Key]metrics.Revision{
		revKey("search-api", 2): {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 5},
	}}}
	var round3 tea.Cmd
	for round := 1; round <= 3; round++ {
		next, cmd := m.Update(m.pollMetrics()())
		m, round3 = next.(Model), cmd
		if round < 3 && m.busy {
			t.Fatalf("halting after %d breaching rounds, want 3", round)
		}
	}
	if !m.busy || !strings.Contains(text(m), "auto-halting search-api") {
		t.Fatalf("no auto-halt after 3 breaching rounds:\n%s", text(m))
	}
	for _, msg := range runAll(round3) {
		if _, closed := msg.(metricsClosedMsg); !closed {
			m = send(m, msg)
		}
	}
	if len(actor.applied) != 1 || actor.applied[0].Action != intent.Halt || actor.applied[0].Guard != "auto-halt" || !strings.Contains(actor.applied[0].Reason, "auto-halt: canary errors 5.0% > max 1.0% for 3 intervals") {
		t.Errorf("auto-halt applied %+v", actor.applied)
	}
}

// runAll runs a command and every command a batch holds, and returns the messages.
func runAll(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	batch, ok := msg.(tea.BatchMsg)
	if !ok {
		return []tea.Msg{msg}
	}
	var msgs []tea.Msg
	for _, c := range batch {
		msgs = append(msgs, runAll(c)...)
	}
	return msgs
}

// The Python version the pods export (python_info) is checked against the annotation.
func TestPythonInfoDisagreeingWithTheAnnotation(t *testing.T) {
	m := withMetrics(t, metrics.Report{At: clock, Preset: "prometheus_client", Revisions: map[metrics.Key]metrics.Revision{
		revKey("orders-api", 2): {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 5, Python: "3.11.2"},
		revKey("orders-api", 1): {State: metrics.StateOK, ErrorRate: 0.005, RequestRate: 20, Python: "3.11.10"},
	}})
	m = send(m, tea.WindowSizeMsg{Width: 120, Height: 60}, press("j"), press("enter"))
	s := text(m)
	if !strings.Contains(s, "runs Python 3.11.2 (python_info), the annotation says 3.11.10") {
		t.Errorf("no warning for a canary running another Python than its annotation says:\n%s", s)
	}
	if strings.Count(s, "runs Python") != 1 {
		t.Errorf("only the disagreeing revision should warn:\n%s", s)
	}
}

// A metrics round is judged once per rollout, however many views draw it (list, detail,
// banner, footer) and however often they redraw.
func TestEachRoundIsJudgedOnce(t *testing.T) {
	m := newConsole(t, 120, 40, styles.Options{})
	rollouts := demoRollouts()
	m = send(m, SnapshotMsg(rollout.Snapshot{Rollouts: rollouts, Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
	m.opts.Metrics = fakeMetrics{metrics.Report{At: clock, Preset: "prometheus_client", Revisions: map[metrics.Key]metrics.Revision{
		revKey("orders-api", 2): {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 5},
	}}}
	round := m.pollMetrics()()
	before := guard.JudgementsMade()
	next, _ := m.Update(round)
	m = next.(Model)
	for _, k := range []string{"enter", "esc", "j", "enter"} { // list, detail, list, detail: each redraws
		m = send(m, press(k))
		_ = text(m)
	}
	if got := guard.JudgementsMade() - before; got != int64(len(rollouts)) {
		t.Errorf("%d judgements for one round of %d rollouts; want one each", got, len(rollouts))
	}
}

// An idle console's rounds: one that only lengthens the histories (every round of the first
// five minutes) redraws the detail's sparklines but not every row of the list, which draws
// no history; one whose latest values change redraws the list. (Not parallel: the counter
// is the process's.)
func TestRoundsRedrawOnlyWhatChanged(t *testing.T) {
	round := func(rate float64, history ...float64) tea.Msg {
		return metricsMsg(metrics.Polled{Report: metrics.Report{At: clock, Preset: "prometheus_client", Revisions: map[metrics.Key]metrics.Revision{
			revKey("orders-api", 2): {State: metrics.StateOK, ErrorRate: rate, RequestRate: 5, History: history},
		}}})
	}
	m := newConsole(t, 100, 30, styles.Options{})
	m.opts.Metrics = fakeMetrics{}
	m = send(m, round(0.05, 0.01, 0.05))
	m = send(m, press("j"), press("enter")) // orders-api's detail: the list stays behind it
	before := list.Refreshes()
	m = send(m, round(0.05, 0.01, 0.05, 0.05))
	if got := list.Refreshes() - before; got != 0 {
		t.Errorf("a round that only lengthened a history redrew the list %d times", got)
	}
	if !strings.Contains(text(m), "5.0% err ▂██ ") {
		t.Errorf("the detail's sparkline did not take the new point:\n%s", text(m))
	}
	m = send(m, round(0.07, 0.01, 0.05, 0.05, 0.07))
	if got := list.Refreshes() - before; got == 0 {
		t.Error("a round whose error rate changed did not redraw the list")
	}
	if s := text(send(m, press("esc"))); !strings.Contains(rowIn(s, "orders-api"), "7.0") {
		t.Errorf("the list does not show the new rate:\n%s", s)
	}
}

// A release in its bake window that breaches: --auto-halt has nothing to halt (it
// completed) and says so; only an explicit --auto-action rollback rolls it back, to the
// revision before it.
func TestAutoHaltOfABakingRelease(t *testing.T) {
	baking := rollout.Rollout{Kind: ref.Deployment, Namespace: "demo", Name: "cart-api", Phase: rollout.PhaseBaking,
		CanaryRevision: 5, StableRevision: 5, Settings: map[string]string{"pyroll.dev/max-error-rate": "0.01"},
		Replicas:  rollout.Replicas{Desired: 3, Current: 3, Updated: 3, Ready: 3, Available: 3},
		Revisions: []rollout.Revision{{Number: 5, Role: rollout.RoleStable}, {Number: 4, Role: rollout.RoleOld}},
		Bake:      &rollout.Bake{Time: 15 * time.Minute, CompletedAt: clock.Add(-4 * time.Minute), Until: clock.Add(11 * time.Minute), Previous: 4}}
	for _, act := range []guard.Act{guard.ActHalt, guard.ActRollback} {
		actor := &fakeActor{}
		m := newConsole(t, 140, 30, styles.Options{})
		m = send(m, SnapshotMsg(rollout.Snapshot{Rollouts: []rollout.Rollout{baking}, Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
		m.opts.Actor, m.opts.AutoHalt, m.opts.AutoHaltAfter, m.opts.AutoAction = actor, true, 2, act
		m = send(m, permissionsMsg{scope: intent.Scope{Kind: ref.Deployment, Namespace: "demo"}})
		m.opts.Metrics = fakeMetrics{metrics.Report{At: clock, Preset: "prometheus_client", Revisions: map[metrics.Key]metrics.Revision{
			revKey("cart-api", 5): {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 5},
		}}}
		for range 3 {
			next, cmd := m.Update(m.pollMetrics()())
			m = next.(Model)
			if cmd != nil {
				for _, msg := range runAll(cmd) {
					if _, closed := msg.(metricsClosedMsg); !closed {
						m = send(m, msg)
					}
				}
			}
		}
		switch act {
		case guard.ActHalt:
			if len(actor.applied) != 0 || len(actor.plans) != 0 {
				t.Errorf("--auto-action halt asked %+v of a completed release; want nothing", actor.plans)
			}
			if !strings.Contains(text(m), "complete before the breach was seen") {
				t.Errorf("the footer should say the release completed before the breach:\n%s", text(m))
			}
		case guard.ActRollback:
			if len(actor.applied) != 1 || actor.applied[0].Action != intent.Rollback || actor.applied[0].ToRevision != 4 {
				t.Errorf("--auto-action rollback applied %+v; want one rollback to revision 4", actor.applied)
			}
		}
	}
}

// One name breaching in two clusters: the banner says which is which.
func TestBreachBannerNamesTheContext(t *testing.T) {
	judged := func(why string) guard.Judged {
		return guard.Judged{Judgement: guard.Judgement{Verdict: guard.Breach, Why: why}}
	}
	m := Model{styles: styles.New(styles.Options{}), breaches: map[ref.Rollout]guard.Judged{
		{Cluster: "eu", Kind: ref.Deployment, Namespace: "demo", Name: "cart-api"}: judged("5.0% errors"),
		{Cluster: "us", Kind: ref.Deployment, Namespace: "demo", Name: "cart-api"}: judged("4.0% errors"),
	}}
	if got := m.breachBanner(); !strings.Contains(got, "cart-api (eu): 5.0% errors") || !strings.Contains(got, "cart-api (us): 4.0% errors") {
		t.Errorf("banner %q", got)
	}
}
