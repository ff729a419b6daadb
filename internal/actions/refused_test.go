package actions

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
)

// The Service refuses a read-only session's actions itself, with no console in the way:
// greying a key out is the console's courtesy, this is the rule.
func TestServiceRefusesWhenReadOnly(t *testing.T) {
	for _, reason := range []string{"", "read-only: this key has no pyroll-write", "read-only: the jump host runs without --allow-write"} {
		client, _ := fixture(false)
		api := kubeapitest.FromClientset(client)
		svc := Service{Driver: &Driver{Client: api, User: "alice"}, Access: &Access{Client: api, ReadOnly: true, ReadOnlyReason: reason}}
		ctx := context.Background()
		want := reason
		if want == "" {
			want = "read-only (--read-only)"
		}
		for _, action := range []intent.Action{intent.Halt, intent.Promote, intent.Rollback} {
			req := intent.Request{Action: action, Target: apiRef}
			_, err := svc.Plan(ctx, req)
			var refused *RefusedError
			if !errors.As(err, &refused) || !errors.Is(err, ErrRefused) || refused.Reason != want || !strings.Contains(err.Error(), "shop/api refused: "+want) {
				t.Errorf("Plan(%s) read-only (%q): %v; want a RefusedError saying %q", action, reason, err, want)
			}
			// A plan made elsewhere (a writable moment, a hand-made one) is refused too.
			_, err = svc.Apply(ctx, intent.Plan{Request: req, Message: "halt api"})
			if !errors.Is(err, ErrRefused) {
				t.Errorf("Apply(%s) read-only: %v; want refused", action, err)
			}
		}
		// Giving a GitOps owner back is a write too.
		if _, err := svc.ReleaseHold(ctx, apiRef, ""); !errors.Is(err, ErrRefused) {
			t.Errorf("ReleaseHold read-only (%q): %v; want refused", reason, err)
		}
		if n := len(client.Actions()); n != 0 {
			t.Errorf("read-only service sent %d requests; want none (refused before reading)", n)
		}
	}
}

// A writable Service acts: the refusal is not a blanket one.
func TestServiceActsWhenWritable(t *testing.T) {
	client, _ := fixture(false)
	api := kubeapitest.FromClientset(client)
	svc := Service{Driver: &Driver{Client: api, User: "alice"}, Access: &Access{Client: api}}
	plan, err := svc.Plan(context.Background(), intent.Request{Action: intent.Halt, Target: apiRef})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Apply(context.Background(), plan); err != nil {
		t.Fatalf("writable halt: %v", err)
	}
	dep, err := client.AppsV1().Deployments("shop").Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil || !dep.Spec.Paused {
		t.Errorf("halt through a writable Service: paused=%v err=%v", dep != nil && dep.Spec.Paused, err)
	}
}
