package kubeapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// TestCustomResources checks the requests GetCustom, PatchCustom and Secrets send and
// how they read the answers, against a stand-in API server.
func TestCustomResources(t *testing.T) {
	type seen struct{ method, path, query, contentType, body string }
	var requests []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		requests = append(requests, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), string(body)})
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/shop-orders":
			_, _ = io.WriteString(w, `{"apiVersion":"argoproj.io/v1alpha1","kind":"Application","metadata":{"name":"shop-orders","namespace":"argocd","resourceVersion":"902114"},"spec":{"syncPolicy":{"automated":{"selfHeal":true}}}}`)
		case "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/apps":
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"kustomizations.kustomize.toolkit.fluxcd.io \"apps\" is forbidden: User \"viewer\" cannot get resource","reason":"Forbidden","code":403}`)
		case "/api/v1/namespaces/shop/secrets":
			_, _ = io.WriteString(w, `{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"sh.helm.release.v1.orders.v3","namespace":"shop"},"type":"helm.sh/release.v1","data":{"release":"SDRzSQ=="}}]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
		}
	}))
	defer srv.Close()
	api, err := New(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	application := schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	app, err := api.GetCustom(ctx, application, "argocd", "shop-orders")
	if err != nil {
		t.Fatal(err)
	}
	if app.GetResourceVersion() != "902114" || app.GetKind() != "Application" {
		t.Errorf("application: %v", app.Object)
	}
	_, err = api.GetCustom(ctx, schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}, "flux-system", "apps")
	if !apierrors.IsForbidden(err) {
		t.Errorf("forbidden: %v", err)
	}
	if _, err = api.GetCustom(ctx, application, "argocd", "gone"); !apierrors.IsNotFound(err) {
		t.Errorf("not found: %v", err)
	}
	if _, err = api.PatchCustom(ctx, application, "argocd", "shop-orders", types.JSONPatchType, []byte(`[{"op":"add","path":"/spec/syncPolicy/automated/enabled","value":false}]`),
		metav1.PatchOptions{FieldManager: "kubectl-pyroll"}); err != nil {
		t.Fatal(err)
	}
	secrets, err := api.Secrets("shop").List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=orders,status=deployed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 1 || string(secrets.Items[0].Data["release"]) != "H4sI" {
		t.Errorf("secrets: %+v", secrets.Items)
	}
	patch := requests[3]
	if patch.method != "PATCH" || patch.contentType != string(types.JSONPatchType) || patch.query != "fieldManager=kubectl-pyroll" ||
		patch.body != `[{"op":"add","path":"/spec/syncPolicy/automated/enabled","value":false}]` {
		t.Errorf("patch request: %+v", patch)
	}
	if list := requests[4]; list.query != "labelSelector=owner%3Dhelm%2Cname%3Dorders%2Cstatus%3Ddeployed" {
		t.Errorf("secrets request: %+v", list)
	}
}
