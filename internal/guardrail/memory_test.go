package guardrail

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
)

// countingActor is the real driver, counting what the guard asked of it.
type countingActor struct {
	*actions.Driver
	requests []intent.Request
}

func (a *countingActor) Do(ctx context.Context, req intent.Request) (intent.Result, error) {
	a.requests = append(a.requests, req)
	return a.Driver.Do(ctx, req)
}

// guardedService is team-1/service-001 rolling out rev 2 beside rev 1, in a fake cluster.
func guardedService(t *testing.T) (kubeapi.API, ref.Rollout) {
	t.Helper()
	objs := rollouttest.Synthetic(2, 5)
	var tracked []runtime.Object
	for _, d := range objs.Deployments[1:] {
		tracked = append(tracked, d)
	}
	for _, rs := range objs.ReplicaSets[2:] {
		tracked = append(tracked, rs)
	}
	return kubeapitest.FromClientset(fake.NewClientset(tracked...)), ref.Rollout{Kind: ref.Deployment, Namespace: "team-1", Name: "service-001"}
}

// seen is the rollout as a guard starting now reads it.
func seen(t *testing.T, api kubeapi.API, target ref.Rollout) []rollout.Rollout {
	t.Helper()
	objs, err := kube.ReadOne(context.Background(), api, target)
	if err != nil {
		t.Fatal(err)
	}
	return rollout.Build(objs, rollouttest.Epoch.Add(time.Hour))
}

// breaching is a round in which rev 2 serves 5% errors and rev 1 0.1%.
func breaching(r *rollout.Rollout) metrics.Polled {
	return metrics.Polled{Report: metrics.Report{At: time.Now(), Revisions: map[metrics.Key]metrics.Revision{
		metrics.KeyOf(r, 2): {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 5},
		metrics.KeyOf(r, 1): {State: metrics.StateOK, ErrorRate: 0.001, RequestRate: 20},
	}}}
}

// guardOn runs a fresh guard (a start, a restart, a standby that took the Lease) for
// rounds breaching rounds against the rollout as it is then, and returns what it asked.
func guardOn(t *testing.T, api kubeapi.API, target ref.Rollout, policy guard.Policy, rounds int) []intent.Request {
	t.Helper()
	actor := &countingActor{Driver: &actions.Driver{Client: api, User: "system:serviceaccount:pyroll:guard"}}
	g := New(Config{Policy: policy, Defaults: guard.Thresholds{MaxErrorRate: 0.01}, Actor: actor, Log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	for range rounds {
		rs := seen(t, api, target)
		g.OnRound(context.Background(), rs, breaching(&rs[0]))
	}
	return actor.requests
}

func promoteAsAPerson(t *testing.T, api kubeapi.API, target ref.Rollout) {
	t.Helper()
	person := &actions.Driver{Client: api, User: "alice@example.com"}
	if _, err := person.Do(context.Background(), intent.Request{Action: intent.Promote, Target: target, Reason: "known noisy, shipping"}); err != nil {
		t.Fatal(err)
	}
}

// A guard halts; a person promotes; the guard restarts (or its standby takes the Lease):
// the canary still breaches, and is not halted again.
func TestTheGuardRemembersOnTheObject(t *testing.T) {
	for _, c := range []struct {
		name         string
		first, after guard.Policy
		actsAgain    bool
	}{
		{"restart without a Lease", guard.Policy{After: 2, Act: guard.ActHalt, Guard: "guard"}, guard.Policy{After: 2, Act: guard.ActHalt, Guard: "guard"}, false},
		{"failover to the standby of the same Lease",
			guard.Policy{After: 2, Act: guard.ActHalt, Guard: "pyroll/kubectl-pyroll-guard", Leased: true},
			guard.Policy{After: 2, Act: guard.ActHalt, Guard: "pyroll/kubectl-pyroll-guard", Leased: true}, false},
		{"a guard of another Lease keeps its own memory",
			guard.Policy{After: 2, Act: guard.ActHalt, Guard: "pyroll/kubectl-pyroll-guard", Leased: true},
			guard.Policy{After: 2, Act: guard.ActHalt, Guard: "staging/other-guard", Leased: true}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			api, target := guardedService(t)
			if reqs := guardOn(t, api, target, c.first, 3); len(reqs) != 1 || reqs[0].Action != intent.Halt {
				t.Fatalf("the first guard asked %+v; want one halt", reqs)
			}
			halted := seen(t, api, target)[0]
			if !halted.Halted() || halted.GuardActed == nil || halted.GuardActed.Revision != 2 || string(halted.GuardActed.Guard) != c.first.Guard {
				t.Fatalf("after the guard's halt: halted %v, memory on the object %+v", halted.Halted(), halted.GuardActed)
			}
			promoteAsAPerson(t, api, target)
			promoted := seen(t, api, target)[0]
			if promoted.Halted() || promoted.LastAction == nil || promoted.LastAction.User != "alice@example.com" || promoted.GuardActed == nil {
				t.Fatalf("after alice's promote: halted %v, last action %+v, guard memory %+v", promoted.Halted(), promoted.LastAction, promoted.GuardActed)
			}
			reqs := guardOn(t, api, target, c.after, 4)
			if acted := len(reqs) > 0; acted != c.actsAgain {
				t.Errorf("the guard after the restart asked %+v; acts again: %v, want %v", reqs, acted, c.actsAgain)
			}
		})
	}
}
