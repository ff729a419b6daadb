package guardrail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/incident"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/notify"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

type recordingActor struct {
	requests []intent.Request
	fail     error
}

func (a *recordingActor) Do(_ context.Context, req intent.Request) (intent.Result, error) {
	a.requests = append(a.requests, req)
	if a.fail != nil {
		return intent.Result{}, a.fail
	}
	return intent.Result{Message: safetext.Line(string(req.Action) + "ed " + req.Target.Name)}, nil
}

var orders = rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", CanaryRevision: 2, StableRevision: 1,
	Revisions: []rollout.Revision{
		{Number: 2, Role: rollout.RoleCanary, Provenance: provenance.Provenance{GitSHA: "3f2a9c1b7e5d"}},
		{Number: 1, Role: rollout.RoleStable, Provenance: provenance.Provenance{GitSHA: "9b01d4e6a2c8"}},
	}}

func roundWith(canaryRate float64, err error) metrics.Polled {
	r := metrics.Report{At: time.Now(), Err: err, Revisions: map[metrics.Key]metrics.Revision{}}
	state := metrics.StateOK
	if err != nil {
		state = metrics.StateUnreachable
	}
	r.Revisions[metrics.KeyOf(&orders, 2)] = metrics.Revision{State: state, ErrorRate: canaryRate, RequestRate: 5}
	r.Revisions[metrics.KeyOf(&orders, 1)] = metrics.Revision{State: state, ErrorRate: 0.001, RequestRate: 20}
	return metrics.Polled{Report: r}
}

func newGuard(actor Actor, log *bytes.Buffer, docs *[]notify.Document, act guard.Act) *Guardrail {
	return New(Config{
		Policy: guard.Policy{After: 2, Act: act}, Defaults: guard.Thresholds{MaxErrorRate: 0.01}, Actor: actor,
		Evidence: func(_ context.Context, r ref.Rollout, report metrics.Report) (incident.Evidence, error) {
			return incident.Evidence{Rollout: orders, Metrics: report, Context: "test"}, nil
		},
		Notify: func(_ context.Context, d notify.Document) { *docs = append(*docs, d) },
		Log:    slog.New(slog.NewTextHandler(log, nil)),
	})
}

func TestHaltsAfterTwoBreachingRoundsAndTellsOnce(t *testing.T) {
	actor := &recordingActor{}
	var log bytes.Buffer
	var docs []notify.Document
	g := newGuard(actor, &log, &docs, guard.ActHalt)
	ctx := context.Background()
	rs := []rollout.Rollout{orders}
	g.OnRound(ctx, rs, roundWith(0.05, nil))
	if len(actor.requests) != 0 {
		t.Fatalf("acted after one round: %+v", actor.requests)
	}
	g.OnRound(ctx, rs, roundWith(0.05, nil))
	g.OnRound(ctx, rs, roundWith(0.05, nil))
	if len(actor.requests) != 1 || actor.requests[0].Action != intent.Halt || actor.requests[0].Target != orders.Ref() {
		t.Fatalf("requests %+v; want one halt of orders-api", actor.requests)
	}
	if !strings.Contains(actor.requests[0].Reason, "canary errors 5.0% > max 1.0% for 2 intervals") {
		t.Errorf("reason %q", actor.requests[0].Reason)
	}
	if len(docs) != 1 || docs[0].Outcome != notify.Done || docs[0].Canary.GitSHA != "3f2a9c1b7e5d" || docs[0].Stable.GitSHA != "9b01d4e6a2c8" {
		t.Errorf("notifications %+v", docs)
	}
	for _, want := range []string{"verdict=BREACH", "sha=3f2a9c1", "action=halt"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestNoActionWhilePrometheusIsUnreachable(t *testing.T) {
	actor := &recordingActor{}
	var log bytes.Buffer
	var docs []notify.Document
	g := newGuard(actor, &log, &docs, guard.ActRollback)
	ctx := context.Background()
	rs := []rollout.Rollout{orders}
	down := errors.New("connection refused")
	for range 3 {
		g.OnRound(ctx, rs, roundWith(0, down))
	}
	if len(actor.requests) != 0 {
		t.Errorf("acted without numbers: %+v", actor.requests)
	}
	if n := strings.Count(log.String(), "Prometheus unreachable"); n != 1 {
		t.Errorf("unreachable said %d times, want once:\n%s", n, log.String())
	}
	g.OnRound(ctx, rs, roundWith(0.05, nil))
	g.OnRound(ctx, rs, roundWith(0.05, nil))
	if !strings.Contains(log.String(), "Prometheus answers again") || len(actor.requests) != 1 || actor.requests[0].Action != intent.Rollback || actor.requests[0].ToRevision != 1 {
		t.Errorf("after recovery: requests %+v\n%s", actor.requests, log.String())
	}
}

func TestAFailedActionIsToldAndRetried(t *testing.T) {
	actor := &recordingActor{fail: errors.New("halt shop/orders-api: forbidden: cannot patch deployments in shop")}
	var log bytes.Buffer
	var docs []notify.Document
	g := newGuard(actor, &log, &docs, guard.ActHalt)
	ctx := context.Background()
	rs := []rollout.Rollout{orders}
	for range 3 {
		g.OnRound(ctx, rs, roundWith(0.05, nil))
	}
	if len(actor.requests) != 2 {
		t.Errorf("requests %d; want a retry on the next breaching round after the failure", len(actor.requests))
	}
	if len(docs) != 1 || docs[0].Outcome != notify.Failed || !strings.Contains(docs[0].Error, "forbidden") {
		t.Errorf("docs %+v", docs)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	actor := &recordingActor{}
	var log bytes.Buffer
	var docs []notify.Document
	g := newGuard(actor, &log, &docs, guard.ActHalt)
	g.cfg.DryRun = true
	for range 2 {
		g.OnRound(context.Background(), []rollout.Rollout{orders}, roundWith(0.05, nil))
	}
	if len(actor.requests) != 0 || len(docs) != 1 || docs[0].Outcome != notify.DryRun || !strings.Contains(log.String(), "dry run: would halt") {
		t.Errorf("requests %+v docs %+v\n%s", actor.requests, docs, log.String())
	}
}

// many is n rollouts like orders, and a round where the canaries named in breaching err
// at 5%, the others at 0.1%, or, with numbers false, no rollout has numbers yet.
func many(n int) []rollout.Rollout {
	rs := make([]rollout.Rollout, n)
	for i := range rs {
		rs[i] = orders
		rs[i].Name = fmt.Sprintf("svc-%03d", i)
	}
	return rs
}

func roundOf(rs []rollout.Rollout, numbers bool, breaching ...string) metrics.Polled {
	r := metrics.Report{At: time.Now(), Revisions: map[metrics.Key]metrics.Revision{}}
	for i := range rs {
		if !numbers {
			continue
		}
		rate := 0.001
		if slices.Contains(breaching, rs[i].Name) {
			rate = 0.05
		}
		r.Revisions[metrics.KeyOf(&rs[i], 2)] = metrics.Revision{State: metrics.StateOK, ErrorRate: rate, RequestRate: 5}
		r.Revisions[metrics.KeyOf(&rs[i], 1)] = metrics.Revision{State: metrics.StateOK, ErrorRate: 0.001, RequestRate: 20}
	}
	return metrics.Polled{Report: r}
}

func logLines(log *bytes.Buffer) []string {
	return strings.FieldsFunc(log.String(), func(r rune) bool { return r == '\n' })
}

// 200 rollouts without numbers yet: one line says the first round (not 200 `verdict "NO
// DATA" was=""`), and then only changes are said: their first numbers are no news, a
// breach is.
func TestAQuietStart(t *testing.T) {
	var log bytes.Buffer
	var docs []notify.Document
	g := newGuard(&recordingActor{}, &log, &docs, guard.ActHalt)
	rs := many(200)
	g.OnRound(context.Background(), rs, roundOf(rs, false))
	lines := logLines(&log)
	if len(lines) != 1 || !strings.Contains(lines[0], `first round judged" rollouts=200 withNumbers=0 breaching=0`) {
		t.Fatalf("the first round of 200 rollouts without numbers logged:\n%s", log.String())
	}
	g.OnRound(context.Background(), rs, roundOf(rs, true, "svc-007"))
	lines = logLines(&log)[1:]
	if len(lines) != 1 || !strings.Contains(lines[0], "verdict") || !strings.Contains(lines[0], "rollout=deployment/svc-007") ||
		!strings.Contains(lines[0], "verdict=BREACH") || !strings.Contains(lines[0], `was="NO DATA"`) {
		t.Errorf("numbers for all, one breaching: want one line, the breach; logged:\n%s", strings.Join(lines, "\n"))
	}
	g.OnRound(context.Background(), rs, roundOf(rs, true, "svc-007"))
	g.OnRound(context.Background(), rs, roundOf(rs, false))
	if lines = logLines(&log)[2:]; len(lines) != 201 || strings.Count(log.String(), `verdict="NO DATA" was=OK`) != 199 {
		// Numbers lost after they were had is news (a halt, the guard's own, comes first).
		t.Errorf("numbers lost: want a line per rollout that had them, and the halt; logged:\n%s", strings.Join(lines, "\n"))
	}
}

// A first round with numbers says how many breach, and names those: they are news.
func TestTheFirstRoundNamesTheBreaching(t *testing.T) {
	var log bytes.Buffer
	var docs []notify.Document
	g := newGuard(&recordingActor{}, &log, &docs, guard.ActHalt)
	rs := many(200)
	g.OnRound(context.Background(), rs, roundOf(rs, true, "svc-001", "svc-150"))
	lines := logLines(&log)
	if len(lines) != 3 || !strings.Contains(lines[0], `first round judged" rollouts=200 withNumbers=200 breaching=2`) ||
		!strings.Contains(lines[1], "rollout=deployment/svc-001") || !strings.Contains(lines[2], "rollout=deployment/svc-150") {
		t.Errorf("want the summary and the two breaching; logged:\n%s", log.String())
	}
}
