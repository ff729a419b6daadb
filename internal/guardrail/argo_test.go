package guardrail

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/incident"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/notify"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
)

// The guard's halt of a breaching Argo canary is an abort: a patch of rollouts/status.
func TestGuardAbortsABreachingArgoCanary(t *testing.T) {
	objs := rollouttest.SyntheticArgo(1, 5)
	var kubeObjects []runtime.Object
	for _, rs := range objs.ReplicaSets {
		kubeObjects = append(kubeObjects, rs)
	}
	for _, p := range objs.Pods {
		kubeObjects = append(kubeObjects, p)
	}
	api := kubeapitest.WithArgo(kubeapitest.FromClientset(fake.NewClientset(kubeObjects...)), objs.Rollouts[0])
	var statusPatches []string
	api.Fake.PrependReactor("patch", "rollouts", func(action clienttesting.Action) (bool, runtime.Object, error) {
		if patch := action.(clienttesting.PatchAction); patch.GetSubresource() == "status" {
			statusPatches = append(statusPatches, string(patch.GetPatch()))
		}
		return false, nil, nil
	})
	driver := &actions.Driver{Client: api, User: "guard", Now: func() time.Time { return rollouttest.Epoch.Add(time.Hour) }}
	checkout := rollout.Build(objs, rollouttest.Epoch.Add(time.Hour))[0]
	var log bytes.Buffer
	g := New(Config{
		Policy: guard.Policy{After: 1, Act: guard.ActHalt}, Defaults: guard.Thresholds{MaxErrorRate: 0.01}, Actor: driver,
		Evidence: func(_ context.Context, r ref.Rollout, report metrics.Report) (incident.Evidence, error) {
			return incident.Evidence{Rollout: checkout, Metrics: report}, nil
		},
		Notify: func(context.Context, notify.Document) {},
		Log:    slog.New(slog.NewTextHandler(&log, nil)),
	})
	round := metrics.Report{At: time.Now(), Revisions: map[metrics.Key]metrics.Revision{
		metrics.KeyOf(&checkout, 2): {State: metrics.StateOK, ErrorRate: 0.05, RequestRate: 5},
		metrics.KeyOf(&checkout, 1): {State: metrics.StateOK, ErrorRate: 0.001, RequestRate: 20},
	}}
	g.OnRound(context.Background(), []rollout.Rollout{checkout}, metrics.Polled{Report: round})
	if len(statusPatches) != 1 || !bytes.Contains([]byte(statusPatches[0]), []byte(`"abort":true`)) {
		t.Fatalf("status patches %q; want one abort\n%s", statusPatches, log.String())
	}
}
