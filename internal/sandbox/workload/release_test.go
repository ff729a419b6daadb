package workload

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
)

func TestReleaseDeploymentCarriesProvenance(t *testing.T) {
	r := Release{Namespace: "demo", Name: "x-api", Image: "ghcr.io/acme/x:1.8.0", Version: "1.8.0",
		GitSHA: "3f2a9c1b7e5d3a1f9c7b5e3d1a9f7c5b3e1d9a7f", LockHash: "sha256:7a6b5c4d3e2f"}
	d := r.Deployment()
	ann := d.Spec.Template.Annotations
	if ann["org.opencontainers.image.revision"] != r.GitSHA || ann["pyroll.dev/lock-hash"] != r.LockHash || ann[sandbox.ImageDigestAnnotation] != r.ImageDigest() {
		t.Errorf("template annotations %v lack the release's provenance", ann)
	}
	if _, crash := d.Spec.Template.Labels[sandbox.CrashLabel]; crash {
		t.Errorf("a healthy release must not carry the crash label")
	}
	if d.Spec.Template.Labels[sandbox.RunLabel] != sandbox.RunSampleService {
		t.Errorf("labels %v: the pod runner would not run the sample service", d.Spec.Template.Labels)
	}
}

func TestMissingModuleReleaseCrashLoopsForReal(t *testing.T) {
	r := Release{Namespace: "demo", Name: "x-api", Image: "ghcr.io/acme/x:2.0.0", MissingModule: "orjson"}
	d := r.Deployment()
	tmpl := d.Spec.Template
	if tmpl.Labels[sandbox.CrashLabel] != "true" || !strings.Contains(tmpl.Annotations[sandbox.CrashMessageAnnotation], "ModuleNotFoundError: No module named 'orjson'") {
		t.Errorf("labels %v, annotations %v; want crash-looping with the module in the message", tmpl.Labels, tmpl.Annotations)
	}
	if got := envValue(tmpl.Spec.Containers[0], sandbox.ImportEnv); got != "orjson" {
		t.Errorf("%s = %q; want orjson", sandbox.ImportEnv, got)
	}
	if envValue(Release{Name: "y"}.Deployment().Spec.Template.Spec.Containers[0], sandbox.ImportEnv) != "" {
		t.Errorf("%s set on a release without MissingModule", sandbox.ImportEnv)
	}
	explicit := r
	explicit.CrashMessage = PythonTraceback("/app/x/serializers.py", "import orjson", "ModuleNotFoundError: No module named 'orjson'")
	if explicit.Deployment().Spec.Template.Annotations[sandbox.CrashMessageAnnotation] != explicit.CrashMessage {
		t.Error("an explicit CrashMessage must stay the termination message")
	}
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}
