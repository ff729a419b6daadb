// Package demo is the demo's workload: Python services in the states an on-call engineer
// meets mid-deploy, seeded by `make demo` and the end-to-end tests. Three Deployments:
// payments-api complete, orders-api halted with an erring canary, search-api whose new
// release crash-loops. One Argo Rollout (when the sandbox runs Argo): checkout-api, its new
// release's canary (1 of 5 pods) held at an indefinite pause while a background analysis
// checks its error rate in the sandbox's Prometheus (checkout.go).
package demo

import (
	"context"
	"fmt"
	"io"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// Namespace is where Seed puts its services.
const Namespace = "demo"

// The demo's releases. orders-api v1.8.0 serves 5% errors against 0.5% for v1.7.3;
// search-api v3.3.0 imports a module its lock file lost, and really fails at import.
var (
	PaymentsV1 = workload.Release{
		Namespace: Namespace, Name: "payments-api", Image: "ghcr.io/acme/payments:2.4.1",
		Source: "https://github.com/acme/payments", Version: "2.4.1",
		GitSHA: "7c1e9a4d2b8f0e6a5c3d1b9f7e5a3c1d9b7f5e3a", LockHash: "sha256:4f1c2a9e0b7d",
		Python: "3.12.7", Pipeline: "https://github.com/acme/payments/actions/runs/9120001",
		Replicas: 3, ErrorRate: 0.001, LatencyMS: 35,
	}
	OrdersV1 = workload.Release{
		Namespace: Namespace, Name: "orders-api", Image: "ghcr.io/acme/orders:1.7.3",
		Source: "https://github.com/acme/orders", Version: "1.7.3",
		GitSHA: "9b01d4e6a2c8f0b1d3e5a7c9b2d4f6a8c0e2b4d6", LockHash: "sha256:0d9e8c7b6a51",
		Python: "3.12.7", Pipeline: "https://github.com/acme/orders/actions/runs/9118842",
		Replicas: 4, ErrorRate: 0.005, LatencyMS: 60,
	}
	OrdersV2 = workload.Release{
		Namespace: Namespace, Name: "orders-api", Image: "ghcr.io/acme/orders:1.8.0",
		Source: "https://github.com/acme/orders", Version: "1.8.0",
		GitSHA: "3f2a9c1b7e5d3a1f9c7b5e3d1a9f7c5b3e1d9a7f", LockHash: "sha256:7a6b5c4d3e2f",
		Python: "3.12.8", Pipeline: "https://github.com/acme/orders/actions/runs/9121337",
		Replicas: 4, ErrorRate: 0.05, LatencyMS: 140,
		// Long enough that the canary pod cannot count as available before the seed halts it.
		MinReadySeconds: 30,
	}
	SearchV1 = workload.Release{
		Namespace: Namespace, Name: "search-api", Image: "ghcr.io/acme/search:3.2.0",
		Source: "https://github.com/acme/search", Version: "3.2.0",
		GitSHA: "5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d", LockHash: "sha256:c3b2a1f0e9d8",
		Python: "3.11.10", Pipeline: "https://github.com/acme/search/actions/runs/9119410",
		Replicas: 3, ErrorRate: 0.002, LatencyMS: 25,
	}
	SearchV2 = workload.Release{
		Namespace: Namespace, Name: "search-api", Image: "ghcr.io/acme/search:3.3.0",
		Source: "https://github.com/acme/search", Version: "3.3.0",
		GitSHA: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", LockHash: "sha256:e8d7c6b5a4f3",
		Python: "3.11.10", Pipeline: "https://github.com/acme/search/actions/runs/9121502",
		Replicas: 3, ErrorRate: 0.002, LatencyMS: 25,
		MissingModule:   "orjson",
		CrashMessage:    workload.PythonTraceback("/app/search/serializers.py", "import orjson", "ModuleNotFoundError: No module named 'orjson'"),
		MinReadySeconds: 10, ProgressDeadlineSeconds: 120,
	}
)

// Seed creates the demo namespace: payments-api complete and healthy, orders-api halted
// mid-rollout with a canary serving 5% errors, search-api whose new release crash-loops
// while its previous revision keeps serving, and, when the sandbox runs Argo Rollouts,
// checkout-api paused at step index 1 with its canary's analysis passing. It fits
// sandbox.Options.Seed.
func Seed(ctx context.Context, sb *sandbox.Sandbox, log io.Writer) error {
	if err := SeedIn(ctx, sb.Client(), Namespace); err != nil {
		return fmt.Errorf("demo namespace: %w", err)
	}
	seeded := "payments-api (complete), orders-api (halted mid-rollout), search-api (new release crash-looping)"
	if sb.Argo() {
		if err := SeedCheckoutIn(ctx, sb, Namespace); err != nil {
			return fmt.Errorf("demo namespace: %w", err)
		}
		seeded += ", checkout-api (Argo Rollout: canary 1/5 paused at step 1, its error-rate analysis running)"
	}
	fmt.Fprintf(log, "sandbox: seeded namespace %s: %s\n", Namespace, seeded)
	return nil
}

// SeedIn puts the demo's three Deployments, in their demo states, into namespace ns
// (tests that act on them use a namespace of their own); SeedCheckoutIn adds the Rollout.
func SeedIn(ctx context.Context, client kubernetes.Interface, ns string) error {
	in := func(r workload.Release) workload.Release { r.Namespace = ns; return r }
	if err := workload.EnsureNamespace(ctx, client, ns); err != nil {
		return err
	}
	for _, r := range []workload.Release{PaymentsV1, OrdersV1, SearchV1} {
		if _, err := in(r).Apply(ctx, client); err != nil {
			return err
		}
	}
	for _, name := range []string{PaymentsV1.Name, OrdersV1.Name, SearchV1.Name} {
		if err := workload.WaitDeployment(ctx, client, ns, name, 2*time.Minute, "complete", workload.DeploymentComplete); err != nil {
			return err
		}
	}
	if _, err := in(OrdersV2).Apply(ctx, client); err != nil {
		return err
	}
	if _, err := in(SearchV2).Apply(ctx, client); err != nil {
		return err
	}
	if err := workload.WaitDeployment(ctx, client, ns, OrdersV2.Name, time.Minute, "canary pod ready",
		func(d *appsv1.Deployment) bool {
			return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas >= 1 && d.Status.ReadyReplicas > *d.Spec.Replicas
		}); err != nil {
		return err
	}
	if err := workload.SetPaused(ctx, client, ns, OrdersV2.Name, true); err != nil {
		return err
	}
	return waitCrashLooping(ctx, client, ns, SearchV2.Name)
}

// waitCrashLooping waits until a pod of the release shows CrashLoopBackOff.
func waitCrashLooping(ctx context.Context, client kubernetes.Interface, ns, app string) error {
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app + "," + sandbox.CrashLabel})
		if err != nil {
			return false, nil
		}
		for _, p := range pods.Items {
			for _, cs := range p.Status.ContainerStatuses {
				if cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" {
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("no pod of %s/%s crash-looping after a minute: %w", ns, app, err)
	}
	return nil
}
