// Command pyroll-sandbox runs the local control plane that `make demo` and the end-to-end
// tests use: a real kube-apiserver, controllers and scheduler, kwok nodes, the Argo Rollouts
// controller, Prometheus and the sample Python services.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
)

const usage = `pyroll-sandbox: a local Kubernetes control plane with sample Python services.

Usage:
  pyroll-sandbox up   [--dir DIR] [--bin DIR] [--nodes N] [--seed=false] [--argo=false] [--scale] [--flux] [--argocd-crd]
        start it and keep it running until Ctrl-C (or 'pyroll-sandbox down')
  pyroll-sandbox run  [flags] [--clusters N] -- COMMAND [ARGS...]
        start it, run COMMAND with KUBECONFIG and PYROLL_PROMETHEUS_URL set, stop it after;
        with --clusters N (2 to 4), N clusters behind one kubeconfig (contexts sandbox-eu,
        sandbox-us, ...) and PYROLL_CONFIG naming each one's Prometheus
  pyroll-sandbox down [--dir DIR]
        stop the sandbox running in DIR (also cleans up after one that was killed)
  pyroll-sandbox env  [--dir DIR]
        print the exports that point kubectl and kubectl-pyroll at the running sandbox

Defaults: --dir .sandbox, --bin .cache/bin (built by 'make tools').
--argo=false leaves Argo Rollouts out (no CRDs, no controller, no checkout-api in the demo).
--flux runs Flux's source-controller and kustomize-controller; --argocd-crd installs Argo CD's
Application CRD (no Argo CD controller). Both off by default.
--scale sets the control plane up for thousands of pods (with e.g. --nodes 20), as
'make bench' does for its 10,000-pod run; without it, the small quick demo sandbox.
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "pyroll-sandbox: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Print(usage)
		return nil
	}
	verb := args[0]
	flags := flag.NewFlagSet(verb, flag.ContinueOnError)
	flags.Usage = func() { fmt.Fprint(os.Stderr, usage) }
	dir := flags.String("dir", ".sandbox", "state directory")
	bin := flags.String("bin", ".cache/bin", "directory with etcd, kube-*, kwok and rollouts-controller")
	nodes := flags.Int("nodes", 3, "kwok nodes")
	seed := flags.Bool("seed", true, "seed the demo namespace")
	scale := flags.Bool("scale", false, "set the control plane up for thousands of pods")
	argo := flags.Bool("argo", true, "run Argo Rollouts (its CRDs and controller)")
	flux := flags.Bool("flux", false, "run Flux's source-controller and kustomize-controller")
	argoCDCRD := flags.Bool("argocd-crd", false, "install Argo CD's Application CRD")
	clusters := flags.Int("clusters", 1, "clusters to start (1 to 4), each seeded alike, behind one kubeconfig as contexts sandbox-eu, sandbox-us, ...")
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	switch verb {
	case "up":
		return up(sandbox.Options{Dir: *dir, BinDir: *bin, Nodes: *nodes, Scale: *scale, NoArgo: !*argo, Flux: *flux, ArgoCDCRD: *argoCDCRD}, *seed, *clusters, nil)
	case "run":
		if flags.NArg() == 0 {
			return errors.New("run needs a command: pyroll-sandbox run -- COMMAND [ARGS...]")
		}
		return up(sandbox.Options{Dir: *dir, BinDir: *bin, Nodes: *nodes, Scale: *scale, NoArgo: !*argo, Flux: *flux, ArgoCDCRD: *argoCDCRD}, *seed, *clusters, flags.Args())
	case "down":
		return down(*dir)
	case "env":
		data, err := os.ReadFile(filepath.Join(*dir, "env"))
		if err != nil {
			return fmt.Errorf("no sandbox running in %s (start one with 'make sandbox')", *dir)
		}
		fmt.Print(string(data))
		return nil
	default:
		return fmt.Errorf("unknown command %q; run 'pyroll-sandbox --help'", verb)
	}
}

// down stops the sandbox in dir and the other clusters started with it (--clusters: their
// directories beside it), also those left running after the sandbox's own process was
// killed.
func down(dir string) error {
	var stoppedAny bool
	for i := range regions {
		member := clusterDir(dir, i)
		stopped, err := sandbox.StopRecorded(member)
		if err != nil {
			return fmt.Errorf("stop the sandbox in %s: %w", member, err)
		}
		if stopped {
			fmt.Printf("sandbox in %s stopped\n", member)
			stoppedAny = true
		}
	}
	if !stoppedAny {
		fmt.Printf("no sandbox running in %s\n", dir)
	}
	return nil
}

// clusterDir is the state directory of the i-th cluster of --clusters: the first one's is
// dir itself, so that one cluster is where it always was.
func clusterDir(dir string, i int) string {
	if i == 0 {
		return dir
	}
	return dir + "-" + regions[i].region
}

// regions name the clusters of --clusters: context sandbox-<region>, cluster <name>.
var regions = []struct{ region, cluster string }{{"eu", "eu-west-1"}, {"us", "us-east-1"}, {"ap", "ap-south-1"}, {"sa", "sa-east-1"}}

func up(opts sandbox.Options, seed bool, clusters int, command []string) error {
	if clusters < 1 || clusters > len(regions) {
		return fmt.Errorf("--clusters %d: give 1 to %d", clusters, len(regions))
	}
	dir := opts.Dir
	if seed {
		opts.Seed = demo.SeedDemo
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	started, err := startClusters(ctx, opts, clusters)
	for _, sb := range started {
		if sb != nil {
			defer sb.Stop()
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted during start; everything started so far was stopped")
		}
		return err
	}
	sb := started[0]
	env := []string{"KUBECONFIG=" + sb.Kubeconfig, "PYROLL_PROMETHEUS_URL=" + sb.PrometheusURL}
	if clusters > 1 {
		members := make([]sandbox.FleetMember, clusters)
		for i, other := range started {
			members[i] = sandbox.FleetMember{Context: "sandbox-" + regions[i].region, Cluster: regions[i].cluster, Kubeconfig: other.Kubeconfig, PrometheusURL: other.PrometheusURL}
		}
		kubeconfig, config, err := sandbox.WriteFleet(dir, members)
		if err != nil {
			return err
		}
		// No PYROLL_PROMETHEUS_URL: it would serve every context; the config names each one's.
		env = []string{"KUBECONFIG=" + kubeconfig, "PYROLL_CONFIG=" + config}
		fmt.Fprintf(os.Stderr, "sandbox: %d clusters behind %s (contexts %s), each one's Prometheus in %s\n", clusters, kubeconfig, contextNames(members), config)
	}

	if command != nil {
		if seed {
			// Printed before the console takes the screen, and seen again when it quits.
			fmt.Fprint(os.Stderr, guardHint(dir))
		}
		stop() // the command owns Ctrl-C now; the sandbox stops when it exits
		cmd := exec.Command(command[0], command[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.Env = append(os.Environ(), env...)
		signal.Ignore(os.Interrupt)
		err := cmd.Run()
		signal.Reset(os.Interrupt)
		fmt.Fprintln(os.Stderr, "sandbox: stopping")
		return err
	}

	fmt.Printf("\nSandbox running. Kubeconfig: %s\nPrometheus: %s\n\n", sb.Kubeconfig, sb.PrometheusURL)
	if seed {
		if kubectl, err := exec.LookPath("kubectl"); err == nil {
			kinds := "deploy"
			if sb.Argo() {
				kinds = "deploy,rollouts"
			}
			get := exec.Command(kubectl, "--kubeconfig", sb.Kubeconfig, "get", kinds, "-n", demo.Namespace, "-o", "wide")
			get.Stdout, get.Stderr = os.Stdout, os.Stderr
			_ = get.Run()
		}
	}
	fmt.Printf("\nTry:  kubectl --kubeconfig %s get deploy,rs,pods -n %s\n", sb.Kubeconfig, demo.Namespace)
	fmt.Printf("Or:   eval \"$(go run ./cmd/pyroll-sandbox env --dir %s)\"\n", dir)
	if seed {
		fmt.Print(guardHint(dir))
	}
	fmt.Println("Press Ctrl-C to stop the sandbox.")
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "\nsandbox: stopping")
	return nil
}

func contextNames(members []sandbox.FleetMember) string {
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = m.Context
	}
	return strings.Join(names, ", ")
}

// guardHint says how to run the headless guard against the demo from another terminal.
func guardHint(dir string) string {
	return fmt.Sprintf(`
The SLO guardrail on the demo, from another terminal: orders-api's canary serves 5%% errors,
so give it a 1%% threshold, resume it, and the guard halts it again after two rounds:
  eval "$(go run ./cmd/pyroll-sandbox env --dir %[1]s)"
  kubectl annotate deploy/orders-api -n %[2]s pyroll.dev/max-error-rate=0.01
  bin/kubectl-pyroll guard -n %[2]s --after 2 --metrics-interval 5s &
  bin/kubectl-pyroll promote orders-api -n %[2]s
cart-api's release 2.1.0 completed with no pause (a plain rolling update) and serves 5%%
errors where 2.0.0 served 0.2%%: it is Baking; the guard rolls it back to 2.0.0:
  bin/kubectl-pyroll guard cart-api -n %[2]s --after 2 --action rollback --metrics-interval 5s
`, dir, demo.Namespace)
}
