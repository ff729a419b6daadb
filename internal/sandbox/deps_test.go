package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Without NoArgo the controller is one more binary to build, and the message says how.
func TestCheckBinariesNamesTheArgoController(t *testing.T) {
	dir := t.TempDir()
	for _, b := range sandboxBinaries {
		if err := os.WriteFile(filepath.Join(dir, b), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkBinaries(dir, false, false); err != nil {
		t.Errorf("without Argo, the Kubernetes binaries are enough: %v", err)
	}
	err := checkBinaries(dir, true, false)
	if err == nil || !strings.Contains(err.Error(), "rollouts-controller") || !strings.Contains(err.Error(), "make tools") || !strings.Contains(err.Error(), "hack/build-kube.sh") {
		t.Errorf("with Argo and no rollouts-controller: %v; want it named with how to build it", err)
	}
}

// With Flux, its two controllers are needed too, and named.
func TestCheckBinariesNamesFluxControllers(t *testing.T) {
	dir := t.TempDir()
	for _, b := range sandboxBinaries {
		if err := os.WriteFile(filepath.Join(dir, b), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	err := checkBinaries(dir, false, true)
	if err == nil || !strings.Contains(err.Error(), "source-controller, kustomize-controller") || !strings.Contains(err.Error(), "Flux's controllers") {
		t.Errorf("with Flux and no controllers: %v; want both named, with how long they take to build", err)
	}
}
