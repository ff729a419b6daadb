// Package workload puts sample Python services into the sandbox: a Release is one build of
// the sample service as a CI pipeline would deploy it (a Deployment, or an Argo Rollout, with
// its provenance and its behaviour: error rate, latency, a crash), and the helpers that
// create namespaces and wait for Deployments and Rollouts. The pods it makes speak the sandbox's pod contract (sandbox.RunLabel,
// sandbox.CrashLabel, ...).
package workload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
)

// Release is one build of a sample Python service, as a CI pipeline would deploy it: the
// provenance it carries and how it behaves once running.
type Release struct {
	Namespace string
	Name      string // Deployment name and app label
	Image     string // e.g. ghcr.io/acme/orders:1.8.0
	Source    string // org.opencontainers.image.source
	Version   string
	GitSHA    string
	LockHash  string
	Python    string // the Python version the image ships
	Pipeline  string // CI run id or URL
	Replicas  int32

	ErrorRate  float64 // fraction of requests answered 500
	LatencyMS  int
	TrafficRPS int // self-generated requests per second (default 5)
	// NoTraffic makes the service generate none: it is up, scraped, and idle.
	NoTraffic bool
	// NeverReady makes the pods run but never pass readiness: no crash, no event, only
	// the clock says they are late.
	NeverReady bool

	// CrashMessage, when set, makes the pods crash-loop with this as their last
	// termination message (a Python traceback, typically). Alone, the crash is only
	// simulated (by kwok's stages): nothing runs, and the pods' logs are empty.
	CrashMessage string
	// MissingModule is a Python module this build imports at start but does not ship (e.g.
	// "orjson", which Debian's python3 lacks): the pods crash-loop, and the pod runner
	// really runs the service once per pod, so their logs (`kubectl logs`, also with
	// --previous) hold gunicorn's real "Worker failed to boot" and the ModuleNotFoundError
	// traceback. CrashMessage, by default a short traceback naming the module, stays their
	// termination message.
	MissingModule string

	MinReadySeconds         int32
	ProgressDeadlineSeconds int32 // default 600, as Kubernetes'
	// Digest overrides the image digest the pods report (default: derived from image and SHA).
	Digest string
}

// In is the same release in namespace ns (tests put the demo's releases in namespaces of
// their own).
func (r Release) In(ns string) Release {
	r.Namespace = ns
	return r
}

// ImageDigest is the sha256 digest the release's pods report as running.
func (r Release) ImageDigest() string {
	if r.Digest != "" {
		return r.Digest
	}
	sum := sha256.Sum256([]byte(r.Image + "|" + r.GitSHA))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Deployment is the Deployment that ships this release.
func (r Release) Deployment() *appsv1.Deployment {
	replicas := r.Replicas
	if replicas == 0 {
		replicas = 3
	}
	deadline := r.ProgressDeadlineSeconds
	if deadline == 0 {
		deadline = 600
	}
	rps := r.TrafficRPS
	switch {
	case r.NoTraffic:
		rps = 0
	case rps == 0:
		rps = 5
	}
	latency := r.LatencyMS
	if latency == 0 {
		latency = 20
	}
	labels := map[string]string{"app": r.Name, sandbox.RunLabel: sandbox.RunSampleService}
	annotations := map[string]string{
		"org.opencontainers.image.revision": r.GitSHA,
		"org.opencontainers.image.source":   r.Source,
		"org.opencontainers.image.version":  r.Version,
		"app.kubernetes.io/version":         r.Version,
		"pyroll.dev/lock-hash":              r.LockHash,
		"pyroll.dev/python-version":         r.Python,
		"pyroll.dev/pipeline-run":           r.Pipeline,
		sandbox.ImageDigestAnnotation:       r.ImageDigest(),
	}
	crashMessage := r.CrashMessage
	if crashMessage == "" && r.MissingModule != "" {
		crashMessage = PythonTraceback("/app/app.py", "import "+r.MissingModule, fmt.Sprintf("ModuleNotFoundError: No module named '%s'", r.MissingModule))
	}
	if r.NeverReady {
		labels[sandbox.UnreadyLabel] = "true"
	}
	if crashMessage != "" {
		labels[sandbox.CrashLabel] = "true"
		annotations[sandbox.CrashMessageAnnotation] = crashMessage
		annotations[sandbox.CrashExitCodeAnnotation] = "1"
	}
	for k, v := range annotations {
		if v == "" {
			delete(annotations, k)
		}
	}
	maxUnavailable := intstr.FromInt32(0)
	maxSurge := intstr.FromInt32(1)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: r.Name, Namespace: r.Namespace,
			Labels: map[string]string{"app": r.Name, "app.kubernetes.io/part-of": "pyroll-sandbox"},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas:                &replicas,
			Selector:                &metav1.LabelSelector{MatchLabels: map[string]string{"app": r.Name}},
			MinReadySeconds:         r.MinReadySeconds,
			ProgressDeadlineSeconds: &deadline,
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name:  "app",
						Image: r.Image,
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						Env: append([]corev1.EnvVar{
							{Name: "PYROLL_ERROR_RATE", Value: strconv.FormatFloat(r.ErrorRate, 'f', -1, 64)},
							{Name: "PYROLL_LATENCY_MS", Value: strconv.Itoa(latency)},
							{Name: "PYROLL_TRAFFIC_RPS", Value: strconv.Itoa(rps)},
							{Name: "BUILD_GIT_SHA", Value: r.GitSHA},
							{Name: "BUILD_LOCK_HASH", Value: r.LockHash},
							{Name: "BUILD_PIPELINE_RUN", Value: r.Pipeline},
							{Name: "BUILD_VERSION", Value: r.Version},
						}, r.importEnv()...),
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
							HTTPGet: &corev1.HTTPGetAction{Path: "/health/ready", Port: intstr.FromString("http")},
						}},
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU:    resource.MustParse("100m"),
							corev1.ResourceMemory: resource.MustParse("128Mi"),
						}},
					}},
				},
			},
		},
	}
}

// Apply creates the release's Deployment, or rolls the existing one out to this release
// (template, replicas and rollout settings), retrying on conflicts.
func (r Release) Apply(ctx context.Context, client kubernetes.Interface) (*appsv1.Deployment, error) {
	want := r.Deployment()
	deployments := client.AppsV1().Deployments(r.Namespace)
	var applied *appsv1.Deployment
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current, err := deployments.Get(ctx, r.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			applied, err = deployments.Create(ctx, want, metav1.CreateOptions{FieldManager: "pyroll-sandbox"})
			return err
		}
		if err != nil {
			return err
		}
		current.Spec.Template = want.Spec.Template
		current.Spec.Replicas = want.Spec.Replicas
		current.Spec.MinReadySeconds = want.Spec.MinReadySeconds
		current.Spec.ProgressDeadlineSeconds = want.Spec.ProgressDeadlineSeconds
		current.Spec.Strategy = want.Spec.Strategy
		applied, err = deployments.Update(ctx, current, metav1.UpdateOptions{FieldManager: "pyroll-sandbox"})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("apply release %s/%s %s: %w", r.Namespace, r.Name, r.Version, err)
	}
	return applied, nil
}

// importEnv makes the sample service import MissingModule at start.
func (r Release) importEnv() []corev1.EnvVar {
	if r.MissingModule == "" {
		return nil
	}
	return []corev1.EnvVar{{Name: sandbox.ImportEnv, Value: r.MissingModule}}
}

// pythonTraceback formats a short Python traceback ending in the given exception line.
func PythonTraceback(file, code, exception string) string {
	return strings.Join([]string{
		"Traceback (most recent call last):",
		fmt.Sprintf("  File %q, line 3, in <module>", file),
		"    " + code,
		exception,
	}, "\n")
}
