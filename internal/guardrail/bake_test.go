package guardrail

import (
	"bytes"
	"context"
	"log/slog"
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
)

var bakeCompleted = time.Date(2026, 12, 6, 10, 1, 0, 0, time.UTC)

// checkout completed revision 5 (a plain rolling update, no pause) at bakeCompleted; it
// is in its 15m bake window; revision 4 served before it.
var checkout = rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "checkout", Phase: rollout.PhaseBaking,
	CanaryRevision: 5, StableRevision: 5,
	Bake: &rollout.Bake{Time: 15 * time.Minute, ReleasedAt: bakeCompleted.Add(-time.Minute), CompletedAt: bakeCompleted, Until: bakeCompleted.Add(15 * time.Minute),
		Previous: 4, PreviousReplicaSet: "checkout-44"},
	Revisions: []rollout.Revision{
		{Number: 5, Role: rollout.RoleStable, Provenance: provenance.Provenance{GitSHA: "5555555aaaaa"}},
		{Number: 4, Role: rollout.RoleOld, Provenance: provenance.Provenance{GitSHA: "4444444bbbbb"}},
	}}

func bakeRoundAt(minute int) metrics.Polled {
	r := metrics.Report{At: bakeCompleted.Add(time.Duration(minute) * time.Minute), Revisions: map[metrics.Key]metrics.Revision{
		metrics.KeyOf(&checkout, 5): {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 10},
	}, Baselines: map[ref.Rollout]metrics.Baseline{checkout.Ref(): {Revision: 4, ReplicaSet: "checkout-44", To: checkout.Bake.ReleasedAt,
		From: checkout.Bake.ReleasedAt.Add(-10 * time.Minute), State: metrics.StateOK, ErrorRate: 0.002, RequestRate: 10}}}
	return metrics.Polled{Report: r}
}

// rolledBack is checkout as the evidence reads it after the rollback: revision 4's
// template is back as revision 6, revision 4 gone by its number.
var rolledBack = rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "checkout", Phase: rollout.PhaseProgressing,
	CanaryRevision: 6, StableRevision: 5,
	Revisions: []rollout.Revision{
		{Number: 6, Role: rollout.RoleCanary, Provenance: provenance.Provenance{GitSHA: "4444444bbbbb"}},
		{Number: 5, Role: rollout.RoleStable, Provenance: provenance.Provenance{GitSHA: "5555555aaaaa"}},
	}}

func bakeGuard(actor Actor, log *bytes.Buffer, docs *[]notify.Document, act guard.Act) *Guardrail {
	return New(Config{
		Policy: guard.Policy{After: 2, Act: act}, Actor: actor,
		Evidence: func(_ context.Context, r ref.Rollout, report metrics.Report) (incident.Evidence, error) {
			if act == guard.ActRollback {
				return incident.Evidence{Rollout: rolledBack, Metrics: report, Context: "test", Taken: report.At}, nil
			}
			return incident.Evidence{Rollout: checkout, Metrics: report, Context: "test", Taken: report.At}, nil
		},
		Notify: func(_ context.Context, d notify.Document) { *docs = append(*docs, d) },
		Log:    slog.New(slog.NewTextHandler(log, nil)),
	})
}

// --action rollback rolls a breaching baking release back to the revision before it,
// once, and tells on-call how long it baked and what it was compared with.
func TestBakeRollbackToTheRevisionBefore(t *testing.T) {
	actor := &recordingActor{}
	var log bytes.Buffer
	var docs []notify.Document
	g := bakeGuard(actor, &log, &docs, guard.ActRollback)
	for minute := 2; minute <= 6; minute++ {
		g.OnRound(context.Background(), []rollout.Rollout{checkout}, bakeRoundAt(minute))
	}
	if len(actor.requests) != 1 || actor.requests[0].Action != intent.Rollback || actor.requests[0].ToRevision != 4 {
		t.Fatalf("requests %+v; want one rollback to revision 4", actor.requests)
	}
	if len(docs) != 1 || docs[0].Outcome != notify.Done || docs[0].Bake == nil || docs[0].Bake.Minutes != 3 {
		t.Fatalf("notifications %+v", docs)
	}
	doc := docs[0]
	for _, want := range []string{"rolled back after 3 min of bake, compared with 0.2% before the release (rev 4, 10 min before)", "release rev 5", "before it rev 4"} {
		if !strings.Contains(doc.Text, want) {
			t.Errorf("notification lacks %q:\n%s", want, doc.Text)
		}
	}
	// Both builds, though revision 4 is revision 6 by the time the evidence is read.
	if doc.Canary == nil || doc.Canary.GitSHA != "5555555aaaaa" || doc.Stable == nil || doc.Stable.GitSHA != "4444444bbbbb" {
		t.Errorf("builds %+v %+v; want both", doc.Canary, doc.Stable)
	}
}

// --action halt cannot halt a completed release: nothing is asked of the cluster, and
// on-call is told once what to do.
func TestBakeHaltOfACompletedReleaseTellsOnce(t *testing.T) {
	actor := &recordingActor{}
	var log bytes.Buffer
	var docs []notify.Document
	g := bakeGuard(actor, &log, &docs, guard.ActHalt)
	for minute := 2; minute <= 8; minute++ {
		g.OnRound(context.Background(), []rollout.Rollout{checkout}, bakeRoundAt(minute))
	}
	if len(actor.requests) != 0 {
		t.Fatalf("asked the cluster %+v; want nothing", actor.requests)
	}
	if len(docs) != 1 || docs[0].Outcome != notify.Notified || docs[0].Action != guard.ActNotify {
		t.Fatalf("notifications %+v; want one, notified", docs)
	}
	if want := "complete before the breach was seen; roll back with `kubectl pyroll rollback checkout`"; !strings.Contains(docs[0].Reason, want) {
		t.Errorf("reason %q lacks %q", docs[0].Reason, want)
	}
	if !strings.Contains(docs[0].Text, "nothing changed") || !strings.Contains(docs[0].Text, "in BREACH after 3 min of its 15m bake") {
		t.Errorf("text:\n%s", docs[0].Text)
	}
	if !strings.Contains(docs[0].Report, "Bake window: 3m of 15m") || !strings.Contains(docs[0].Report, "0.2% errors over the 10 min before the release") {
		t.Errorf("incident report lacks the window:\n%s", docs[0].Report)
	}
}
