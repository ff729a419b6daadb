package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/assets"
)

// FluxVersion is the release of Flux's source-controller and kustomize-controller the sandbox
// runs with Options.Flux (built by hack/build-kube.sh from tools/flux; CRDs in assets/flux).
const FluxVersion = "v1.9.6"

// FluxNamespace is where Flux's own objects live, as in a cluster bootstrapped by `flux`: the
// controllers' RUNTIME_NAMESPACE, and where the helpers put GitRepositories and Kustomizations.
const FluxNamespace = "flux-system"

// ArgoCDNamespace is where Argo CD keeps its Applications; the sandbox creates it with
// Options.ArgoCDCRD.
const ArgoCDNamespace = "argocd"

const (
	fluxSourceBin    = "source-controller"
	fluxKustomizeBin = "kustomize-controller"
)

var fluxBinaries = []string{fluxSourceBin, fluxKustomizeBin}

// startFlux installs Flux's CRDs and the flux-system namespace, and runs source-controller and
// kustomize-controller against the API server with the admin kubeconfig, every listener on
// 127.0.0.1, and waits until both reconcile.
func (s *Sandbox) startFlux(ctx context.Context, p ports) error {
	began := time.Now()
	if err := s.applyCRDs(ctx, "flux", assets.FluxCRDs()); err != nil {
		return err
	}
	if err := s.ensureNamespace(ctx, FluxNamespace); err != nil {
		return err
	}
	storage := s.path("flux", "storage")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return fmt.Errorf("flux storage: %w", err)
	}
	// Neither controller has a --kubeconfig flag (controller-runtime's is a Go flag, and they
	// parse pflag only): KUBECONFIG it is. RUNTIME_NAMESPACE is the namespace a controller
	// calls its own (events, and the watch when --watch-all-namespaces=false).
	env := append(os.Environ(), "KUBECONFIG="+s.Kubeconfig, "RUNTIME_NAMESPACE="+FluxNamespace)
	common := []string{
		// One of each, so no Lease to win first: leader election would only delay the start
		// (source-controller serves its artifacts only once elected).
		"--enable-leader-election=false",
		"--watch-all-namespaces=true",
		"--log-level=info",
		"--log-encoding=json",
	}
	source, err := s.launchEnv(fluxSourceBin, s.bin(fluxSourceBin), append([]string{
		"--storage-path=" + storage,
		// The artifact server: source-controller advertises this address in each artifact's
		// URL, and kustomize-controller downloads from it.
		"--storage-addr=" + hostPort(p.fluxStorage),
		"--storage-adv-addr=" + hostPort(p.fluxStorage),
		"--metrics-addr=" + hostPort(p.fluxSourceMetrics),
		"--health-addr=" + hostPort(p.fluxSourceHealth),
	}, common...), env)
	if err != nil {
		return err
	}
	kustomize, err := s.launchEnv(fluxKustomizeBin, s.bin(fluxKustomizeBin), append([]string{
		"--metrics-addr=" + hostPort(p.fluxKustomizeMetrics),
		"--health-addr=" + hostPort(p.fluxKustomizeHealth),
		// The sandbox has no internet: a remote base would only hang a reconcile.
		"--no-remote-bases=true",
	}, common...), env)
	if err != nil {
		return err
	}
	if err := waitFluxController(ctx, source, p.fluxSourceHealth, "GitRepository"); err != nil {
		return err
	}
	err = waitFor(ctx, "source-controller's artifact server", source, 30*time.Second, func(ctx context.Context) error {
		return httpExpect(ctx, http.DefaultClient, "http://"+hostPort(p.fluxStorage)+"/", "")
	})
	if err != nil {
		return err
	}
	if err := waitFluxController(ctx, kustomize, p.fluxKustomizeHealth, "Kustomization"); err != nil {
		return err
	}
	s.logf("flux %s ready in %s (CRDs applied, source-controller artifacts on %s, kustomize-controller healthz on %s)",
		FluxVersion, time.Since(began).Round(100*time.Millisecond), hostPort(p.fluxStorage), hostPort(p.fluxKustomizeHealth))
	return nil
}

// waitFluxController waits until the controller answers its health probe and its
// controller for kind runs workers (controller-runtime logs "Starting workers" once that
// kind's caches have synced: before it, an object created would wait unseen).
func waitFluxController(ctx context.Context, proc *process, healthPort int, kind string) error {
	healthz := fmt.Sprintf("http://%s/healthz", hostPort(healthPort))
	return waitFor(ctx, proc.name, proc, 90*time.Second, func(ctx context.Context) error {
		if err := httpExpect(ctx, http.DefaultClient, healthz, "ok"); err != nil {
			return err
		}
		if !logHasLine(proc.logPath, "Starting workers", `"controllerKind":"`+kind+`"`) {
			return fmt.Errorf("its %s controller has not started its workers yet (%s)", kind, proc.logPath)
		}
		return nil
	})
}

// logHasLine reports whether one line of the file contains every one of parts.
func logHasLine(path string, parts ...string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		all := true
		for _, part := range parts {
			if !strings.Contains(line, part) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// installArgoCDCRD applies Argo CD's Application CRD and creates the argocd namespace.
func (s *Sandbox) installArgoCDCRD(ctx context.Context) error {
	if err := s.applyCRDs(ctx, "argo cd", assets.ArgoCDCRDs()); err != nil {
		return err
	}
	return s.ensureNamespace(ctx, ArgoCDNamespace)
}

func (s *Sandbox) ensureNamespace(ctx context.Context, name string) error {
	_, err := s.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{FieldManager: "pyroll-sandbox"})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// Flux reports whether Flux's source-controller and kustomize-controller run in this sandbox
// (Options.Flux).
func (s *Sandbox) Flux() bool { return s.opts.Flux }
