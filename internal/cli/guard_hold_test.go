package cli

import (
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// guard --hold-gitops: flux-halts (the default) holds Flux before a halt only; always holds
// any owner; never none; a rollout without an owner is never held.
func TestGuardHoldGitOpsPolicy(t *testing.T) {
	owned := func(tool owner.Tool) *rollout.Rollout {
		return &rollout.Rollout{Owner: &owner.Detection{Owner: &owner.Ref{Tool: tool}}}
	}
	for _, tc := range []struct {
		mode string
		r    *rollout.Rollout
		a    intent.Action
		want bool
	}{
		{"flux-halts", owned(owner.Flux), intent.Halt, true},
		{"flux-halts", owned(owner.Flux), intent.Rollback, false},
		{"flux-halts", owned(owner.ArgoCD), intent.Halt, false},
		{"always", owned(owner.ArgoCD), intent.Rollback, true},
		{"always", &rollout.Rollout{}, intent.Rollback, false},
		{"never", owned(owner.Flux), intent.Halt, false},
	} {
		if got := holdOwnerPolicy(tc.mode)(tc.r, tc.a); got != tc.want {
			t.Errorf("--hold-gitops %s, %v owner, %s: hold=%t, want %t", tc.mode, tc.r.Owner, tc.a, got, tc.want)
		}
	}
}
