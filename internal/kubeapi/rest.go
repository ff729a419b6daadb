package kubeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/rest"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
)

// scheme knows only the groups kubectl-pyroll reads and writes.
var (
	scheme         = runtime.NewScheme()
	codecs         = serializer.NewCodecFactory(scheme)
	parameterCodec = runtime.NewParameterCodec(scheme)
)

func init() {
	for _, add := range []func(*runtime.Scheme) error{appsv1.AddToScheme, corev1.AddToScheme, authorizationv1.AddToScheme, authenticationv1.AddToScheme, coordinationv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err) // only a programming error (a type registered twice) gets here
		}
	}
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	scheme.AddKnownTypes(argo.GroupVersion, &argo.Rollout{}, &argo.RolloutList{}, &argo.AnalysisRun{}, &argo.AnalysisRunList{})
	metav1.AddToGroupVersion(scheme, argo.GroupVersion)
}

type restAPI struct {
	apps, core, authorization, authentication, coordination, argo *rest.RESTClient
}

// New connects to the API server cfg names. It sends nothing yet.
func New(cfg *rest.Config) (API, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	client := func(gv schema.GroupVersion, apiPath string, contentType string) (*rest.RESTClient, error) {
		c := rest.CopyConfig(cfg)
		c.GroupVersion = &gv
		c.APIPath = apiPath
		c.NegotiatedSerializer = codecs.WithoutConversion()
		// Protobuf decodes a pod in a fraction of the time and garbage of JSON: it is what
		// a watch of 10,000 pods costs at start and on every change.
		c.ContentType = contentType
		c.AcceptContentTypes = contentType
		if contentType == runtime.ContentTypeProtobuf {
			c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
		}
		if c.UserAgent == "" {
			c.UserAgent = rest.DefaultKubernetesUserAgent()
		}
		rc, err := rest.RESTClientForConfigAndClient(c, httpClient)
		if err != nil {
			return nil, fmt.Errorf("kubernetes client for %s: %w", gv, err)
		}
		return rc, nil
	}
	var a restAPI
	if a.apps, err = client(appsv1.SchemeGroupVersion, "/apis", runtime.ContentTypeProtobuf); err != nil {
		return nil, err
	}
	if a.core, err = client(corev1.SchemeGroupVersion, "/api", runtime.ContentTypeProtobuf); err != nil {
		return nil, err
	}
	if a.authorization, err = client(authorizationv1.SchemeGroupVersion, "/apis", runtime.ContentTypeProtobuf); err != nil {
		return nil, err
	}
	if a.authentication, err = client(authenticationv1.SchemeGroupVersion, "/apis", runtime.ContentTypeProtobuf); err != nil {
		return nil, err
	}
	if a.coordination, err = client(coordinationv1.SchemeGroupVersion, "/apis", runtime.ContentTypeProtobuf); err != nil {
		return nil, err
	}
	// Custom resources are served as JSON only.
	if a.argo, err = client(argo.GroupVersion, "/apis", runtime.ContentTypeJSON); err != nil {
		return nil, err
	}
	return &a, nil
}

func (a *restAPI) Deployments(namespace string) Resource[*appsv1.Deployment, *appsv1.DeploymentList] {
	return restResource[*appsv1.Deployment, *appsv1.DeploymentList]{a.apps, "deployments", namespace,
		func() *appsv1.Deployment { return &appsv1.Deployment{} }, func() *appsv1.DeploymentList { return &appsv1.DeploymentList{} }}
}

func (a *restAPI) ReplicaSets(namespace string) Resource[*appsv1.ReplicaSet, *appsv1.ReplicaSetList] {
	return restResource[*appsv1.ReplicaSet, *appsv1.ReplicaSetList]{a.apps, "replicasets", namespace,
		func() *appsv1.ReplicaSet { return &appsv1.ReplicaSet{} }, func() *appsv1.ReplicaSetList { return &appsv1.ReplicaSetList{} }}
}

func (a *restAPI) Pods(namespace string) Resource[*corev1.Pod, *corev1.PodList] {
	return restResource[*corev1.Pod, *corev1.PodList]{a.core, "pods", namespace,
		func() *corev1.Pod { return &corev1.Pod{} }, func() *corev1.PodList { return &corev1.PodList{} }}
}

func (a *restAPI) Events(namespace string) Resource[*corev1.Event, *corev1.EventList] {
	return restResource[*corev1.Event, *corev1.EventList]{a.core, "events", namespace,
		func() *corev1.Event { return &corev1.Event{} }, func() *corev1.EventList { return &corev1.EventList{} }}
}

func (a *restAPI) Namespaces() Resource[*corev1.Namespace, *corev1.NamespaceList] {
	return restResource[*corev1.Namespace, *corev1.NamespaceList]{a.core, "namespaces", "",
		func() *corev1.Namespace { return &corev1.Namespace{} }, func() *corev1.NamespaceList { return &corev1.NamespaceList{} }}
}

func (a *restAPI) Leases(namespace string) Resource[*coordinationv1.Lease, *coordinationv1.LeaseList] {
	return restResource[*coordinationv1.Lease, *coordinationv1.LeaseList]{a.coordination, "leases", namespace,
		func() *coordinationv1.Lease { return &coordinationv1.Lease{} }, func() *coordinationv1.LeaseList { return &coordinationv1.LeaseList{} }}
}

func (a *restAPI) Rollouts(namespace string) Resource[*argo.Rollout, *argo.RolloutList] {
	return restResource[*argo.Rollout, *argo.RolloutList]{a.argo, "rollouts", namespace,
		func() *argo.Rollout { return &argo.Rollout{} }, func() *argo.RolloutList { return &argo.RolloutList{} }}
}

func (a *restAPI) AnalysisRuns(namespace string) Resource[*argo.AnalysisRun, *argo.AnalysisRunList] {
	return restResource[*argo.AnalysisRun, *argo.AnalysisRunList]{a.argo, "analysisruns", namespace,
		func() *argo.AnalysisRun { return &argo.AnalysisRun{} }, func() *argo.AnalysisRunList { return &argo.AnalysisRunList{} }}
}

func (a *restAPI) Secrets(namespace string) Resource[*corev1.Secret, *corev1.SecretList] {
	return restResource[*corev1.Secret, *corev1.SecretList]{a.core, "secrets", namespace,
		func() *corev1.Secret { return &corev1.Secret{} }, func() *corev1.SecretList { return &corev1.SecretList{} }}
}

// customPath is /apis/<group>/<version>[/namespaces/<ns>]/<resource>/<name>.
func customPath(gvr schema.GroupVersionResource, namespace, name string) []string {
	path := []string{"/apis", gvr.Group, gvr.Version}
	if namespace != "" {
		path = append(path, "namespaces", namespace)
	}
	return append(path, gvr.Resource, name)
}

// GetCustom and PatchCustom send their requests with the JSON client of Argo's group: a
// request's path is absolute, and the client only lends its connection and codecs.
func (a *restAPI) GetCustom(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	body, err := a.argo.Get().AbsPath(customPath(gvr, namespace, name)...).Do(ctx).Raw()
	return unstructuredFrom(body, err)
}

func (a *restAPI) PatchCustom(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions) (*unstructured.Unstructured, error) {
	body, err := a.argo.Patch(pt).AbsPath(customPath(gvr, namespace, name)...).
		VersionedParams(&opts, parameterCodec).Body(data).Do(ctx).Raw()
	return unstructuredFrom(body, err)
}

func unstructuredFrom(body []byte, err error) (*unstructured.Unstructured, error) {
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(body); err != nil {
		return nil, fmt.Errorf("the API server's answer: %w", err)
	}
	return u, nil
}

func (a *restAPI) ServesArgoRollouts(ctx context.Context) (bool, error) {
	body, err := a.argo.Get().AbsPath("/apis", argo.GroupVersion.Group, argo.GroupVersion.Version).Do(ctx).Raw()
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var resources metav1.APIResourceList
	if err := json.Unmarshal(body, &resources); err != nil {
		return false, fmt.Errorf("the API server's %s answer: %w", argo.GroupVersion, err)
	}
	for _, r := range resources.APIResources {
		if r.Name == "rollouts" {
			return true, nil
		}
	}
	return false, nil
}

func (a *restAPI) PodLogs(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	return a.core.Get().Namespace(namespace).Resource("pods").Name(pod).SubResource("log").
		VersionedParams(opts, parameterCodec).Stream(ctx)
}

func (a *restAPI) ReviewAccess(ctx context.Context, review *authorizationv1.SelfSubjectAccessReview) (*authorizationv1.SelfSubjectAccessReview, error) {
	out := &authorizationv1.SelfSubjectAccessReview{}
	err := a.authorization.Post().Resource("selfsubjectaccessreviews").Body(review).Do(ctx).Into(out)
	return out, err
}

func (a *restAPI) WhoAmI(ctx context.Context) (*authenticationv1.SelfSubjectReview, error) {
	out := &authenticationv1.SelfSubjectReview{}
	err := a.authentication.Post().Resource("selfsubjectreviews").Body(&authenticationv1.SelfSubjectReview{}).Do(ctx).Into(out)
	return out, err
}

func (a *restAPI) ServerVersion(ctx context.Context) (*version.Info, error) {
	body, err := a.core.Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	var info version.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("the API server's /version answer: %w", err)
	}
	return &info, nil
}

func (a *restAPI) Readiness(ctx context.Context) error {
	body, err := a.core.Get().AbsPath("/readyz").DoRaw(ctx)
	return ReadinessAnswer(body, err)
}

// NotReady is the API server's answer that it is not ready.
type NotReady struct {
	// Failed are the checks that failed, e.g. "etcd" (from lines "[-]etcd failed: ...").
	Failed []string
}

func (e *NotReady) Error() string {
	const shown = 3 // an API server still starting fails a dozen checks
	switch n := len(e.Failed); {
	case n == 0:
		return "the API server is not ready"
	case n > shown:
		return fmt.Sprintf("the API server is not ready (%s and %d more failed)", strings.Join(e.Failed[:shown], ", "), n-shown)
	default:
		return "the API server is not ready (" + strings.Join(e.Failed, ", ") + " failed)"
	}
}

// ReadinessAnswer reads GET /readyz's body and error: nil when ready, a *NotReady for a 5xx
// answer (its body lists the checks), else err.
func ReadinessAnswer(body []byte, err error) error {
	var status apierrors.APIStatus
	if err == nil || !errors.As(err, &status) || status.Status().Code < 500 {
		return err
	}
	notReady := &NotReady{}
	for _, line := range strings.Split(string(body), "\n") {
		if check, ok := strings.CutPrefix(strings.TrimSpace(line), "[-]"); ok {
			name, _, _ := strings.Cut(check, " ")
			notReady.Failed = append(notReady.Failed, name)
		}
	}
	return notReady
}

// IsWatchListSemanticsUnSupported: a real API server streams the initial list (1.32+,
// and client-go falls back to LIST+WATCH by itself against older ones).
func (a *restAPI) IsWatchListSemanticsUnSupported() bool { return false }
