package demo

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// checkout-api is the demo's Argo Rollout: a canary of 5 pods in four steps, judged by a
// background analysis that asks the sandbox's real Prometheus for the canary's error rate.
// 4.2.0 is a good release, held at the indefinite pause (step index 1) with 1 of 5 pods on
// it; 4.3.0 serves 5% errors, and its AnalysisRun fails and aborts it.
var (
	CheckoutV1 = workload.Release{
		Namespace: Namespace, Name: "checkout-api", Image: "ghcr.io/acme/checkout:4.1.0",
		Source: "https://github.com/acme/checkout", Version: "4.1.0",
		GitSHA: "2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f", LockHash: "sha256:1e2d3c4b5a69",
		Python: "3.12.8", Pipeline: "https://github.com/acme/checkout/actions/runs/9122001",
		Replicas: 5, ErrorRate: 0.001, LatencyMS: 45,
	}
	CheckoutV2 = workload.Release{
		Namespace: Namespace, Name: "checkout-api", Image: "ghcr.io/acme/checkout:4.2.0",
		Source: "https://github.com/acme/checkout", Version: "4.2.0",
		GitSHA: "8e0a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f6a", LockHash: "sha256:1e2d3c4b5a69",
		Python: "3.12.8", Pipeline: "https://github.com/acme/checkout/actions/runs/9123417",
		Replicas: 5, ErrorRate: 0.001, LatencyMS: 40,
	}
	// CheckoutBad is the release the analysis must stop: 5% of its requests fail.
	CheckoutBad = workload.Release{
		Namespace: Namespace, Name: "checkout-api", Image: "ghcr.io/acme/checkout:4.3.0",
		Source: "https://github.com/acme/checkout", Version: "4.3.0",
		GitSHA: "c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4", LockHash: "sha256:9f8e7d6c5b4a",
		Python: "3.12.8", Pipeline: "https://github.com/acme/checkout/actions/runs/9124088",
		Replicas: 5, ErrorRate: 0.05, LatencyMS: 40,
	}
)

// ErrorRateTemplateName is the AnalysisTemplate checkout-api's canary runs.
const ErrorRateTemplateName = "error-rate"

// CheckoutPauseStep is the index of checkout-api's indefinite pause, where the seeded demo
// holds release 4.2.0.
const CheckoutPauseStep = 1

// MaxCanaryErrorRate is the canary's largest acceptable 5xx share in the error-rate analysis.
const MaxCanaryErrorRate = 0.01

// CheckoutCanary is checkout-api's strategy: 20% (1 of 5 pods), a pause until promoted, 50%,
// 30 s, then all; the error-rate analysis runs in the background from the update on, with the
// canary's pod-template hash (the pods' rollouts-pod-template-hash, pod_template_hash on their
// series).
//
// Background rather than an analysis step: it judges the canary the whole time it serves,
// including while held at the pause, so a bad release is aborted without anyone promoting
// it, and a good one sits at the pause with its analysis passing. It has no count: it ends
// with the rollout (complete or aborted), so a canary promoted later is still watched.
func CheckoutCanary() workload.Canary {
	return workload.Canary{
		Steps: []workload.CanaryStep{
			workload.SetWeight(20),
			workload.PauseUntilPromoted(),
			workload.SetWeight(50),
			workload.PauseFor("30s"),
		},
		Analysis: &workload.BackgroundAnalysis{
			Templates: []workload.AnalysisTemplateRef{{TemplateName: ErrorRateTemplateName}},
			Args:      []workload.AnalysisArg{workload.CanaryHashArg("canary-hash")},
		},
	}
}

// ErrorRateQuery is the error-rate analysis' PromQL for namespace ns: the canary's share of
// 5xx answers over the last minute, from the same http_requests_total{status} series the
// console reads. "or vector(0)": a build that has answered no 5xx yet has no 5xx series at
// all, which is a 0% error rate, not a missing one. The result is empty only while the
// canary has no scraped traffic yet.
func ErrorRateQuery(ns string) string {
	sel := fmt.Sprintf(`namespace=%q,pod_template_hash="{{args.canary-hash}}"`, ns)
	return fmt.Sprintf(`(sum(rate(http_requests_total{%[1]s,status=~"5.."}[1m])) or vector(0)) / sum(rate(http_requests_total{%[1]s}[1m]))`, sel)
}

// ErrorRateSuccess is the analysis' successCondition. An empty result (the canary not
// scraped yet: its first seconds) judges nothing, rather than counting as an error (whose
// limit would then abort a good release that is only slow to start) or as inconclusive
// (which pauses the rollout); the next measurement, 10 s later, judges the real rate.
var ErrorRateSuccess = fmt.Sprintf("len(result) == 0 || result[0] < %g", MaxCanaryErrorRate)

// ErrorRateTemplate is the AnalysisTemplate error-rate in namespace ns: Argo's Prometheus
// provider asks the sandbox's Prometheus (prometheusURL: the controller runs on the host,
// where the sandbox's loopback address reaches it) every 10 s; a second measurement over
// MaxCanaryErrorRate fails the run, and the rollout is aborted.
func ErrorRateTemplate(ns, prometheusURL string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "AnalysisTemplate",
		"metadata": map[string]any{
			"name": ErrorRateTemplateName, "namespace": ns,
			"labels": map[string]any{"app.kubernetes.io/part-of": "pyroll-sandbox"},
		},
		"spec": map[string]any{
			"args": []any{map[string]any{"name": "canary-hash"}},
			"metrics": []any{map[string]any{
				"name":             "error-rate",
				"interval":         "10s",
				"failureLimit":     int64(1),
				"successCondition": ErrorRateSuccess,
				"provider": map[string]any{"prometheus": map[string]any{
					"address": prometheusURL,
					"query":   ErrorRateQuery(ns),
				}},
			}},
		},
	}}
}

// InstallCheckoutAnalysis puts the error-rate AnalysisTemplate, pointed at the sandbox's
// Prometheus, into namespace ns.
func InstallCheckoutAnalysis(ctx context.Context, sb *sandbox.Sandbox, ns string) error {
	if _, err := workload.ApplyObject(ctx, sb.Dynamic(), workload.AnalysisTemplatesResource, ErrorRateTemplate(ns, sb.PrometheusURL)); err != nil {
		return fmt.Errorf("checkout-api analysis: %w", err)
	}
	return nil
}

// ApplyCheckout rolls checkout-api (in release.Namespace) out to release, with
// CheckoutCanary's strategy: the first apply creates the Rollout (Argo then skips the steps),
// each later one starts a canary.
func ApplyCheckout(ctx context.Context, dyn dynamic.Interface, release workload.Release) (*unstructured.Unstructured, error) {
	return release.ApplyRollout(ctx, dyn, CheckoutCanary())
}

// SeedCheckoutIn puts checkout-api into namespace ns (which must exist) in its demo state:
// 4.1.0 fully rolled out, then 4.2.0's canary held at the indefinite pause (step index 1)
// with 1 of its 5 pods, its analysis running. It needs a sandbox with Argo.
func SeedCheckoutIn(ctx context.Context, sb *sandbox.Sandbox, ns string) error {
	if !sb.Argo() {
		return fmt.Errorf("checkout-api is an Argo Rollout: the sandbox runs without Argo Rollouts (Options.NoArgo)")
	}
	if err := InstallCheckoutAnalysis(ctx, sb, ns); err != nil {
		return err
	}
	dyn := sb.Dynamic()
	if _, err := ApplyCheckout(ctx, dyn, CheckoutV1.In(ns)); err != nil {
		return err
	}
	if _, err := workload.WaitRollout(ctx, dyn, ns, CheckoutV1.Name, 2*time.Minute, "healthy", workload.RolloutState.Healthy); err != nil {
		return err
	}
	if _, err := ApplyCheckout(ctx, dyn, CheckoutV2.In(ns)); err != nil {
		return err
	}
	_, err := workload.WaitRollout(ctx, dyn, ns, CheckoutV2.Name, 2*time.Minute, fmt.Sprintf("paused at step %d", CheckoutPauseStep),
		func(s workload.RolloutState) bool { return s.PausedAtStep(CheckoutPauseStep) })
	return err
}
