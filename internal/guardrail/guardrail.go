// Package guardrail is the headless guard: on each metrics round it judges every
// rollout (internal/guard), acts on the decisions (halt or rollback, through the actions
// driver), logs each decision and change of state, tells on-call (internal/notify) and
// writes the incident report. The console's --auto-halt is the same decision code;
// this host outlives the terminal.
package guardrail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/incident"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/notify"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// Actor carries out a decision (the actions driver); it reads the rollout fresh and
// writes guarded by resourceVersion.
type Actor interface {
	Do(ctx context.Context, req intent.Request) (intent.Result, error)
}

// Config is what the guard runs with.
type Config struct {
	Policy   guard.Policy
	Defaults guard.Thresholds
	// DryRun decides and tells, and changes nothing.
	DryRun bool
	Actor  Actor
	// Evidence reads the rollout for the notification and the report.
	Evidence func(ctx context.Context, r ref.Rollout, report metrics.Report) (incident.Evidence, error)
	// Notify sends a document to on-call (nil: nobody to tell).
	Notify func(ctx context.Context, doc notify.Document)
	// ReportDir, when set, receives the incident report of every decision.
	ReportDir string
	Log       *slog.Logger
	// HoldOwner says whether to hold a rollout's GitOps owner (Argo CD auto-sync, Flux)
	// before action a, so that what the guard writes stays (nil: never).
	HoldOwner func(r *rollout.Rollout, a intent.Action) bool
}

// Guardrail keeps the guard's memory from one round to the next.
type Guardrail struct {
	cfg   Config
	state guard.State
	// metricsErr is the last round's Prometheus error ("" when it answered), to say a
	// change of that state once.
	metricsErr string
	// toldFailure is the failure last told per rollout: a lost permission is retried
	// every breaching round but told once, not every interval.
	toldFailure map[ref.Rollout]string
	// rounds counts the rounds judged: the first is said as one summary line.
	rounds int
	// unsaid are the rollouts the log has not named a verdict of, whose only verdict so
	// far is NO DATA: that they get numbers (OK) is no news either.
	unsaid map[ref.Rollout]bool
	// Decisions counts the decisions taken, for tests and the final log line.
	Decisions int
}

// New prepares a guardrail.
func New(cfg Config) *Guardrail {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Guardrail{cfg: cfg, state: guard.State{}, toldFailure: map[ref.Rollout]string{}, unsaid: map[ref.Rollout]bool{}}
}

// OnRound judges one metrics round against the rollouts as last seen and acts.
func (g *Guardrail) OnRound(ctx context.Context, rollouts []rollout.Rollout, polled metrics.Polled) {
	report := polled.Report
	for _, w := range polled.NewWarnings {
		g.cfg.Log.Warn("metrics warning", "warning", w)
	}
	if errText := errString(report.Err); errText != g.metricsErr {
		if errText != "" {
			g.cfg.Log.Warn("Prometheus unreachable: no action while there are no numbers", "error", errText)
		} else {
			g.cfg.Log.Info("Prometheus answers again")
		}
		g.metricsErr = errText
	}
	verdicts := guard.JudgeRound(rollouts, report, g.cfg.Defaults)
	next, decisions, changes := guard.Step(g.state, rollouts, verdicts, g.cfg.Policy)
	g.state = next
	byRef := make(map[ref.Rollout]*rollout.Rollout, len(rollouts))
	for i := range rollouts {
		byRef[rollouts[i].Ref()] = &rollouts[i]
	}
	if g.rounds == 0 {
		g.summarise(rollouts, verdicts)
	}
	g.rounds++
	g.sayChanges(changes, byRef)
	for _, d := range decisions {
		g.act(ctx, byRef[d.Rollout], d, report)
	}
}

// summarise says the first round in one line: on a large scope, a line per rollout
// without numbers yet is thousands of lines nobody reads.
func (g *Guardrail) summarise(rollouts []rollout.Rollout, verdicts guard.Verdicts) {
	withNumbers, breaching := 0, 0
	for i := range rollouts {
		switch verdicts.Of(rollouts[i].Ref()).Verdict {
		case guard.NoData:
			continue
		case guard.Breach:
			breaching++
		}
		withNumbers++
	}
	g.cfg.Log.Info("first round judged", "rollouts", len(rollouts), "withNumbers", withNumbers, "breaching", breaching)
}

// sayChanges logs the verdicts that changed, but not the news-less ones: a rollout first
// seen without numbers (the first round's summary counts them), or its first OK.
func (g *Guardrail) sayChanges(changes []guard.Change, byRef map[ref.Rollout]*rollout.Rollout) {
	for _, c := range changes {
		fresh := c.From == "" || g.unsaid[c.Rollout]
		switch {
		case fresh && c.To == guard.NoData:
			g.unsaid[c.Rollout] = true
			continue
		case fresh && c.To == guard.OK:
			delete(g.unsaid, c.Rollout)
			continue
		}
		delete(g.unsaid, c.Rollout)
		g.cfg.Log.Info("verdict", rolloutAttrs(byRef[c.Rollout], c.Rollout, c.Canary,
			"verdict", string(c.To), "was", string(c.From), "why", c.Why)...)
	}
	for r := range g.unsaid {
		if byRef[r] == nil {
			delete(g.unsaid, r) // gone from the scope
		}
	}
}

// ConnectionChanged logs the watch's new state: a guard that lost the API server, or was
// refused, says so (and acts on nothing it cannot see) rather than crash.
func (g *Guardrail) ConnectionChanged(c rollout.Connection) {
	switch c.State {
	case rollout.ConnLive:
		g.cfg.Log.Info("watching: live")
	case rollout.ConnReconnecting:
		g.cfg.Log.Warn("watch lost: reconnecting; acting on the last state seen", "error", c.Message)
	case rollout.ConnForbidden:
		g.cfg.Log.Error("watch forbidden: retrying", "error", c.Message, "hint", c.Hint)
	}
}

func (g *Guardrail) act(ctx context.Context, r *rollout.Rollout, d guard.Decision, report metrics.Report) {
	g.Decisions++
	attrs := rolloutAttrs(r, d.Rollout, d.Canary, "action", string(d.Act), "reason", d.Reason, "stable", d.Stable, "dryRun", g.cfg.DryRun)
	outcome, actErr, held := notify.DryRun, error(nil), ""
	if d.Act == guard.ActNotify {
		// Nothing to change (a halt asked of a release that completed, on-breach: notify):
		// on-call is told, once per revision.
		g.cfg.Log.Warn("breach: nothing changed, on-call told", attrs...)
		g.tell(ctx, r, d, notify.Notified, nil, report, "")
		return
	}
	if !g.cfg.DryRun {
		req := intent.Request{Action: intent.Halt, Target: d.Rollout, Reason: d.Reason, Guard: cmp.Or(g.cfg.Policy.Guard, "guard")}
		if d.Act == guard.ActRollback {
			req.Action, req.ToRevision = intent.Rollback, d.Stable
		}
		req.HoldOwner = g.cfg.HoldOwner != nil && r != nil && g.cfg.HoldOwner(r, req.Action)
		result, err := g.cfg.Actor.Do(ctx, req)
		switch {
		case err != nil:
			outcome, actErr = notify.Failed, err
			g.state.Retry(d.Rollout) // a conflict or lost RBAC: try again next breaching round
			g.cfg.Log.Error("could not act", append(attrs, "error", err.Error())...)
			if g.toldFailure[d.Rollout] == err.Error() {
				return
			}
			g.toldFailure[d.Rollout] = err.Error()
		default:
			delete(g.toldFailure, d.Rollout)
			outcome = notify.Done
			if result.Warning != "" {
				attrs = append(attrs, "warning", result.Warning)
			}
			if result.Held != "" {
				attrs = append(attrs, "held", result.Held.String())
				held = result.Held.String()
			}
			g.cfg.Log.Warn(result.Message.String(), attrs...)
		}
	} else {
		g.cfg.Log.Warn("dry run: would "+string(d.Act), attrs...)
	}
	g.tell(ctx, r, d, outcome, actErr, report, held)
}

// tell notifies and writes the report; a failure here never undoes or delays the action.
func (g *Guardrail) tell(ctx context.Context, before *rollout.Rollout, d guard.Decision, outcome notify.Outcome, actErr error, report metrics.Report, held string) {
	if g.cfg.Notify == nil && g.cfg.ReportDir == "" {
		return
	}
	evidence, err := g.cfg.Evidence(ctx, d.Rollout, report)
	if err != nil {
		g.cfg.Log.Error("could not read the rollout for the report", "rollout", d.Rollout.String(), "error", err.Error())
		evidence = incident.Evidence{Rollout: rollout.Rollout{Kind: d.Rollout.Kind, Namespace: d.Rollout.Namespace, Name: d.Rollout.Name}, Metrics: report}
	}
	doc := notify.NewDocument(d, outcome, actErr, evidence).WithBuildsFrom(d, before).WithHeld(held)
	if g.cfg.Notify != nil {
		g.cfg.Notify(ctx, doc)
	}
	if g.cfg.ReportDir != "" {
		path, err := incident.Write(g.cfg.ReportDir, evidence, doc.Report)
		if err != nil {
			g.cfg.Log.Error("could not write the incident report", "error", err.Error())
		} else {
			g.cfg.Log.Info("incident report written", "path", path)
		}
	}
}

func rolloutAttrs(r *rollout.Rollout, id ref.Rollout, canary int64, more ...any) []any {
	attrs := []any{"rollout", id.Kind.Arg() + "/" + id.Name, "namespace", id.Namespace, "revision", canary}
	if r != nil {
		if rev := r.Current(); rev != nil && rev.Provenance.GitSHA != "" {
			attrs = append(attrs, "sha", rev.Provenance.ShortSHA())
		}
	}
	return append(attrs, more...)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// ErrNoPrometheus is returned at start when no Prometheus is configured.
var ErrNoPrometheus = errors.New("guard needs error rates: give --prometheus-url, --prometheus-service or a config file that names Prometheus")

// Describe is the one-line summary of a policy for the start-up log.
func Describe(p guard.Policy, dryRun bool) string {
	s := fmt.Sprintf("%s a canary in BREACH for %d metric rounds in a row", p.Act, max(p.After, 1))
	switch p.Act {
	case guard.ActRollback:
		s += ", and roll back a release in its bake window to the revision before it"
	case guard.ActHalt:
		s += "; tell on-call of a release in BREACH in its bake window (it completed: nothing to halt)"
	}
	if dryRun {
		s += " (dry run: nothing is changed)"
	}
	return s
}
