package demo

import (
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
)

func TestDemoReleasesCarryTheirStates(t *testing.T) {
	if ann := OrdersV2.Deployment().Spec.Template.Annotations; ann["org.opencontainers.image.revision"] != OrdersV2.GitSHA || ann[sandbox.ImageDigestAnnotation] != OrdersV2.ImageDigest() {
		t.Errorf("orders-api 1.8.0 template annotations %v lack its provenance", ann)
	}
	if _, crash := OrdersV2.Deployment().Spec.Template.Labels[sandbox.CrashLabel]; crash {
		t.Errorf("orders-api 1.8.0 errs but must not crash")
	}
	tmpl := SearchV2.Deployment().Spec.Template
	if tmpl.Labels[sandbox.CrashLabel] != "true" {
		t.Errorf("search-api 3.3.0 must carry the crash label")
	}
	if tmpl.Annotations[sandbox.CrashMessageAnnotation] != SearchV2.CrashMessage {
		t.Error("search-api 3.3.0's own traceback must stay its termination message")
	}
}
