//go:build e2e

package e2e

import (
	"context"
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
)

// Someone edits the Deployment after the driver's last read and before its write (the
// driver's BeforeWrite seam makes that window certain). The real API server refuses the
// write (its resourceVersion precondition no longer holds); the driver reads again and
// re-decides: a rollback whose starting point moved is refused and the edit stays; a
// halt, which decides the same on the edited Deployment, goes through on the second try.
// Without the precondition the rollback would overwrite the hotfix and the halt would
// be written once.
func TestEditBetweenReadAndWriteIsCaughtByResourceVersion(t *testing.T) {
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	ns := newNamespace(t)
	v1, v2 := releaseV1V2(ns, "rv-api")
	applyComplete(t, v1)
	applyComplete(t, v2)
	target := ref.Rollout{Kind: ref.Deployment, Namespace: ns, Name: "rv-api"}
	driver := &actions.Driver{Client: kubeapitest.FromClientset(sb.Client()), User: "e2e"}

	plan, err := driver.Plan(ctx, intent.Request{Action: intent.Rollback, Target: target})
	if err != nil {
		t.Fatal(err)
	}
	hotfix := v2
	hotfix.Image, hotfix.Version = "ghcr.io/acme/rv-api:1.1.1-hotfix", "1.1.1"
	writes := 0
	driver.BeforeWrite = func(ctx context.Context) {
		writes++
		if writes == 1 {
			if _, err := hotfix.Apply(ctx, sb.Client()); err != nil {
				t.Error(err)
			}
		}
	}
	if _, err := driver.Apply(ctx, plan); !errors.Is(err, actions.ErrChanged) {
		t.Fatalf("rollback with an edit between read and write: %v; want ErrChanged after re-reading", err)
	}
	if img := getDeployment(t, ns, "rv-api").Spec.Template.Spec.Containers[0].Image; img != hotfix.Image {
		t.Errorf("the edit made between read and write was overwritten: image %s, want %s", img, hotfix.Image)
	}
	if writes != 1 {
		t.Errorf("%d write attempts; want 1 (then the re-read decision refuses)", writes)
	}

	writes = 0
	driver.BeforeWrite = func(ctx context.Context) {
		writes++
		if writes == 1 {
			patch := []byte(`{"metadata":{"annotations":{"e2e.pyroll.dev/touched":"between read and write"}}}`)
			if _, err := sb.Client().AppsV1().Deployments(ns).Patch(ctx, "rv-api", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
				t.Error(err)
			}
		}
	}
	if _, err := driver.Do(ctx, intent.Request{Action: intent.Halt, Target: target, Reason: "e2e"}); err != nil {
		t.Fatalf("halt with an unrelated edit between read and write: %v", err)
	}
	d := getDeployment(t, ns, "rv-api")
	if !d.Spec.Paused || d.Annotations["e2e.pyroll.dev/touched"] == "" {
		t.Errorf("after the halt: paused %v, the other edit's annotation %q; want both", d.Spec.Paused, d.Annotations["e2e.pyroll.dev/touched"])
	}
	// At least one conflict, on the stale resourceVersion; more when the deployment
	// controller writes the status in between (it is rolling out the hotfix).
	if writes < 2 {
		t.Errorf("%d write attempt(s); want a conflict on the stale resourceVersion, then a write on a fresh one", writes)
	}
}
