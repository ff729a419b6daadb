package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/ui/app"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

var update = flag.Bool("update", false, "rewrite the golden screens in testdata")

var consoleNow = time.Date(2026, 11, 22, 3, 12, 0, 0, time.UTC)

// A build as CI stamps it on the pod template.
type stamped struct{ revision, hash, image, sha, version, lock string }

var (
	api10 = stamped{"1", "6d4cf56db6", "ghcr.io/acme/api:1.0.0", "aaaaaaa1b2c3d4e5f60718293a4b5c6d7e8f9012", "1.0.0", "sha256:1111aaaa2222"}
	api11 = stamped{"2", "7f9b8c6d5e", "ghcr.io/acme/api:1.1.0", "bbbbbbb9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3", "1.1.0", "sha256:3333bbbb4444"}
)

func (b stamped) template() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "api"}, Annotations: map[string]string{
			"org.opencontainers.image.revision": b.sha, "org.opencontainers.image.version": b.version, "pyroll.dev/lock-hash": b.lock}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: b.image}}},
	}
}

func (b stamped) replicaSet(dep *appsv1.Deployment, available int32) *appsv1.ReplicaSet {
	t := b.template()
	t.Labels = map[string]string{"app": "api", appsv1.DefaultDeploymentUniqueLabelKey: b.hash}
	replicas := available
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "api-" + b.hash, Namespace: "shop", UID: k8stypes.UID("rs-" + b.hash), ResourceVersion: "10",
			CreationTimestamp: metav1.NewTime(consoleNow.Add(-20 * time.Minute)),
			Labels:            t.Labels, Annotations: map[string]string{"deployment.kubernetes.io/revision": b.revision},
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "api", UID: dep.UID, Controller: new(true)}}},
		Spec:   appsv1.ReplicaSetSpec{Replicas: &replicas, Template: t},
		Status: appsv1.ReplicaSetStatus{Replicas: available, ReadyReplicas: available, AvailableReplicas: available},
	}
}

// shopAPI: api rolling out 1.1.0 (revision 2, no pod available yet) over 1.0.0 (revision 1,
// serving), in a fake clientset that grants every access review and, like the API server
// for the driver's precondition, refuses a Deployment update without a resourceVersion.
func shopAPI(t *testing.T) (*fake.Clientset, rollout.Snapshot) {
	t.Helper()
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop", UID: "dep-uid", Generation: 2, ResourceVersion: "100",
			CreationTimestamp: metav1.NewTime(consoleNow.Add(-3 * time.Hour)),
			Annotations:       map[string]string{"deployment.kubernetes.io/revision": "2"}},
		Spec: appsv1.DeploymentSpec{Replicas: new(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}, Template: api11.template()},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 3},
	}
	rs := []*appsv1.ReplicaSet{api10.replicaSet(dep, 3), api11.replicaSet(dep, 0)}
	client := fake.NewClientset(dep, rs[0], rs[1])
	client.PrependReactor("create", "selfsubjectaccessreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authorizationv1.SelfSubjectAccessReview{Status: authorizationv1.SubjectAccessReviewStatus{Allowed: true}}, nil
	})
	client.PrependReactor("update", "deployments", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if action.(k8stesting.UpdateAction).GetObject().(*appsv1.Deployment).ResourceVersion == "" {
			return true, nil, apierrors.NewBadRequest("test: a Deployment update without a resourceVersion precondition")
		}
		return false, nil, nil
	})
	objs := rollout.Objects{Deployments: []*appsv1.Deployment{dep}, ReplicaSets: rs}
	return client, rollout.Snapshot{Rollouts: rollout.Build(objs, consoleNow), Synced: true, At: consoleNow,
		Conn: rollout.Connection{State: rollout.ConnLive}}
}

// console is the console over the real actions driver and access checks, at a size.
func console(t *testing.T, client *fake.Clientset, snap rollout.Snapshot, width, height int, readOnly bool) app.Model {
	t.Helper()
	api := kubeapitest.FromClientset(client)
	closed := make(chan rollout.Snapshot)
	close(closed) // the console's wait for the next snapshot ends at once
	m := app.New(app.Options{Styles: styles.New(styles.Options{}), Context: "prod-eu", Namespace: "shop", Snapshots: closed, Now: consoleNow,
		Actor: actions.Service{
			Driver: &actions.Driver{Client: api, User: "alice", Now: func() time.Time { return consoleNow }},
			Access: &actions.Access{Client: api, ReadOnly: readOnly},
		}})
	m = drive(t, m, tea.WindowSizeMsg{Width: width, Height: height})
	return drive(t, m, app.SnapshotMsg(snap)) // and the access reviews it asks
}

// drive sends msg and runs every command it leads to, feeding their messages back.
func drive(t *testing.T, m app.Model, msg tea.Msg) app.Model {
	t.Helper()
	next, cmd := m.Update(msg)
	m = next.(app.Model)
	for _, msg := range runCmd(t, cmd) {
		m = drive(t, m, msg)
	}
	return m
}

func runCmd(t *testing.T, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a console command blocked (a tick?)")
	}
	if batch, ok := msg.(tea.BatchMsg); ok {
		var msgs []tea.Msg
		for _, c := range batch {
			msgs = append(msgs, runCmd(t, c)...)
		}
		return msgs
	}
	if msg == nil {
		return nil
	}
	return []tea.Msg{msg}
}

func key(s string) tea.KeyPressMsg { return tea.KeyPressMsg{Code: []rune(s)[0], Text: s} }

func screen(m app.Model) string { return ansi.Strip(m.View().Content) }

// DESIGN.md §3: r asks a confirmation naming the target revision and what changes (image,
// SHA, lock hash of both revisions); y writes the rollback.
func TestConsoleRollbackWithTheRealDriver(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		client, snap := shopAPI(t)
		m := drive(t, console(t, client, snap, size.w, size.h, false), key("r"))
		s := screen(m)
		// The question may wrap: read it as one line.
		question := strings.Join(strings.Fields(s), " ")
		for _, want := range []string{
			"roll back api from rev 2", "to rev 1", "y/n",
			"sha bbbbbbb", api11.image, "lock " + api11.lock, // from
			"sha aaaaaaa", api10.image, "lock " + api10.lock, // to
		} {
			if !strings.Contains(question, want) {
				t.Errorf("%dx%d: the confirmation lacks %q:\n%s", size.w, size.h, want, s)
			}
		}
		golden(t, fmt.Sprintf("console-confirm-rollback-%dx%d", size.w, size.h), s)
		if img := deployment(t, client).Spec.Template.Spec.Containers[0].Image; img != api11.image {
			t.Fatalf("written before y: image %s", img)
		}

		m = drive(t, m, key("y"))
		d := deployment(t, client)
		if img := d.Spec.Template.Spec.Containers[0].Image; img != api10.image || d.Spec.Template.Annotations["org.opencontainers.image.revision"] != api10.sha {
			t.Errorf("after y the template runs %s (sha %s), want revision 1's", img, d.Spec.Template.Annotations["org.opencontainers.image.revision"])
		}
		if _, hashed := d.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; hashed {
			t.Errorf("pod-template-hash copied into the Deployment's template")
		}
		if s := screen(m); !strings.Contains(s, "rolled back api") {
			t.Errorf("%dx%d: the footer should say it is done:\n%s", size.w, size.h, s)
		}
	}
}

// With --read-only the real access checks disable the actions: the help marks them off,
// r says why, and nothing is written.
func TestConsoleReadOnlyWithTheRealAccessChecks(t *testing.T) {
	client, snap := shopAPI(t)
	m := drive(t, console(t, client, snap, 100, 24, true), key("r"))
	s := screen(m)
	if !strings.Contains(s, "rollback not available: read-only (--read-only)") || !strings.Contains(s, "actions off: read-only") {
		t.Errorf("r on a read-only console should say why it is off:\n%s", s)
	}
	if full := screen(drive(t, m, key("?"))); !strings.Contains(full, "rollback (off)") {
		t.Errorf("the full help should mark rollback off:\n%s", full)
	}
	if img := deployment(t, client).Spec.Template.Spec.Containers[0].Image; img != api11.image {
		t.Errorf("a read-only console wrote: image %s", img)
	}
}

func deployment(t *testing.T, client *fake.Clientset) *appsv1.Deployment {
	t.Helper()
	d, err := client.AppsV1().Deployments("shop").Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// golden compares a screen with testdata/NAME.golden (-update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/cli -run TestConsole -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("screen differs from %s (-update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
