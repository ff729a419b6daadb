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
	if err := checkBinaries(dir, false); err != nil {
		t.Errorf("without Argo, the Kubernetes binaries are enough: %v", err)
	}
	err := checkBinaries(dir, true)
	if err == nil || !strings.Contains(err.Error(), "rollouts-controller") || !strings.Contains(err.Error(), "make tools") || !strings.Contains(err.Error(), "hack/build-kube.sh") {
		t.Errorf("with Argo and no rollouts-controller: %v; want it named with how to build it", err)
	}
}
