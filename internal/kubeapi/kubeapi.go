// Package kubeapi is the part of the Kubernetes API kubectl-pyroll uses: Deployments,
// ReplicaSets, Pods and their logs, Events, Leases, the access and identity reviews, and
// Argo Rollouts' Rollouts and AnalysisRuns, typed, the GitOps owners (Argo CD Applications,
// Flux Kustomizations and HelmReleases, unstructured) and Helm's release Secrets, over one HTTP connection pool, in
// protobuf (JSON for Argo's custom resources, the only form the API server serves them in).
//
// It stands in for client-go's generated clientset, whose scheme registers every API
// group of Kubernetes at start-up and whose generic client links client-go's fake-client
// machinery: with them the binary was 16 MB larger, and a Go binary's pages stay resident
// in proportion to the packages it initialises; the memory budget of a console watching
// 10,000 pods is 60 MB (DESIGN.md §9). Tests adapt a fake clientset with kubeapitest.
package kubeapi

import (
	"context"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
)

// Resource reads and writes one kind of object in one namespace. client-go's typed
// clients (real and fake) have these methods.
type Resource[T, L runtime.Object] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (T, error)
}

// API is a connection to one cluster's API server.
type API interface {
	Deployments(namespace string) Resource[*appsv1.Deployment, *appsv1.DeploymentList]
	ReplicaSets(namespace string) Resource[*appsv1.ReplicaSet, *appsv1.ReplicaSetList]
	Pods(namespace string) Resource[*corev1.Pod, *corev1.PodList]
	Events(namespace string) Resource[*corev1.Event, *corev1.EventList]
	// Namespaces are listed for shell completion of -n.
	Namespaces() Resource[*corev1.Namespace, *corev1.NamespaceList]
	// Leases hold the guard's leader election (coordination.k8s.io).
	Leases(namespace string) Resource[*coordinationv1.Lease, *coordinationv1.LeaseList]
	// PodLogs streams a container's log; the caller closes it.
	PodLogs(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error)
	// ReviewAccess asks whether the caller may do something (SelfSubjectAccessReview).
	ReviewAccess(ctx context.Context, review *authorizationv1.SelfSubjectAccessReview) (*authorizationv1.SelfSubjectAccessReview, error)
	// WhoAmI asks who the credentials belong to (SelfSubjectReview).
	WhoAmI(ctx context.Context) (*authenticationv1.SelfSubjectReview, error)
	// ServerVersion is GET /version: the cheapest request that proves the server answers
	// and accepts the credentials.
	ServerVersion(ctx context.Context) (*version.Info, error)
	// Readiness is GET /readyz: nil when the API server is ready, a *NotReady when it
	// answers that it is not (an API server whose etcd is down still answers, and holds its
	// watches open, silent), else the request's error.
	Readiness(ctx context.Context) error
	// Rollouts and AnalysisRuns are Argo Rollouts' (argoproj.io/v1alpha1), served as JSON.
	Rollouts(namespace string) Resource[*argo.Rollout, *argo.RolloutList]
	AnalysisRuns(namespace string) Resource[*argo.AnalysisRun, *argo.AnalysisRunList]
	// ServesArgoRollouts asks the API server whether it serves Argo Rollouts' group
	// (GET /apis/argoproj.io/v1alpha1): false, nil on a cluster without the CRDs.
	ServesArgoRollouts(ctx context.Context) (bool, error)
	// Secrets are read for Helm's release records (labels owner=helm,name=<release>,
	// status=deployed), one release at a time, never watched.
	Secrets(namespace string) Resource[*corev1.Secret, *corev1.SecretList]
	// GetCustom reads one custom resource as JSON (the API server serves them in no other
	// form): the GitOps owners, Argo CD Applications and Flux Kustomizations and
	// HelmReleases, read one at a time when needed (internal/owner's resources).
	GetCustom(ctx context.Context, resource schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error)
	// PatchCustom patches one custom resource and returns it as the server wrote it.
	PatchCustom(ctx context.Context, resource schema.GroupVersionResource, namespace, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions) (*unstructured.Unstructured, error)
	// IsWatchListSemanticsUnSupported tells informers whether the server can stream the
	// initial list in a watch (client-go's watchlist); fake clientsets cannot.
	IsWatchListSemanticsUnSupported() bool
}
