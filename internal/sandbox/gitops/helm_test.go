package gitops

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// The chart is Helm's layout with the release's Deployment as its one template: the image
// from values, the namespace and Helm's standard labels from template actions, unquoted.
func TestHelmChartWrite(t *testing.T) {
	release := workload.Release{Namespace: "shop", Name: "orders", Image: "ghcr.io/acme/orders:1.8.0", Version: "1.8.0", GitSHA: "abc"}
	dir, err := HelmChart{Version: "0.2.0", Release: release}.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	chart := read("Chart.yaml")
	for _, want := range []string{"apiVersion: v2\n", "name: orders\n", `version: "0.2.0"`, `appVersion: "1.8.0"`} {
		if !strings.Contains(chart, want) {
			t.Errorf("Chart.yaml has no %q:\n%s", want, chart)
		}
	}
	if values := read("values.yaml"); values != "image: \"ghcr.io/acme/orders:1.8.0\"\n" {
		t.Errorf("values.yaml: %q", values)
	}
	tmpl := read("templates/deployment.yaml")
	for _, want := range []string{
		"kind: Deployment\n",
		"namespace: {{ .Release.Namespace | quote }}\n",
		"image: {{ .Values.image | quote }}\n",
		"app.kubernetes.io/instance: {{ .Release.Name | quote }}\n",
		"app.kubernetes.io/managed-by: {{ .Release.Service | quote }}\n",
	} {
		if !strings.Contains(tmpl, want) {
			t.Errorf("templates/deployment.yaml has no %q:\n%s", want, tmpl)
		}
	}
	for _, unwanted := range []string{"pyroll-helm-", "status:", "creationTimestamp"} {
		if strings.Contains(tmpl, unwanted) {
			t.Errorf("templates/deployment.yaml has %q:\n%s", unwanted, tmpl)
		}
	}
}
