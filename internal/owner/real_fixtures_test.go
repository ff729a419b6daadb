package owner

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

// The *-real.* fixtures are what the real tools wrote in the sandbox (e2e
// TestSandboxGitOpsToolchain with PYROLL_CAPTURE_FIXTURES, see testdata/README.md): Helm
// v4.3.2's release Secret and Deployment, Flux v1.9.6's Kustomization and the Deployment it
// applied, Argo CD v3.6.2's Application as its CRD stores it. The hand-written fixtures say
// what the code expects; these check that the tools write it so.

func TestRealHelm4Release(t *testing.T) {
	secretV2 := secret(t, "helm/secret-payments-v2-real.json")
	rel, err := DecodeRelease(secretV2)
	if err != nil {
		t.Fatal(err)
	}
	manifest := rel.Manifest
	rel.Manifest = ""
	want := Release{Name: "payments", Namespace: "shop", Revision: 2, Status: "deployed", Chart: "payments", ChartVersion: "0.4.2", AppVersion: "2.1.0"}
	if *rel != want {
		t.Errorf("DecodeRelease = %+v\nwant %+v", *rel, want)
	}
	if !strings.Contains(manifest, "# Source: payments/templates/deployment.yaml") {
		t.Errorf("manifest: %q", manifest)
	}

	live := deployment(t, "helm/deployment-payments-real.yaml")
	d := Detect(ref.Deployment, live, Options{})
	if d.Owner == nil || d.Owner.String() != "Helm release shop/payments" {
		t.Fatalf("Detect = %+v; want the Helm release shop/payments", d)
	}
	v := FromRelease(d, secretV2, "Deployment", live.Name, &live.Spec.Template, live.ManagedFields)
	if v.Access != Read || v.Drift != nil || v.Revision.String() != "0.4.2" {
		t.Errorf("view of the release: access %v, drift %v, revision %q; want read, no drift, 0.4.2", v.Access, v.Drift, v.Revision.String())
	}
	// Helm 4 applies server-side, under the manager "helm".
	if v.ServerSideApply != Yes {
		t.Errorf("ServerSideApply = %v; want Yes from Helm 4's managed fields", v.ServerSideApply)
	}
}

func TestRealFluxKustomization(t *testing.T) {
	d := Detect(ref.Deployment, deployment(t, "flux/deployment-kustomized-real.yaml"), Options{})
	if d.Owner == nil || d.Owner.String() != "Flux Kustomization flux-system/orders" || d.ReconcileDisabled {
		t.Fatalf("Detect = %+v; want the Flux Kustomization flux-system/orders, reconciling", d)
	}
	v := FromFlux(d, object(t, "flux/kustomization-real.yaml"))
	if v.Access != Read || v.Suspended != No || v.Interval != 10*time.Second || !strings.HasPrefix(v.Revision.String(), "main@sha1:") {
		t.Errorf("view: access %v, suspended %v, interval %v, revision %q; want read, not suspended, 10s, main@sha1:...", v.Access, v.Suspended, v.Interval, v.Revision.String())
	}
	if _, err := HoldFlux(object(t, "flux/kustomization-real.yaml"), HoldRecord{By: "test"}); err != nil {
		t.Errorf("HoldFlux on a running Kustomization: %v", err)
	}

	suspended := object(t, "flux/kustomization-suspended-real.yaml")
	if v := FromFlux(d, suspended); v.Suspended != Yes {
		t.Errorf("suspended view: %v; want Yes", v.Suspended)
	}
	if _, err := HoldFlux(suspended, HoldRecord{By: "test"}); !errors.Is(err, ErrNothingToHold) {
		t.Errorf("HoldFlux on a Kustomization suspended by someone else: %v; want ErrNothingToHold", err)
	}
}

func TestRealArgoCDApplication(t *testing.T) {
	d := Detect(ref.Deployment, meta("shop", "checkout", nil, map[string]string{ArgoCDTrackingIDAnnotation: "checkout:apps/Deployment:shop/checkout"}), Options{})
	if d.Owner == nil || d.Owner.String() != "Argo CD app argocd/checkout" {
		t.Fatalf("Detect = %+v; want the Argo CD app argocd/checkout", d)
	}
	app := object(t, "argocd/application-real.yaml")
	v := FromApplication(d, app)
	if v.Access != Read || v.AutoSync != Yes || v.SelfHeal != Yes {
		t.Errorf("view: access %v, auto-sync %v, self-heal %v; want read, on, on", v.Access, v.AutoSync, v.SelfHeal)
	}
	if _, err := HoldApplication(app, HoldRecord{By: "test"}); err != nil {
		t.Errorf("HoldApplication on an auto-syncing Application: %v", err)
	}

	off := object(t, "argocd/application-autosync-off-real.yaml")
	if v := FromApplication(d, off); v.AutoSync != No || v.SelfHeal != Yes {
		t.Errorf("automated.enabled=false: auto-sync %v, self-heal %v; want off, on", v.AutoSync, v.SelfHeal)
	}
	if _, err := HoldApplication(off, HoldRecord{By: "test"}); !errors.Is(err, ErrNothingToHold) {
		t.Errorf("HoldApplication with auto-sync off already: %v; want ErrNothingToHold", err)
	}
}
