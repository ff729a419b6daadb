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

// cart-api's release completes with no pause: the Deployment's default rolling update,
// no minReadySeconds; it errs where its previous build did not.
func TestCartReleaseCompletesWithNoPause(t *testing.T) {
	d := CartV2.Deployment()
	if d.Spec.MinReadySeconds != 0 || d.Spec.Paused || d.Spec.Strategy.RollingUpdate == nil || d.Spec.Strategy.RollingUpdate.MaxSurge.IntValue() != 1 {
		t.Errorf("cart-api 2.1.0 spec %+v; want a plain rolling update", d.Spec.Strategy)
	}
	if CartV2.ErrorRate <= 2*CartV1.ErrorRate || CartV2.ErrorRate <= 0.01 || CartV1.Image == CartV2.Image {
		t.Errorf("cart-api errs %v after %v: want a release the bake window breaches", CartV2.ErrorRate, CartV1.ErrorRate)
	}
}
