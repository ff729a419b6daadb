package gitops

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// Flux's objects (source.toolkit.fluxcd.io/v1, kustomize.toolkit.fluxcd.io/v1).
var (
	GitRepositoriesResource = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	KustomizationsResource  = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
)

// FluxOptions are the intervals of a FluxApp's objects; short, so a test sees Flux act within
// seconds (a real cluster's are minutes).
type FluxOptions struct {
	// SourceInterval is how often the GitRepository fetches the repository (default 5s).
	SourceInterval time.Duration
	// Interval is how often the Kustomization applies the manifests again, which is what
	// reverts a change made to the cluster by hand (default 10s).
	Interval time.Duration
}

// FluxApp is a Deployment Flux manages: its manifest in a repository of the sandbox's Git
// server, fetched by a GitRepository and applied by a Kustomization, both named Name in
// sandbox.FluxNamespace, with prune on and the release's namespace as target.
type FluxApp struct {
	Name            string
	Repo            *sandbox.GitRepo
	Path            string // the manifests' folder in Repo, "./<Name>"
	TargetNamespace string
	// Revision is the SHA of the last commit Commit (or FluxDeploy) made.
	Revision string
}

// FluxDeploy puts release under Flux: it commits the release's Deployment to the sandbox Git
// repository named name (made on first use) as <name>/deployment.yaml, creates the release's
// namespace if needed, and creates the GitRepository and the Kustomization, named name. It
// returns once they exist; WaitApplied waits for Flux to apply the commit.
func FluxDeploy(ctx context.Context, sb *sandbox.Sandbox, name string, release workload.Release, opts FluxOptions) (*FluxApp, error) {
	if !sb.Flux() {
		return nil, fmt.Errorf("flux app %s: the sandbox runs without Flux (sandbox.Options.Flux)", name)
	}
	if opts.SourceInterval == 0 {
		opts.SourceInterval = 5 * time.Second
	}
	if opts.Interval == 0 {
		opts.Interval = 10 * time.Second
	}
	repo, err := sb.GitRepo(name)
	if err != nil {
		return nil, err
	}
	app := &FluxApp{Name: name, Repo: repo, Path: "./" + name, TargetNamespace: release.Namespace}
	if _, err := app.Commit(release, "deploy "+release.Name+" "+release.Version); err != nil {
		return nil, err
	}
	if err := workload.EnsureNamespace(ctx, sb.Client(), release.Namespace); err != nil {
		return nil, err
	}
	source := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "GitRepository",
		"metadata":   map[string]any{"name": name, "namespace": sandbox.FluxNamespace},
		"spec": map[string]any{
			"interval": opts.SourceInterval.String(),
			"url":      repo.URL(),
			"ref":      map[string]any{"branch": sandbox.GitBranch},
			"timeout":  "30s",
		},
	}}
	kustomization := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind":       "Kustomization",
		"metadata":   map[string]any{"name": name, "namespace": sandbox.FluxNamespace},
		"spec": map[string]any{
			"interval":        opts.Interval.String(),
			"path":            app.Path,
			"prune":           true,
			"targetNamespace": release.Namespace,
			"sourceRef":       map[string]any{"kind": "GitRepository", "name": name},
			"timeout":         "1m",
		},
	}}
	dyn := sb.Dynamic()
	if _, err := dyn.Resource(GitRepositoriesResource).Namespace(sandbox.FluxNamespace).Create(ctx, source, metav1.CreateOptions{FieldManager: "pyroll-sandbox"}); err != nil {
		return nil, fmt.Errorf("create flux GitRepository %s: %w", name, err)
	}
	if _, err := dyn.Resource(KustomizationsResource).Namespace(sandbox.FluxNamespace).Create(ctx, kustomization, metav1.CreateOptions{FieldManager: "pyroll-sandbox"}); err != nil {
		return nil, fmt.Errorf("create flux Kustomization %s: %w", name, err)
	}
	return app, nil
}

// Commit commits release's Deployment as the app's manifest, the new revision Flux will apply,
// and returns the commit's SHA.
func (a *FluxApp) Commit(release workload.Release, message string) (string, error) {
	if release.Namespace != a.TargetNamespace && a.TargetNamespace != "" {
		return "", fmt.Errorf("flux app %s: release in %s, the Kustomization targets %s", a.Name, release.Namespace, a.TargetNamespace)
	}
	manifest, err := deploymentYAML(release.Deployment())
	if err != nil {
		return "", err
	}
	sha, err := a.Repo.Commit(map[string]string{strings.TrimPrefix(a.Path, "./") + "/deployment.yaml": manifest}, message)
	if err != nil {
		return "", err
	}
	a.Revision = sha
	return sha, nil
}

// Suspend sets the Kustomization's spec.suspend and waits (at most timeout) until
// kustomize-controller has handled that generation: from then on, suspended, Flux applies
// nothing, so a change made by hand stays; resumed, it applies again. (Reconciles of one
// object never overlap, so none that began before the suspension can apply after it.) The
// wait needs the Kustomization Ready: the controller records the generation only then.
func (a *FluxApp) Suspend(ctx context.Context, dyn dynamic.Interface, suspend bool, timeout time.Duration) error {
	patch := fmt.Sprintf(`{"spec":{"suspend":%t}}`, suspend)
	k, err := dyn.Resource(KustomizationsResource).Namespace(sandbox.FluxNamespace).Patch(ctx, a.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "pyroll-sandbox"})
	if err != nil {
		return fmt.Errorf("set suspend=%t on flux Kustomization %s: %w", suspend, a.Name, err)
	}
	generation := k.GetGeneration()
	var last string
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		k, err := dyn.Resource(KustomizationsResource).Namespace(sandbox.FluxNamespace).Get(ctx, a.Name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		got, _, _ := unstructured.NestedInt64(k.Object, "status", "observedGeneration")
		ready, reason, message := condition(k, "Ready")
		last = fmt.Sprintf("observedGeneration %d, Ready=%s (%s: %s)", got, ready, reason, message)
		return got >= generation, nil
	})
	if err != nil {
		return fmt.Errorf("flux Kustomization %s: suspend=%t (generation %d) not handled after %s: %s", a.Name, suspend, generation, timeout, last)
	}
	return nil
}

// Kustomization is the app's Kustomization as the API serves it.
func (a *FluxApp) Kustomization(ctx context.Context, dyn dynamic.Interface) (*unstructured.Unstructured, error) {
	k, err := dyn.Resource(KustomizationsResource).Namespace(sandbox.FluxNamespace).Get(ctx, a.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get flux Kustomization %s: %w", a.Name, err)
	}
	return k, nil
}

// FluxRevision is how Flux names a commit of a branch in its statuses: "main@sha1:<sha>".
func FluxRevision(sha string) string { return sandbox.GitBranch + "@sha1:" + sha }

// WaitApplied polls the Kustomization until it is Ready with the commit sha applied
// (status.lastAppliedRevision), for at most timeout.
func (a *FluxApp) WaitApplied(ctx context.Context, dyn dynamic.Interface, sha string, timeout time.Duration) error {
	want := FluxRevision(sha)
	var last string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		k, err := dyn.Resource(KustomizationsResource).Namespace(sandbox.FluxNamespace).Get(ctx, a.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || err != nil {
			last = fmt.Sprint(err)
			return false, nil
		}
		applied, _, _ := unstructured.NestedString(k.Object, "status", "lastAppliedRevision")
		ready, reason, message := condition(k, "Ready")
		last = fmt.Sprintf("Ready=%s (%s: %s), lastAppliedRevision %q", ready, reason, message, applied)
		return ready == "True" && applied == want && observed(k), nil
	})
	if err != nil {
		return fmt.Errorf("flux Kustomization %s has not applied %s after %s: %s", a.Name, want, timeout, last)
	}
	return nil
}

// condition is the status, reason and message of the object's condition of type t ("" when
// it has none).
func condition(obj *unstructured.Unstructured, t string) (status, reason, message string) {
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conditions {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != t {
			continue
		}
		status, _ = m["status"].(string)
		reason, _ = m["reason"].(string)
		message, _ = m["message"].(string)
		return status, reason, message
	}
	return "", "", ""
}

// observed reports whether the controller has seen the object's latest spec.
func observed(obj *unstructured.Unstructured) bool {
	gen, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	return gen >= obj.GetGeneration()
}
