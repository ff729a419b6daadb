// Package release checks what `make release-snapshot` (goreleaser) leaves in dist/.
package release

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// krewPlugin is the part of krew's Plugin (krew.googlecontainertools.github.com/v1alpha2)
// that krew's validation and install read.
type krewPlugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string `json:"version"`
		ShortDescription string `json:"shortDescription"`
		Homepage         string `json:"homepage"`
		Caveats          string `json:"caveats"`
		Platforms        []struct {
			URI      string `json:"uri"`
			Sha256   string `json:"sha256"`
			Bin      string `json:"bin"`
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
		} `json:"platforms"`
	} `json:"spec"`
}

// The generated krew manifest follows krew's rules and names the archives of the same
// run by their checksums. Skipped unless dist/ holds a release (make release-snapshot).
func TestKrewManifest(t *testing.T) {
	dist := filepath.Join("..", "..", "dist")
	data, err := os.ReadFile(filepath.Join(dist, "krew", "pyroll.yaml"))
	if os.IsNotExist(err) {
		// make release-snapshot runs this test right after goreleaser fills dist/; make
		// test runs it only where a snapshot was made (CI's clean clone has none).
		t.Skip("no dist/krew/pyroll.yaml: run make release-snapshot first")
	}
	if err != nil {
		t.Fatal(err)
	}
	var p krewPlugin
	if err := yaml.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if p.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || p.Kind != "Plugin" || p.Metadata.Name != "pyroll" {
		t.Errorf("header %s %s %s", p.APIVersion, p.Kind, p.Metadata.Name)
	}
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`).MatchString(p.Spec.Version) {
		t.Errorf("version %q is not a v-prefixed semantic version", p.Spec.Version)
	}
	if n := len(p.Spec.ShortDescription); n == 0 || n > 50 {
		t.Errorf("shortDescription %q: %d characters, krew's index wants 1 to 50", p.Spec.ShortDescription, n)
	}
	if !strings.Contains(p.Spec.Caveats, "kubectl_complete-pyroll") || !strings.HasPrefix(p.Spec.Homepage, "https://") {
		t.Errorf("caveats %q, homepage %q", p.Spec.Caveats, p.Spec.Homepage)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	byArchive := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		if sum, name, ok := strings.Cut(line, "  "); ok {
			byArchive[name] = sum
		}
	}
	seen := map[string]bool{}
	for _, pl := range p.Spec.Platforms {
		target := pl.Selector.MatchLabels["os"] + "/" + pl.Selector.MatchLabels["arch"]
		seen[target] = true
		archive := pl.URI[strings.LastIndex(pl.URI, "/")+1:]
		if !strings.HasPrefix(pl.URI, "https://github.com/pyroll/kubectl-pyroll/releases/download/") || byArchive[archive] != pl.Sha256 || pl.Bin != "kubectl-pyroll" {
			t.Errorf("%s: uri %s sha256 %s (checksums.txt: %s) bin %s", target, pl.URI, pl.Sha256, byArchive[archive], pl.Bin)
		}
	}
	for _, want := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"} {
		if !seen[want] {
			t.Errorf("no platform %s", want)
		}
	}
}
