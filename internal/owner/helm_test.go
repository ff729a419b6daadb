package owner

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

func TestDecodeRelease(t *testing.T) {
	// testdata/helm/secret-orders-v3.json is release-orders-v3.json as Helm stores it
	// (compact JSON, gzip, base64) and as the API serves it (base64 again).
	rel, err := DecodeRelease(secret(t, "helm/secret-orders-v3.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fixture helmRelease
	if err := json.Unmarshal(readFixture(t, "helm/release-orders-v3.json"), &fixture); err != nil {
		t.Fatal(err)
	}
	want := Release{Name: "orders", Namespace: "shop", Revision: 3, Status: "deployed", Chart: "orders", ChartVersion: "0.4.2", AppVersion: "2.1.0", Manifest: fixture.Manifest}
	if *rel != want {
		t.Errorf("DecodeRelease = %+v\nwant %+v", *rel, want)
	}
	if !strings.Contains(rel.Manifest, "# Source: orders/templates/deployment.yaml") {
		t.Errorf("manifest: %q", rel.Manifest)
	}

	// A release stored before Helm compressed them: plain JSON under the base64.
	old, err := DecodeRelease(secret(t, "helm/secret-orders-v2-plain.json"))
	if err != nil {
		t.Fatal(err)
	}
	if old.Revision != 2 || old.Status != "superseded" || old.ChartVersion != "0.4.1" || old.AppVersion != "2.0.0" {
		t.Errorf("plain release: %+v", old)
	}
}

func TestDecodeReleaseRefuses(t *testing.T) {
	good := secret(t, "helm/secret-orders-v3.json")
	cases := map[string]func(s *corev1.Secret){
		"another type":  func(s *corev1.Secret) { s.Type = corev1.SecretTypeOpaque },
		"no release":    func(s *corev1.Secret) { delete(s.Data, HelmSecretKey) },
		"not base64":    func(s *corev1.Secret) { s.Data[HelmSecretKey] = []byte("not base64!") },
		"empty release": func(s *corev1.Secret) { s.Data[HelmSecretKey] = []byte("H4sIAAAAAAAA/wEAAP//AAAAAAAAAAA=") }, // gzip of nothing: not JSON
		"both layers decoded already": func(s *corev1.Secret) {
			raw, _ := base64.StdEncoding.DecodeString(string(s.Data[HelmSecretKey]))
			s.Data[HelmSecretKey] = raw
		},
		"truncated gzip": func(s *corev1.Secret) {
			raw := string(s.Data[HelmSecretKey])
			s.Data[HelmSecretKey] = []byte(raw[:len(raw)/2/4*4])
		},
	}
	for name, edit := range cases {
		s := good.DeepCopy()
		edit(s)
		if rel, err := DecodeRelease(s); err == nil {
			t.Errorf("%s: decoded %+v", name, rel)
		}
	}
}

func TestDeployedRelease(t *testing.T) {
	v2, v3 := *secret(t, "helm/secret-orders-v2-plain.json"), *secret(t, "helm/secret-orders-v3.json")
	if got := DeployedRelease([]corev1.Secret{v2, v3}); got == nil || got.Name != "sh.helm.release.v1.orders.v3" {
		t.Errorf("got %v", got)
	}
	if got := DeployedRelease([]corev1.Secret{v2}); got != nil {
		t.Errorf("a superseded release is not in force: got %s", got.Name)
	}
	stale := *v3.DeepCopy()
	stale.Name, stale.Labels = "sh.helm.release.v1.orders.v4", map[string]string{"owner": "helm", "name": "orders", "status": "deployed", "version": "4"}
	if got := DeployedRelease([]corev1.Secret{stale, v3}); got.Name != "sh.helm.release.v1.orders.v4" {
		t.Errorf("two deployed: want the highest version, got %s", got.Name)
	}
	if sel := HelmReleaseSelector("orders"); sel != "owner=helm,name=orders,status=deployed" {
		t.Errorf("selector %q", sel)
	}
}

func TestReleaseDrift(t *testing.T) {
	rel, err := DecodeRelease(secret(t, "helm/secret-orders-v3.json"))
	if err != nil {
		t.Fatal(err)
	}
	rolledBack := deployment(t, "helm/deployment-orders-rolledback.yaml")
	inSync := func() *corev1.PodTemplateSpec {
		tmpl := rolledBack.Spec.Template.DeepCopy()
		tmpl.Spec.Containers[0].Image = "registry.example.com/shop/orders:2.1.0"
		return tmpl
	}
	cases := []struct {
		name string
		edit func(*corev1.PodTemplateSpec)
		want string // Drift.Text(), "" for none
	}{
		{"rolled back image", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Image = "registry.example.com/shop/orders:2.0.0" },
			"container app image: registry.example.com/shop/orders:2.1.0 in the release, registry.example.com/shop/orders:2.0.0 live"},
		{"in sync (defaults the API server added are no drift)", nil, ""},
		{"command", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Command = []string{"uvicorn"} },
			`container app command: ["gunicorn"] in the release, ["uvicorn"] live`},
		{"args", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Args = nil },
			`container app args: ["-k","uvicorn.workers.UvicornWorker","-b","0.0.0.0:8000","orders.main:app"] in the release, (none) live`},
		{"env value", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Env[0].Value = "8" },
			"container app env WEB_CONCURRENCY: 4 in the release, 8 live"},
		{"env removed", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Env = p.Spec.Containers[0].Env[1:] },
			"container app env WEB_CONCURRENCY: 4 in the release, (unset) live"},
		{"env added", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: "DEBUG", Value: "1"})
		}, "container app env DEBUG: (unset) in the release, 1 live"},
		{"env source", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env[1].ValueFrom.FieldRef.FieldPath = "spec.nodeName"
		},
			`container app env POD_NAME: valueFrom {"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}} in the release, valueFrom {"fieldRef":{"apiVersion":"v1","fieldPath":"spec.nodeName"}} live`},
		{"init container first", func(p *corev1.PodTemplateSpec) {
			p.Spec.InitContainers[0].Image = "wait-for:2"
			p.Spec.Containers[0].Image = "orders:0"
		}, "container wait-db image: registry.example.com/tools/wait-for:1.3 in the release, wait-for:2 live"},
		{"a sidecar's image", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[1].Image = "vector:0.42" },
			"container log-shipper image: registry.example.com/tools/vector:0.41 in the release, vector:0.42 live"},
		{"a container added live is not the release's", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "debug", Image: "busybox"})
		}, ""},
		{"a release container absent live is not compared", func(p *corev1.PodTemplateSpec) { p.Spec.Containers = p.Spec.Containers[:1] }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			live := inSync()
			if c.edit != nil {
				c.edit(live)
			}
			d := ReleaseDrift(rel.Manifest, "Deployment", "orders", live)
			got := ""
			if d != nil {
				got = string(d.Text())
			}
			if got != c.want {
				t.Errorf("drift:\n got %s\nwant %s", got, c.want)
			}
		})
	}
	// Only the rollout's own object is compared: the Job of the same chart is not it.
	if d := ReleaseDrift(rel.Manifest, "Job", "orders", inSync()); d != nil {
		t.Errorf("no Job named orders in the release: %v", d.Text())
	}
	if d := ReleaseDrift(rel.Manifest, "Deployment", "payments", inSync()); d != nil {
		t.Errorf("another Deployment: %v", d.Text())
	}
}

func TestFromRelease(t *testing.T) {
	live := deployment(t, "helm/deployment-orders-rolledback.yaml")
	d := Detect(ref.Deployment, live, Options{})
	v := FromRelease(d, secret(t, "helm/secret-orders-v3.json"), "Deployment", live.Name, &live.Spec.Template, live.ManagedFields)
	if v.Access != Read || v.ServerSideApply != Yes || v.Drift == nil || v.Revision != "0.4.2" || v.ResourceVersion != "48213" {
		t.Fatalf("view %+v", v)
	}
	want := "managed by Helm release shop/orders (revision 3, chart orders-0.4.2, app 2.1.0, drifted: container app image: registry.example.com/shop/orders:2.1.0 in the release, registry.example.com/shop/orders:2.0.0 live)"
	if got := string(v.Summary()); got != want {
		t.Errorf("Summary:\n got %s\nwant %s", got, want)
	}
	if v := FromRelease(d, nil, "Deployment", live.Name, &live.Spec.Template, nil); v.Access != Absent || v.ServerSideApply != Unknown {
		t.Errorf("no deployed release: %+v", v)
	}
	broken := secret(t, "helm/secret-orders-v3.json")
	broken.Data[HelmSecretKey] = []byte("%%%")
	if v := FromRelease(d, broken, "Deployment", live.Name, &live.Spec.Template, nil); v.Access != Unreadable || v.Problem == "" {
		t.Errorf("broken release: %+v", v)
	}
}

func TestHelmAppliesServerSide(t *testing.T) {
	entry := func(manager string, op metav1.ManagedFieldsOperationType, sub string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, Subresource: sub}
	}
	cases := []struct {
		managed []metav1.ManagedFieldsEntry
		want    State
	}{
		{[]metav1.ManagedFieldsEntry{entry("helm", metav1.ManagedFieldsOperationApply, "")}, Yes},
		{[]metav1.ManagedFieldsEntry{entry("helm", metav1.ManagedFieldsOperationUpdate, ""), entry("kubectl-pyroll", metav1.ManagedFieldsOperationUpdate, "")}, No},
		{[]metav1.ManagedFieldsEntry{entry("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "status")}, Unknown},
		{nil, Unknown},
	}
	for i, c := range cases {
		if got := HelmAppliesServerSide(c.managed); got != c.want {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
}
