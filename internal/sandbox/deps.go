package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Binaries the sandbox runs from Options.BinDir (built by hack/build-kube.sh), besides
// rollouts-controller unless Options.NoArgo, and Flux's controllers with Options.Flux.
var sandboxBinaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// Debian programs the sandbox runs (installed by hack/install-deps.sh). Debian's
// python3 matters: the python3 first on PATH may be another build without Flask.
const (
	prometheusBin = "/usr/bin/prometheus"
	gunicornBin   = "/usr/bin/gunicorn"
	debianPython  = "/usr/bin/python3"
	// gitBin serves the sandbox's Git repositories (git http-backend) and commits to them.
	gitBin = "/usr/bin/git"
)

func checkBinaries(dir string, argo, flux bool) error {
	var missing []string
	need := sandboxBinaries
	if argo {
		need = append(need[:len(need):len(need)], argoControllerBin)
	}
	if flux {
		need = append(need[:len(need):len(need)], fluxBinaries...)
	}
	for _, b := range need {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("sandbox binaries missing in %s: %s; build them with `make tools` (hack/build-kube.sh: %s)",
			dir, strings.Join(missing, ", "), argoBinaryHint(missing))
	}
	return nil
}

// checkDebianTools checks the Debian programs the sandbox runs; git only with Flux (the Git
// server is started on first use, GitRepo, and says so itself when git is missing).
func checkDebianTools(flux bool) error {
	var missing []string
	need := []string{prometheusBin, gunicornBin, debianPython}
	if flux {
		need = append(need, gitBin)
	}
	for _, p := range need {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			missing = append(missing, p)
		}
	}
	for _, module := range []string{"flask", "prometheus_client"} {
		if !debianModuleInstalled(module) {
			missing = append(missing, "python3 module "+module)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("sandbox needs %s; install them with `make deps` (apt-get install prometheus python3-flask python3-prometheus-client gunicorn git)",
			strings.Join(missing, ", "))
	}
	return nil
}

func debianModuleInstalled(module string) bool {
	for _, dir := range []string{"/usr/lib/python3/dist-packages"} {
		if _, err := os.Stat(filepath.Join(dir, module)); err == nil {
			return true
		}
	}
	return false
}
