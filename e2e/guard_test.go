//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/cli"
	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
)

// --auto-halt with a 1% threshold halts a release whose canary serves 5% errors, and the
// audit annotation says why.
func TestAutoHaltOnBreach(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	ctx := context.Background()
	v1, v2 := releaseV1V2(ns, "checkout-api")
	v1.ErrorRate = 0.005
	applyComplete(t, v1)
	// The canary's pods serve but never become available: the rollout stays mid-way,
	// one canary pod next to the stable ones, as a real canary under observation.
	v2.ErrorRate, v2.MinReadySeconds, v2.ProgressDeadlineSeconds = 0.05, 3600, 7200
	if _, err := v2.Apply(ctx, sb.Client()); err != nil {
		t.Fatal(err)
	}
	patch := `{"metadata":{"annotations":{"` + guard.MaxErrorRateAnnotation + `":"0.01"}}}`
	if _, err := sb.Client().AppsV1().Deployments(ns).Patch(ctx, "checkout-api", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}

	pane := startTmux(t, 120, 30)
	pane.keys(pyrollBinary() + " --kubeconfig " + sb.Kubeconfig + " --prometheus-url " + sb.PrometheusURL +
		" --metrics-interval 2s --auto-halt --auto-halt-after 2 -n " + ns)
	pane.key("Enter")
	eventually(t, 3*time.Minute, "checkout-api halted by --auto-halt with the reason in its audit record", func(ctx context.Context) error {
		d, err := sb.Client().AppsV1().Deployments(ns).Get(ctx, "checkout-api", metav1.GetOptions{})
		if err != nil {
			return err
		}
		var last intent.LastAction
		_ = json.Unmarshal([]byte(d.Annotations[intent.LastActionAnnotation]), &last)
		if !d.Spec.Paused || last.Action != intent.Halt || !strings.Contains(last.Reason, "auto-halt: canary errors") || !strings.Contains(last.Reason, "> max 1.0% for 2 intervals") {
			return errorf("paused %v, last action %+v\nscreen:\n%s", d.Spec.Paused, last, pane.screen())
		}
		return nil
	})
	pane.waitScreen("checkout-api shown Halted", func(s string) bool {
		return strings.Contains(rowOf(s, "checkout-api"), "Halted")
	})
}

// A jump host that reaches only the API server reads Prometheus through the service proxy
// named in a config file, whose thresholds judge Deployments without annotations.
func TestPrometheusServiceAndConfigFile(t *testing.T) {
	sb := sandboxtest.Get(t)
	dir := t.TempDir()
	configPath := filepath.Join(dir, "config.yaml")
	config := "prometheus:\n  service: " + sandbox.PrometheusService + "\nthresholds:\n  maxErrorRate: 0.01\n"
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	orders := func(args ...string) (cli.StatusItem, error) {
		stdout, stderr, _ := runPyroll(t, time.Minute, sb.Kubeconfig, append([]string{"-n", demo.Namespace, "status", "-o", "json"}, args...)...)
		var list cli.StatusList
		if err := json.Unmarshal([]byte(stdout), &list); err != nil {
			return cli.StatusItem{}, errorf("status -o json: %v\n%s\n%s", err, stdout, stderr)
		}
		for _, item := range list.Items {
			if item.Name == "orders-api" {
				return item, nil
			}
		}
		return cli.StatusItem{}, errorf("no orders-api in %s", stdout)
	}
	near := func(got, want float64) bool { return math.Abs(got-want) <= 0.01 }

	eventually(t, 2*time.Minute, "orders-api canary ~5% and stable ~0.5% through the service proxy, judged BREACH by the config's 1%", func(context.Context) error {
		item, err := orders("--config", configPath)
		if err != nil {
			return err
		}
		canary, stable := item.Metrics["2"], item.Metrics["1"]
		if canary.State != "ok" || !near(canary.ErrorRate, 0.05) || stable.State != "ok" || !near(stable.ErrorRate, 0.005) {
			return errorf("metrics %+v", item.Metrics)
		}
		if item.Guard == nil || item.Guard.Verdict != guard.Breach || item.Guard.MaxErrorRate != 0.01 {
			return errorf("guard %+v, want BREACH at max 0.01", item.Guard)
		}
		return nil
	})

	// A custom preset from the config file, forced, reads the same numbers.
	custom := "prometheus:\n  preset: demo_http\npresets:\n  demo_http:\n" +
		"    requests: sum by (namespace, pod) (increase(http_requests_total{ {{.Selector}} }[{{.Window}}])) / 60\n" +
		"    errors: sum by (namespace, pod) (increase(http_requests_total{ {{.Selector}}, status=~\"5..\" }[{{.Window}}])) / 60\n"
	if err := os.WriteFile(configPath, []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "orders-api canary ~5% with the custom preset", func(context.Context) error {
		item, err := orders("--config", configPath, "--prometheus-url", sb.PrometheusURL)
		if err != nil {
			return err
		}
		if c := item.Metrics["2"]; c.State != "ok" || !near(c.ErrorRate, 0.05) || c.P95 != 0 {
			return errorf("canary %+v, want ~5%% and no p95 (the preset has no histogram)", c)
		}
		return nil
	})

	// A broken preset is refused at start, with the field named.
	if err := os.WriteFile(configPath, []byte("presets:\n  broken:\n    requests: sum(rate(x[1m]))\n    errors: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", demo.Namespace, "status", "--config", configPath)
	if code != cli.ExitUsage || !strings.Contains(stderr, `preset "broken": requests must group by pod`) {
		t.Errorf("broken preset: exit %d, stderr %q", code, stderr)
	}
}
