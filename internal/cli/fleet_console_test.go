package cli

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// recordingActor is one context's actions: it records what it was asked, as its cluster
// names the rollout.
type recordingActor struct {
	planned, applied []ref.Rollout
	applyErr         error
}

func (a *recordingActor) Permissions(context.Context, intent.Scope) intent.Permissions {
	return intent.Permissions{}
}

func (a *recordingActor) Plan(_ context.Context, req intent.Request) (intent.Plan, error) {
	a.planned = append(a.planned, req.Target)
	return intent.Plan{Request: req, Message: safetext.Sprintf("halt %s at rev 2", req.Target.Name)}, nil
}

func (a *recordingActor) Apply(_ context.Context, plan intent.Plan) (intent.Result, error) {
	a.applied = append(a.applied, plan.Target)
	if a.applyErr != nil {
		return intent.Result{}, a.applyErr
	}
	return intent.Result{Plan: plan, Message: "halted"}, nil
}

// Each action goes to its rollout's context, asked as that cluster names it, and every
// question and answer names the context (and its cluster).
func TestFleetRouterSendsEachActionToItsContext(t *testing.T) {
	eu, us := &recordingActor{}, &recordingActor{}
	router := &fleetRouter{parts: map[string]consoleParts{}, waiting: map[string]error{}, names: map[string]string{}}
	router.ready("eu", &kube.Cluster{Context: "eu", ClusterName: "eu-west-1"}, consoleParts{actor: eu})
	router.ready("us", &kube.Cluster{Context: "us", ClusterName: "us"}, consoleParts{actor: us})
	router.wait("ap", errors.New("context ap: connection refused"))
	ctx := context.Background()
	target := ref.Rollout{Cluster: "eu", Kind: ref.Deployment, Namespace: "shop", Name: "orders-api"}

	plan, err := router.Plan(ctx, intent.Request{Action: intent.Halt, Target: target})
	if err != nil || len(eu.planned) != 1 || len(us.planned) != 0 || eu.planned[0] != target.Local() {
		t.Fatalf("plan: %v; eu asked %v, us asked %v", err, eu.planned, us.planned)
	}
	if plan.Target != target || plan.Message != "context eu (cluster eu-west-1): halt orders-api at rev 2" {
		t.Errorf("the plan %v says %q", plan.Target, plan.Message)
	}
	result, err := router.Apply(ctx, plan)
	if err != nil || len(eu.applied) != 1 || eu.applied[0] != target.Local() || len(us.applied) != 0 {
		t.Fatalf("apply: %v; eu %v, us %v", err, eu.applied, us.applied)
	}
	if result.Plan.Target != target || result.Message != "context eu (cluster eu-west-1): halted" {
		t.Errorf("result %v %q", result.Plan.Target, result.Message)
	}

	// Asked again after a change: about the same context.
	usTarget := target
	usTarget.Cluster = "us"
	us.applyErr = &intent.ChangedError{Was: intent.Plan{Request: intent.Request{Target: usTarget.Local()}}, Now: intent.Plan{Request: intent.Request{Target: usTarget.Local()}, Message: "rollback to rev 3"}}
	_, err = router.Apply(ctx, intent.Plan{Request: intent.Request{Action: intent.Rollback, Target: usTarget}})
	var changed *intent.ChangedError
	if !errors.As(err, &changed) || changed.Now.Target != usTarget || changed.Now.Message != "context us: rollback to rev 3" || !strings.HasPrefix(err.Error(), "context us: ") {
		t.Errorf("a changed plan: %v (%+v)", err, changed)
	}

	// A context that has not answered: nothing allowed, and why.
	perms := router.Permissions(ctx, intent.Scope{Cluster: "ap", Kind: ref.Deployment, Namespace: "shop"})
	if ok, why := perms.Allowed(intent.Halt); ok || !strings.Contains(why, "not connected to context ap yet") || !strings.Contains(why, "connection refused") {
		t.Errorf("ap: allowed %v (%s)", ok, why)
	}
	if _, err := router.Plan(ctx, intent.Request{Action: intent.Halt, Target: ref.Rollout{Cluster: "mars", Name: "x"}}); err == nil {
		t.Error("a context not in view planned")
	}
}
