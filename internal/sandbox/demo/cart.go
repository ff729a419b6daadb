package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// cart-api ships with the Deployment's default rolling update (maxSurge 1, no pause, no
// minReadySeconds): release 2.1.0, serving 5% errors where 2.0.0 served 0.2%, completes in
// seconds, before any metric round could judge it. It is the bake window's case: the
// release stays watched for 15 minutes after it completed, and `guard --action rollback`
// returns it to 2.0.0.
var (
	CartV1 = workload.Release{
		Namespace: Namespace, Name: "cart-api", Image: "ghcr.io/acme/cart:2.0.0",
		Source: "https://github.com/acme/cart", Version: "2.0.0",
		GitSHA: "2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f", LockHash: "sha256:5b4a3c2d1e0f",
		Python: "3.12.7", Pipeline: "https://github.com/acme/cart/actions/runs/9120777",
		Replicas: 3, ErrorRate: 0.002, LatencyMS: 30, TrafficRPS: 10,
	}
	CartV2 = workload.Release{
		Namespace: Namespace, Name: "cart-api", Image: "ghcr.io/acme/cart:2.1.0",
		Source: "https://github.com/acme/cart", Version: "2.1.0",
		GitSHA: "8e1d3c5b7a9f1e3d5c7b9a1f3e5d7c9b1a3f5e7d", LockHash: "sha256:a9b8c7d6e5f4",
		Python: "3.12.7", Pipeline: "https://github.com/acme/cart/actions/runs/9121920",
		Replicas: 3, ErrorRate: 0.05, LatencyMS: 30, TrafficRPS: 10,
	}
)

// SeedDemo is what `make demo` seeds: Seed, then cart-api, whose bad release completed
// and is in its bake window (the guard's bake-window example in the README). The
// end-to-end tests' sandbox seeds Seed only; TestBake* seed cart-api where they need it.
func SeedDemo(ctx context.Context, sb *sandbox.Sandbox, log io.Writer) error {
	if err := Seed(ctx, sb, log); err != nil {
		return err
	}
	if err := SeedCartIn(ctx, sb.Client(), Namespace, sb.PrometheusURL); err != nil {
		return fmt.Errorf("demo namespace: cart-api: %w", err)
	}
	fmt.Fprintf(log, "sandbox: seeded %s/cart-api: release %s completed with no pause and serves 5%% errors where %s served 0.2%%: Baking for %s\n",
		Namespace, CartV2.Version, CartV1.Version, CartBakeTime)
	if sb.Flux() {
		return SeedGitOps(ctx, sb, log)
	}
	return nil
}

// CartBakeTime is cart-api's bake window (pyroll.dev/bake-time).
const CartBakeTime = "15m"

// SeedCartIn puts cart-api into namespace ns: 2.0.0 serving until Prometheus holds a
// minute of its numbers (what its release is compared with), then 2.1.0 rolled out to
// completion. prometheusURL is the sandbox's.
func SeedCartIn(ctx context.Context, client kubernetes.Interface, ns, prometheusURL string) error {
	in := func(r workload.Release) workload.Release { r.Namespace = ns; return r }
	if err := workload.EnsureNamespace(ctx, client, ns); err != nil {
		return err
	}
	if _, err := in(CartV1).Apply(ctx, client); err != nil {
		return err
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, rollout.BakeTimeAnnotation, CartBakeTime)
	if _, err := client.AppsV1().Deployments(ns).Patch(ctx, CartV1.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "pyroll-sandbox"}); err != nil {
		return fmt.Errorf("cart-api bake time: %w", err)
	}
	if err := workload.WaitDeployment(ctx, client, ns, CartV1.Name, 2*time.Minute, "complete", workload.DeploymentComplete); err != nil {
		return err
	}
	if err := WaitScrapes(ctx, prometheusURL, ns, CartV1.Name, 30); err != nil {
		return err
	}
	if _, err := in(CartV2).Apply(ctx, client); err != nil {
		return err
	}
	return workload.WaitDeployment(ctx, client, ns, CartV2.Name, 2*time.Minute, "complete", workload.DeploymentComplete)
}

// WaitScrapes waits until Prometheus holds at least n scrapes of every pod of app: a build
// that served a while, whose rate before a release is a baseline.
func WaitScrapes(ctx context.Context, prometheusURL, ns, app string, n int) error {
	query := fmt.Sprintf(`min(count_over_time(http_requests_total{namespace=%q, pod=~%q, status="200"}[10m]))`, ns, app+"-.+")
	err := wait.PollUntilContextTimeout(ctx, sandbox.ScrapeInterval, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := promScalar(ctx, prometheusURL, query)
		return err == nil && got >= float64(n), nil
	})
	if err != nil {
		return fmt.Errorf("%s/%s: Prometheus has not scraped its pods %d times: %w", ns, app, n, err)
	}
	return nil
}

// promScalar is the first value of an instant query's answer.
func promScalar(ctx context.Context, base, query string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/query?query="+url.QueryEscape(query), nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var doc struct {
		Data struct {
			Result []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return 0, fmt.Errorf("prometheus answer: %w", err)
	}
	if len(doc.Data.Result) == 0 || len(doc.Data.Result[0].Value) != 2 {
		return 0, fmt.Errorf("no series for %s", query)
	}
	text, _ := doc.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(text, 64)
}
