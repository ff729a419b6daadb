// Package kubeapitest adapts a client-go clientset (a fake one in unit tests, a real one
// in the sandbox's tests) to kubeapi.API.
package kubeapitest

import (
	"context"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
)

// FromClientset serves kubeapi.API from clientset.
func FromClientset(clientset kubernetes.Interface) kubeapi.API { return adapter{clientset} }

type adapter struct{ c kubernetes.Interface }

func (a adapter) Deployments(ns string) kubeapi.Resource[*appsv1.Deployment, *appsv1.DeploymentList] {
	return a.c.AppsV1().Deployments(ns)
}

func (a adapter) ReplicaSets(ns string) kubeapi.Resource[*appsv1.ReplicaSet, *appsv1.ReplicaSetList] {
	return a.c.AppsV1().ReplicaSets(ns)
}

func (a adapter) Pods(ns string) kubeapi.Resource[*corev1.Pod, *corev1.PodList] {
	return a.c.CoreV1().Pods(ns)
}

func (a adapter) Events(ns string) kubeapi.Resource[*corev1.Event, *corev1.EventList] {
	return a.c.CoreV1().Events(ns)
}

func (a adapter) Namespaces() kubeapi.Resource[*corev1.Namespace, *corev1.NamespaceList] {
	return a.c.CoreV1().Namespaces()
}

func (a adapter) Leases(ns string) kubeapi.Resource[*coordinationv1.Lease, *coordinationv1.LeaseList] {
	return a.c.CoordinationV1().Leases(ns)
}

func (a adapter) PodLogs(ctx context.Context, ns, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	return a.c.CoreV1().Pods(ns).GetLogs(pod, opts).Stream(ctx)
}

func (a adapter) ReviewAccess(ctx context.Context, review *authorizationv1.SelfSubjectAccessReview) (*authorizationv1.SelfSubjectAccessReview, error) {
	return a.c.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
}

func (a adapter) WhoAmI(ctx context.Context) (*authenticationv1.SelfSubjectReview, error) {
	return a.c.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
}

func (a adapter) ServerVersion(context.Context) (*version.Info, error) {
	return a.c.Discovery().ServerVersion()
}

// Readiness asks a real clientset's API server (GET /readyz); a fake one is always ready.
func (a adapter) Readiness(ctx context.Context) error {
	rc := a.c.Discovery().RESTClient()
	if rc == nil {
		return nil
	}
	return kubeapi.ReadinessAnswer(rc.Get().AbsPath("/readyz").DoRaw(ctx))
}

// Rollouts: a clientset's cluster has no Argo Rollouts (WithArgo adds them).
func (a adapter) Rollouts(string) kubeapi.Resource[*argo.Rollout, *argo.RolloutList] {
	return absent[*argo.Rollout, *argo.RolloutList]{"rollouts"}
}

// AnalysisRuns: none without Argo Rollouts.
func (a adapter) AnalysisRuns(string) kubeapi.Resource[*argo.AnalysisRun, *argo.AnalysisRunList] {
	return absent[*argo.AnalysisRun, *argo.AnalysisRunList]{"analysisruns"}
}

func (a adapter) Secrets(ns string) kubeapi.Resource[*corev1.Secret, *corev1.SecretList] {
	return a.c.CoreV1().Secrets(ns)
}

// GetCustom: a clientset's cluster serves no custom resources (WithOwners adds the
// GitOps owners): 404, as the API server answers for a group it does not have.
func (a adapter) GetCustom(_ context.Context, gvr schema.GroupVersionResource, _, name string) (*unstructured.Unstructured, error) {
	return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
}

// PatchCustom: 404, as GetCustom.
func (a adapter) PatchCustom(_ context.Context, gvr schema.GroupVersionResource, _, name string, _ types.PatchType, _ []byte, _ metav1.PatchOptions) (*unstructured.Unstructured, error) {
	return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
}

// ServesArgoRollouts: no.
func (a adapter) ServesArgoRollouts(context.Context) (bool, error) { return false, nil }

// absent is a resource the cluster does not serve: every request is 404, as the API
// server answers for a group it does not have.
type absent[T, L any] struct{ resource string }

func (r absent[T, L]) err() error {
	return apierrors.NewNotFound(schema.GroupResource{Group: argo.GroupVersion.Group, Resource: r.resource}, "")
}

func (r absent[T, L]) Get(context.Context, string, metav1.GetOptions) (T, error) {
	var zero T
	return zero, r.err()
}

func (r absent[T, L]) List(context.Context, metav1.ListOptions) (L, error) {
	var zero L
	return zero, r.err()
}

func (r absent[T, L]) Watch(context.Context, metav1.ListOptions) (watch.Interface, error) {
	return nil, r.err()
}

func (r absent[T, L]) Create(context.Context, T, metav1.CreateOptions) (T, error) {
	var zero T
	return zero, r.err()
}

func (r absent[T, L]) Update(context.Context, T, metav1.UpdateOptions) (T, error) {
	var zero T
	return zero, r.err()
}

func (r absent[T, L]) Patch(context.Context, string, types.PatchType, []byte, metav1.PatchOptions, ...string) (T, error) {
	var zero T
	return zero, r.err()
}

// IsWatchListSemanticsUnSupported is the clientset's answer (true for fakes, which
// cannot stream an initial list).
func (a adapter) IsWatchListSemanticsUnSupported() bool {
	if w, ok := a.c.(interface{ IsWatchListSemanticsUnSupported() bool }); ok {
		return w.IsWatchListSemanticsUnSupported()
	}
	return false
}
