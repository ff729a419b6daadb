// Package sandbox runs a real, local Kubernetes control plane for the demo and the
// end-to-end tests: etcd, kube-apiserver (TLS, RBAC), kube-controller-manager,
// kube-scheduler, kwok with fake nodes, the Argo Rollouts controller with its CRDs,
// Prometheus, and a pod runner that serves the sample Python service for every Running
// sample pod; on demand, Flux's controllers (Options.Flux), Argo CD's Application CRD
// (Options.ArgoCDCRD), a Git server (GitRepo) and the helm CLI (Helm). Everything binds to
// loopback on ports chosen free, and everything is stopped (whole process groups) by Stop.
//
// This package is the sandbox's lifecycle. What runs in it lives beside it: package workload
// (sample Python services as Deployments or Argo Rollouts, and waits on them), package demo
// (the demo's services, Options.Seed), package gitops (workloads under Flux, Helm or an Argo
// CD Application) and package auditlog (reading the API server's audit log).
package sandbox

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// KubeVersion is the Kubernetes release the sandbox builds and runs.
const KubeVersion = "v1.36.3"

// Options say where the sandbox keeps its state and binaries and what it seeds.
type Options struct {
	// Dir holds certificates, data, logs and the kubeconfig. One sandbox per Dir at a time.
	Dir string
	// BinDir holds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok,
	// rollouts-controller, source-controller, kustomize-controller and helm (hack/build-kube.sh
	// builds them there).
	BinDir string
	// Nodes is the number of kwok nodes (default 3).
	Nodes int
	// Seed, when set, puts workloads into the cluster once the control plane is ready
	// (demo.Seed: the demo namespace with its services); Start returns after it, and stops
	// everything when it fails. It gets the running sandbox: its clients (Client, Dynamic),
	// PrometheusURL, and whether Argo Rollouts runs (Argo).
	Seed func(ctx context.Context, sb *Sandbox, log io.Writer) error
	// NoArgo leaves Argo Rollouts out: no CRDs (argoproj.io is not served at all, as on a
	// cluster that never had Argo) and no rollouts-controller, which then need not be built.
	// By default the sandbox runs the Argo Rollouts controller (ArgoRolloutsVersion),
	// cluster-wide, beside the control plane.
	NoArgo bool
	// Scale sets the control plane up for thousands of pods (hack/scalebench runs 10,000 on
	// 20 nodes): higher client rates and more concurrent syncs for the controller-manager and
	// the scheduler, more requests in flight for the API server, more stage workers for
	// kwok. kwok's nodes have room for any number of pods either way (capacity pods: 1M, cpu:
	// 1k, memory: 1Ti). Off, the sandbox is the small, quick one of the demo and the tests.
	Scale bool
	// Flux runs Flux's source-controller and kustomize-controller (FluxVersion) beside the
	// control plane: their CRDs, the flux-system namespace, both controllers cluster-wide with
	// the admin kubeconfig, their logs in LogDir. Off by default: they need building (make
	// tools) and cost a few seconds of start. The sandbox's Git server (GitRepo) gives them
	// something to pull; package gitops has the helpers that make Flux manage a workload.
	Flux bool
	// ArgoCDCRD installs Argo CD's Application CRD (applications.argoproj.io, Argo CD
	// v3.6.2's own) and the argocd namespace, so Applications can be created and patched
	// against the real schema. No Argo CD controller runs: nothing syncs them.
	ArgoCDCRD bool
	// APIServerArgs are more flags for kube-apiserver, after the sandbox's own (the last of
	// a flag given twice wins): e.g. --watch-cache=false, for tests of expired watches.
	APIServerArgs []string
	// Log receives one line per step; nil discards.
	Log io.Writer
}

// Sandbox is a running sandbox.
type Sandbox struct {
	opts Options

	// Kubeconfig is the admin kubeconfig (user pyroll-admin, group system:masters).
	Kubeconfig string
	// APIServerURL is https://127.0.0.1:PORT.
	APIServerURL string
	// PrometheusURL is http://127.N.255.254:PORT (a loopback address of this sandbox's block);
	// in the cluster it is the Service PrometheusService.
	PrometheusURL string

	restConfig *rest.Config
	client     kubernetes.Interface
	dynamic    dynamic.Interface
	ca         *authority
	loopback   loopbackBlock
	egress     *egressProxy
	pods       *podRunner
	stateLock  *os.File

	apiserverArgs  []string
	etcdArgs       []string
	etcdURL        string
	prometheusArgs []string
	prometheusPort int
	adminHTTP      *http.Client

	mu    sync.Mutex
	procs []*process

	gitMu sync.Mutex
	git   *gitServer // started by the first GitRepo

	stopOnce sync.Once
	stopErr  error
}

// Start brings the whole sandbox up and returns when it is ready (nodes Ready, Prometheus
// ready, Options.Seed done). On any failure everything already started is stopped.
func Start(ctx context.Context, opts Options) (*Sandbox, error) {
	if opts.Nodes <= 0 {
		opts.Nodes = 3
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("sandbox dir: %w", err)
	}
	opts.Dir = dir
	if err := checkBinaries(opts.BinDir, !opts.NoArgo, opts.Flux); err != nil {
		return nil, err
	}
	if err := checkDebianTools(opts.Flux); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		s := &Sandbox{opts: opts}
		err := s.start(ctx)
		if err == nil {
			return s, nil
		}
		_ = s.Stop()
		// Ports are chosen free, but another program may take one before the component
		// binds it: then start again on new ports rather than fail.
		if attempt < 3 && strings.Contains(err.Error(), "address already in use") && ctx.Err() == nil {
			fmt.Fprintf(opts.Log, "sandbox: a port was taken meanwhile (%v); starting again on other ports\n", firstLine(err))
			continue
		}
		return nil, err
	}
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

func (s *Sandbox) logf(format string, args ...any) {
	fmt.Fprintf(s.opts.Log, "sandbox: "+format+"\n", args...)
}

func (s *Sandbox) path(elem ...string) string {
	return filepath.Join(append([]string{s.opts.Dir}, elem...)...)
}

func (s *Sandbox) start(ctx context.Context) error {
	began := time.Now()
	if err := os.MkdirAll(s.opts.Dir, 0o755); err != nil {
		return fmt.Errorf("create sandbox dir: %w", err)
	}
	lock, err := lockState(s.opts.Dir)
	if err != nil {
		return err
	}
	s.stateLock = lock
	// A previous run's data would only confuse this one: state is rebuilt each start.
	for _, sub := range []string{"etcd", "logs", "pki", "prometheus", "sample-service", "flux", "git", "helm"} {
		if err := os.RemoveAll(s.path(sub)); err != nil {
			return fmt.Errorf("clean %s: %w", s.path(sub), err)
		}
	}
	for _, sub := range []string{"logs/pods", "pki", "prometheus/data", "sample-service"} {
		if err := os.MkdirAll(s.path(sub), 0o755); err != nil {
			return err
		}
	}
	if s.loopback, err = acquireLoopbackBlock(); err != nil {
		return err
	}
	p, err := allocatePorts()
	if err != nil {
		return err
	}
	files, err := s.writePKI()
	if err != nil {
		return fmt.Errorf("sandbox certificates: %w", err)
	}
	if s.egress, err = startEgressProxy(s.path("egress.sock"), s.loopback); err != nil {
		return err
	}

	if err := s.startEtcd(ctx, p); err != nil {
		return err
	}
	if err := s.startAPIServer(ctx, p, files); err != nil {
		return err
	}
	if err := s.writeKubeconfig(files); err != nil {
		return err
	}
	if err := s.startControllers(ctx, p, files); err != nil {
		return err
	}
	if !s.opts.NoArgo {
		if err := s.startArgo(ctx, p); err != nil {
			return err
		}
	}
	if s.opts.Flux {
		if err := s.startFlux(ctx, p); err != nil {
			return err
		}
	}
	if s.opts.ArgoCDCRD {
		if err := s.installArgoCDCRD(ctx); err != nil {
			return err
		}
	}
	if err := s.startPrometheus(ctx, p); err != nil {
		return err
	}
	if err := s.createNodes(ctx); err != nil {
		return err
	}
	if err := s.exposePrometheus(ctx); err != nil {
		return err
	}
	if s.pods, err = startPodRunner(s.client, s.dynamic, s.loopback, s.path("sample-service"), s.path("prometheus", "targets.json"), s.path("logs", "pods"), s.opts.Log); err != nil {
		return err
	}
	if err := s.writeEnvFile(); err != nil {
		return err
	}
	argo := "Argo Rollouts " + ArgoRolloutsVersion
	if s.opts.NoArgo {
		argo = "no Argo Rollouts"
	}
	if s.opts.Flux {
		argo += ", Flux " + FluxVersion
	}
	if s.opts.ArgoCDCRD {
		argo += ", Argo CD's Application CRD"
	}
	s.logf("control plane ready in %s (Kubernetes %s, %s, %d kwok nodes)", time.Since(began).Round(100*time.Millisecond), KubeVersion, argo, s.opts.Nodes)
	if s.opts.Seed != nil {
		if err := s.opts.Seed(ctx, s, s.opts.Log); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}

// Client is an admin clientset for the sandbox.
func (s *Sandbox) Client() kubernetes.Interface { return s.client }

// Dynamic is an admin dynamic client for the sandbox: what reads and writes Argo's objects
// (Rollouts, AnalysisRuns, AnalysisTemplates), which have no typed client here.
func (s *Sandbox) Dynamic() dynamic.Interface { return s.dynamic }

// RESTConfig is a copy of the admin REST config.
func (s *Sandbox) RESTConfig() *rest.Config { return rest.CopyConfig(s.restConfig) }

// LogDir is where every component writes its log.
func (s *Sandbox) LogDir() string { return s.path("logs") }

func (s *Sandbox) launch(name, bin string, args []string) (*process, error) {
	return s.launchEnv(name, bin, args, os.Environ())
}

// launchEnv is launch with the environment given (Flux's controllers take their kubeconfig
// from it).
func (s *Sandbox) launchEnv(name, bin string, args, env []string) (*process, error) {
	p, err := startProcess(name, bin, args, env, s.path("logs"))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	s.recordPIDs()
	return p, nil
}

// Stop stops every component, newest first, each as a whole process group, and frees the
// sandbox's locks. It is safe to call more than once.
func (s *Sandbox) Stop() error {
	s.stopOnce.Do(func() {
		if s.pods != nil {
			s.pods.stop()
		}
		s.mu.Lock()
		procs := append([]*process(nil), s.procs...)
		s.mu.Unlock()
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop(5 * time.Second)
		}
		s.gitMu.Lock()
		if s.git != nil {
			s.git.close()
		}
		s.gitMu.Unlock()
		if s.egress != nil {
			s.egress.close()
		}
		s.loopback.release()
		_ = os.Remove(s.path("pids"))
		_ = os.Remove(s.path("env"))
		if s.stateLock != nil {
			s.stateLock.Close()
		}
	})
	return s.stopErr
}

func (s *Sandbox) loadClient() error {
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		return fmt.Errorf("load sandbox kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	cfg.WarningHandler = rest.NoWarnings{} // e.g. "v1 Endpoints is deprecated": the sandbox means it
	s.restConfig = cfg
	if s.client, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	s.dynamic, err = dynamic.NewForConfig(cfg)
	return err
}
