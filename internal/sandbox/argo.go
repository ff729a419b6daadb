package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/pyroll/kubectl-pyroll/assets"
)

// ArgoRolloutsVersion is the Argo Rollouts release whose controller (rollouts-controller,
// built by hack/build-kube.sh from tools/argo) and CRDs (assets/argo/crds) the sandbox runs.
const ArgoRolloutsVersion = "v1.10.1"

const argoControllerBin = "rollouts-controller"

// argoStartedLine is what rollouts-controller logs (at info) once its informers' caches
// have synced and its workers run: before it, a Rollout created would wait unseen.
const argoStartedLine = "Started controller"

// installArgoCRDs applies Argo Rollouts' CRDs and waits until the API server serves them.
func (s *Sandbox) installArgoCRDs(ctx context.Context) error {
	return s.applyCRDs(ctx, "argo rollouts", assets.ArgoCRDs())
}

// startArgo installs the CRDs and runs rollouts-controller with the admin kubeconfig,
// cluster-wide (the tests put Rollouts in namespaces of their own), and waits until it works.
func (s *Sandbox) startArgo(ctx context.Context, p ports) error {
	began := time.Now()
	if err := s.installArgoCRDs(ctx); err != nil {
		return err
	}
	proc, err := s.launch("rollouts-controller", s.bin(argoControllerBin), []string{
		"--kubeconfig=" + s.Kubeconfig,
		// One controller, so no Lease to win first: leader election would only delay its
		// start (and needs the argo-rollouts namespace for its Lease).
		"--leader-elect=false",
		// hack/build-kube.sh builds it to bind these on 127.0.0.1 (upstream binds 0.0.0.0).
		fmt.Sprintf("--metricsPort=%d", p.argoMetrics),
		fmt.Sprintf("--healthzPort=%d", p.argoHealthz),
		// info: one line per reconcile and per measurement, which is what explains a test's
		// failure; debug would bury it.
		"--loglevel=info",
		"--logformat=text",
		"--kloglevel=0",
	})
	if err != nil {
		return err
	}
	healthz := fmt.Sprintf("http://%s/healthz", hostPort(p.argoHealthz))
	err = waitFor(ctx, "rollouts-controller", proc, 60*time.Second, func(ctx context.Context) error {
		// The controller only logs a port it could not bind and goes on: make that a start
		// failure (Start then tries again on other ports), not a health check of whatever
		// holds the port.
		logData, _ := os.ReadFile(proc.logPath)
		if bytes.Contains(logData, []byte("address already in use")) {
			return nil
		}
		if err := httpExpect(ctx, http.DefaultClient, healthz, "ok"); err != nil {
			return err
		}
		if !bytes.Contains(logData, []byte(argoStartedLine)) {
			return fmt.Errorf("its caches have not synced yet (no %q in %s)", argoStartedLine, proc.logPath)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if logData, _ := os.ReadFile(proc.logPath); bytes.Contains(logData, []byte("address already in use")) {
		return fmt.Errorf("rollouts-controller: address already in use (metrics port %d, healthz port %d); last lines of %s:\n%s",
			p.argoMetrics, p.argoHealthz, proc.logPath, tailFile(proc.logPath, 5))
	}
	s.logf("argo rollouts %s ready in %s (CRDs applied, rollouts-controller healthz on %s)",
		ArgoRolloutsVersion, time.Since(began).Round(100*time.Millisecond), hostPort(p.argoHealthz))
	return nil
}

// Argo reports whether Argo Rollouts runs in this sandbox: its CRDs served and its
// controller started (Options.NoArgo turns both off).
func (s *Sandbox) Argo() bool { return !s.opts.NoArgo }

// argoBinaryHint is what checkBinaries says of the time `make tools` takes to build what is
// missing.
func argoBinaryHint(missing []string) string {
	onlyFlux := true
	for _, m := range missing {
		if m != fluxSourceBin && m != fluxKustomizeBin {
			onlyFlux = false
		}
	}
	switch {
	case onlyFlux:
		return "Flux's controllers take several minutes each the first time"
	case len(missing) == 1 && strings.HasPrefix(missing[0], argoControllerBin):
		return "the Argo Rollouts controller takes about 8 minutes the first time"
	}
	return "about 11 minutes the first time, plus about 8 for the Argo Rollouts controller"
}
