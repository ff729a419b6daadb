package revisions

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

func deployment(revisions ...string) []runtime.Object {
	yes := true
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "orders-api", Namespace: "shop", UID: "dep-uid",
			Annotations: map[string]string{"deployment.kubernetes.io/revision": revisions[len(revisions)-1]}},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "orders-api"}}},
	}
	objs := []runtime.Object{dep}
	for i, sha := range revisions[:len(revisions)-1] {
		hash := "hash" + sha
		tmpl := corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "orders-api", "pod-template-hash": hash},
				Annotations: map[string]string{"org.opencontainers.image.revision": sha}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "ghcr.io/acme/orders:" + sha}}},
		}
		objs = append(objs, &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "orders-api-" + hash, Namespace: "shop", UID: types.UID("rs-" + hash),
				Labels:          tmpl.Labels,
				Annotations:     map[string]string{"deployment.kubernetes.io/revision": string(rune('1' + i))},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: dep.Name, UID: dep.UID, Controller: &yes}}},
			Spec:   appsv1.ReplicaSetSpec{Template: tmpl},
			Status: appsv1.ReplicaSetStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1},
		})
		if i == len(revisions)-2 {
			dep.Spec.Template = tmpl
		}
	}
	return objs
}

// load reads the rollout as the commands do: kube.ReadOne, then FromObjects.
func load(client *fake.Clientset, name string) (*History, error) {
	objs, err := kube.ReadOne(context.Background(), kubeapitest.FromClientset(client), ref.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: name})
	if err != nil {
		return nil, err
	}
	return FromObjects(objs, time.Now())
}

func TestLoadAndDiff(t *testing.T) {
	client := fake.NewClientset(deployment("9b01d4e", "3f2a9c1", "2")...)
	h, err := load(client, "orders-api")
	if err != nil {
		t.Fatal(err)
	}
	from, to, err := h.DefaultPair()
	if err != nil || from != 1 || to != 2 {
		t.Fatalf("pair %d -> %d, %v; want 1 -> 2", from, to, err)
	}
	d, err := h.Diff(from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Build) == 0 || d.Build[0].Field != "git SHA" || d.Build[0].From != "9b01d4e" || d.Build[0].To != "3f2a9c1" {
		t.Errorf("build changes %+v", d.Build)
	}
	if _, err := h.Diff(1, 7); err == nil || !strings.Contains(err.Error(), "shop/orders-api has no revision 7 (it has 1, 2)") {
		t.Errorf("missing revision: %v", err)
	}
}

func TestOneRevisionHasNothingToCompare(t *testing.T) {
	client := fake.NewClientset(deployment("9b01d4e", "1")...)
	h, err := load(client, "orders-api")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.DefaultPair(); err == nil || !strings.Contains(err.Error(), "only one revision") {
		t.Errorf("one revision: %v", err)
	}
	if _, err := load(client, "nope"); err == nil || !strings.Contains(err.Error(), `deployment shop/nope`) {
		t.Errorf("missing deployment: %v", err)
	}
}
