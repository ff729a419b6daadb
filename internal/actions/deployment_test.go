package actions

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

func template(image, sha string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "api"}, Annotations: map[string]string{"org.opencontainers.image.revision": sha}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
	}
}

func replicaSet(dep *appsv1.Deployment, revision, hash, image, sha string, available int32) *appsv1.ReplicaSet {
	t := template(image, sha)
	t.Labels = map[string]string{"app": "api", appsv1.DefaultDeploymentUniqueLabelKey: hash}
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "api-" + hash, Namespace: "shop", UID: k8stypes.UID("rs-" + hash),
			Labels:          map[string]string{"app": "api", appsv1.DefaultDeploymentUniqueLabelKey: hash},
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": revision},
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "api", UID: dep.UID, Controller: ptr(true)}}},
		Spec:   appsv1.ReplicaSetSpec{Template: t},
		Status: appsv1.ReplicaSetStatus{AvailableReplicas: available},
	}
}

func ptr[T any](v T) *T { return &v }

// fixture: api at revision 2 (1.1, crash-looping) with revision 1 (1.0) still serving.
func fixture(paused bool) (*fake.Clientset, *appsv1.Deployment) {
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop", UID: "dep-uid", Generation: 2, ResourceVersion: "100",
			Annotations: map[string]string{"deployment.kubernetes.io/revision": "2"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(3)), Paused: paused,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}},
			Template: template("ghcr.io/acme/api:1.1", "bbbbbbbbbb")},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 4, UpdatedReplicas: 1, AvailableReplicas: 3},
	}
	client := fake.NewClientset(dep,
		replicaSet(dep, "1", "aaa", "ghcr.io/acme/api:1.0", "aaaaaaaaaa", 3),
		replicaSet(dep, "2", "bbb", "ghcr.io/acme/api:1.1", "bbbbbbbbbb", 0))
	requireResourceVersion(client)
	return client, dep
}

var apiRef = ref.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "api"}

// requireResourceVersion makes the fake clientset refuse what the API server would, for
// the precondition the driver must send: a Deployment write without
// metadata.resourceVersion (the fake would accept it, so dropping the precondition
// would go unnoticed), and a conflict for one with an old resourceVersion.
func requireResourceVersion(client *fake.Clientset) {
	gvr := appsv1.SchemeGroupVersion.WithResource("deployments")
	client.PrependReactor("*", "deployments", func(action k8stesting.Action) (bool, runtime.Object, error) {
		var name, rv string
		switch a := action.(type) {
		case k8stesting.PatchAction:
			var body struct {
				Metadata struct {
					ResourceVersion string `json:"resourceVersion"`
				} `json:"metadata"`
			}
			if err := json.Unmarshal(a.GetPatch(), &body); err != nil {
				return true, nil, apierrors.NewBadRequest("test: patch is not JSON: " + err.Error())
			}
			name, rv = a.GetName(), body.Metadata.ResourceVersion
		case k8stesting.UpdateAction:
			obj := a.GetObject().(*appsv1.Deployment)
			name, rv = obj.Name, obj.ResourceVersion
		default:
			return false, nil, nil
		}
		current, err := client.Tracker().Get(gvr, action.GetNamespace(), name)
		if err != nil {
			return false, nil, nil // not found: the tracker answers
		}
		switch {
		case rv == "":
			return true, nil, apierrors.NewBadRequest("test: a Deployment write without a metadata.resourceVersion precondition")
		case rv != current.(*appsv1.Deployment).ResourceVersion:
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, name, errors.New("the object has been modified"))
		}
		return false, nil, nil
	})
}

func driver(client *fake.Clientset) *Driver {
	return &Driver{Client: kubeapitest.FromClientset(client), User: "alice", Now: func() time.Time { return time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC) }}
}

func get(t *testing.T, client *fake.Clientset) *appsv1.Deployment {
	t.Helper()
	d, err := client.AppsV1().Deployments("shop").Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRollbackRestoresThePreviousTemplateAndResumes(t *testing.T) {
	client, _ := fixture(true)
	ctx := context.Background()
	plan, err := driver(client).Plan(ctx, intent.Request{Action: intent.Rollback, Target: apiRef, Reason: "5xx"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.From.Revision != 2 || plan.To.Revision != 1 || !strings.Contains(string(plan.Message), "sha aaaaaaa") || !strings.Contains(string(plan.Message), "resumes") {
		t.Errorf("plan %+v", plan)
	}
	result, err := driver(client).Apply(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	d := get(t, client)
	if d.Spec.Template.Spec.Containers[0].Image != "ghcr.io/acme/api:1.0" || d.Spec.Paused {
		t.Errorf("after rollback: image %s paused %v", d.Spec.Template.Spec.Containers[0].Image, d.Spec.Paused)
	}
	if _, hashed := d.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; hashed {
		t.Errorf("pod-template-hash copied into the Deployment template")
	}
	var record intent.LastAction
	if err := json.Unmarshal([]byte(d.Annotations[intent.LastActionAnnotation]), &record); err != nil || record.User != "alice" || record.From != 2 || record.To != 1 || record.Reason != "5xx" {
		t.Errorf("audit annotation %q (%v)", d.Annotations[intent.LastActionAnnotation], err)
	}
	if !strings.Contains(d.Annotations[ChangeCauseAnnotation], "rollback to rev 1 by alice: 5xx") {
		t.Errorf("change-cause %q", d.Annotations[ChangeCauseAnnotation])
	}
	events, _ := client.CoreV1().Events("shop").List(ctx, metav1.ListOptions{})
	if len(events.Items) != 1 || events.Items[0].Reason != "PyrollRollback" || result.Warning != "" {
		t.Errorf("events %+v, warning %q", events.Items, result.Warning)
	}
}

// A completed Deployment's current revision is its stable one (rollout.settle): rollback
// goes to the revision before it, not to itself.
func TestRollbackOfACompletedDeploymentGoesToThePreviousRevision(t *testing.T) {
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop", UID: "dep-uid", Generation: 2, ResourceVersion: "100",
			Annotations: map[string]string{"deployment.kubernetes.io/revision": "2"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}},
			Template: template("ghcr.io/acme/api:1.1", "bbbbbbbbbb")},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3},
	}
	current := replicaSet(dep, "2", "bbb", "ghcr.io/acme/api:1.1", "bbbbbbbbbb", 3)
	current.Status.ReadyReplicas = 3
	client := fake.NewClientset(dep, replicaSet(dep, "1", "aaa", "ghcr.io/acme/api:1.0", "aaaaaaaaaa", 0), current)
	requireResourceVersion(client)
	plan, err := driver(client).Plan(context.Background(), intent.Request{Action: intent.Rollback, Target: apiRef})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Noop || plan.From.Revision != 2 || plan.To.Revision != 1 {
		t.Errorf("plan noop %v from %d to %d (%s); want 2 to 1", plan.Noop, plan.From.Revision, plan.To.Revision, plan.Message)
	}
}

// A 409 once: the driver re-reads, re-decides and writes again.
func TestConflictIsRetriedAfterReReading(t *testing.T) {
	client, _ := fixture(false)
	conflicts := 0
	client.PrependReactor("patch", "deployments", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if conflicts == 0 {
			conflicts++
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, "api", errors.New("the object has been modified"))
		}
		return false, nil, nil
	})
	if _, err := driver(client).Do(context.Background(), intent.Request{Action: intent.Halt, Target: apiRef}); err != nil {
		t.Fatal(err)
	}
	if conflicts != 1 || !get(t, client).Spec.Paused {
		t.Errorf("conflicts %d, paused %v; want one conflict, then paused", conflicts, get(t, client).Spec.Paused)
	}
}

// Someone edits the Deployment between the confirmation and the apply: nothing is written.
// An edit that keeps the image, SHA and revision (an env var, before the controller makes a
// new ReplicaSet of it) is another template too.
func TestAnEditAfterConfirmationIsNotOverwritten(t *testing.T) {
	for name, edit := range map[string]func(*corev1.Container){
		"image": func(c *corev1.Container) { c.Image = "ghcr.io/acme/api:1.2-hotfix" },
		"env":   func(c *corev1.Container) { c.Env = []corev1.EnvVar{{Name: "FEATURE_X", Value: "on"}} },
	} {
		client, dep := fixture(false)
		ctx := context.Background()
		plan, err := driver(client).Plan(ctx, intent.Request{Action: intent.Rollback, Target: apiRef})
		if err != nil {
			t.Fatal(err)
		}
		edited := dep.DeepCopy()
		edit(&edited.Spec.Template.Spec.Containers[0])
		edited.Generation = 3
		if _, err := client.AppsV1().Deployments("shop").Update(ctx, edited, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err = driver(client).Apply(ctx, plan); !errors.Is(err, ErrChanged) {
			t.Fatalf("apply after an edit of the %s: %v; want ErrChanged", name, err)
		}
		if got := get(t, client).Spec.Template.Spec.Containers[0]; !equality.Semantic.DeepEqual(got, edited.Spec.Template.Spec.Containers[0]) {
			t.Errorf("the %s edit was overwritten: %+v", name, got)
		}
	}
}

func TestIdempotentAndImpossibleActions(t *testing.T) {
	ctx := context.Background()
	halted, _ := fixture(true)
	if r, err := driver(halted).Do(ctx, intent.Request{Action: intent.Halt, Target: apiRef}); err != nil || !r.Noop || !strings.Contains(string(r.Message), "already halted") {
		t.Errorf("halt of a halted rollout: %+v, %v", r, err)
	}
	running, _ := fixture(false)
	if r, err := driver(running).Do(ctx, intent.Request{Action: intent.Promote, Target: apiRef}); err != nil || !r.Noop || !strings.Contains(string(r.Message), "nothing to promote") {
		t.Errorf("promote of a running rollout: %+v, %v", r, err)
	}
	if _, err := driver(running).Plan(ctx, intent.Request{Action: intent.Rollback, Target: apiRef, ToRevision: 7}); err == nil || !strings.Contains(err.Error(), "no revision 7 (it has revisions 1, 2)") {
		t.Errorf("rollback to a missing revision: %v", err)
	}
	if _, err := driver(running).Plan(ctx, intent.Request{Action: intent.Rollback, Target: ref.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "missing"}}); err == nil || !strings.Contains(err.Error(), `deployment "missing" not found in namespace "shop"`) {
		t.Errorf("rollback of a missing deployment: %v", err)
	}
	only := fake.NewClientset(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop", UID: "u"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}}})
	if _, err := driver(only).Plan(ctx, intent.Request{Action: intent.Rollback, Target: apiRef}); err == nil || !strings.Contains(err.Error(), "no previous revision") {
		t.Errorf("rollback without history: %v", err)
	}
}

func TestReadOnlyDeniesEverything(t *testing.T) {
	perms := (&Access{ReadOnly: true}).Permissions(context.Background(), intent.ScopeOf(apiRef))
	for _, a := range []intent.Action{intent.Halt, intent.Promote, intent.Rollback} {
		if ok, why := perms.Allowed(a); ok || !strings.Contains(why, "read-only") {
			t.Errorf("%s allowed=%v (%s) under --read-only", a, ok, why)
		}
	}
}
