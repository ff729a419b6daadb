package guardrail

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/notify"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// heldActor says it held the owner when asked to.
type heldActor struct{ recordingActor }

func (a *heldActor) Do(ctx context.Context, req intent.Request) (intent.Result, error) {
	result, err := a.recordingActor.Do(ctx, req)
	if req.HoldOwner {
		result.Held = safetext.Line("Flux Kustomization flux-system/apps")
	}
	return result, err
}

// The guard asks for the hold its policy says, and its notification names the hold and
// how to give it back.
func TestGuardHoldsWhereItsPolicySaysAndTellsIt(t *testing.T) {
	actor := &heldActor{}
	var log bytes.Buffer
	var docs []notify.Document
	g := newGuard(actor, &log, &docs, guard.ActHalt)
	g.cfg.HoldOwner = func(r *rollout.Rollout, a intent.Action) bool { return a == intent.Halt }
	for range 3 {
		g.OnRound(context.Background(), []rollout.Rollout{orders}, roundWith(0.05, nil))
	}
	if len(actor.requests) != 1 || !actor.requests[0].HoldOwner {
		t.Fatalf("requests %+v; want one halt holding its owner", actor.requests)
	}
	if len(docs) != 1 || docs[0].Held != "Flux Kustomization flux-system/apps" || !strings.Contains(docs[0].Text, "kubectl pyroll release-hold orders-api -n shop") {
		t.Errorf("notification %+v", docs)
	}
	if !strings.Contains(log.String(), `held="Flux Kustomization flux-system/apps"`) {
		t.Errorf("the log does not name the hold:\n%s", log.String())
	}
}
