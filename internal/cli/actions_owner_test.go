package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

// halt and rollback refuse where the GitOps owner would undo them, unless told what to do.
func TestActionRefusesWhatTheOwnerWouldUndo(t *testing.T) {
	undone := intent.OwnerNote{Who: "Flux Kustomization flux-system/apps", Reverts: "yes", Holdable: true, HoldWords: "suspend it",
		Text: "Flux Kustomization flux-system/apps will put 2.1.0 back within 20s"}
	helm := intent.OwnerNote{Who: "Helm release shop/orders", Reverts: "yes", Text: "the next helm upgrade of Helm release shop/orders will put 2.1.0 back (Helm 3)"}
	leaves := intent.OwnerNote{Who: "Argo CD app argocd/orders", Reverts: "no", Text: "Argo CD app argocd/orders leaves the halt alone"}
	plan := func(n intent.OwnerNote) intent.Plan {
		return intent.Plan{Request: intent.Request{Action: intent.Rollback, Target: ref.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "orders"}}, Owner: n}
	}
	for _, tc := range []struct {
		name        string
		note        intent.OwnerNote
		hold, force bool
		refused     string // in the error; "" when it goes ahead
		said        string // on stderr
	}{
		{"undone, no flag", undone, false, false, "add --hold-gitops to suspend it first", ""},
		{"undone, --hold-gitops", undone, true, false, "", ""},
		{"undone, --force", undone, false, true, "", "warning: Flux Kustomization flux-system/apps will put 2.1.0 back"},
		{"not holdable, --hold-gitops", helm, true, false, "it cannot be held from here; add --force", ""},
		{"not holdable, no flag", helm, false, false, "add --force to rollback anyway", ""},
		{"left alone", leaves, false, false, "", "note: Argo CD app argocd/orders leaves the halt alone"},
		{"no owner", intent.OwnerNote{}, false, false, "", ""},
	} {
		var errOut bytes.Buffer
		o := &ActionOptions{Options: &Options{}, HoldGitOps: tc.hold, Force: tc.force}
		o.ErrOut = &errOut
		err := o.checkOwner(plan(tc.note))
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
			t.Errorf("%s: %v, want a refusal saying %q", tc.name, err, tc.refused)
		}
		if !strings.Contains(errOut.String(), tc.said) {
			t.Errorf("%s: said %q, want %q", tc.name, errOut.String(), tc.said)
		}
	}
}
