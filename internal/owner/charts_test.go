package owner

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// Each revision is named with the chart of the newest release that rendered its template;
// one no release rendered (the rollback by hand to an image no chart named) has none.
func TestChartsByRevision(t *testing.T) {
	secrets := []corev1.Secret{*secret(t, "helm/secret-orders-v2-plain.json"), *secret(t, "helm/secret-orders-v3.json")}
	live := deployment(t, "helm/deployment-orders-rolledback.yaml")
	with := func(image string) *corev1.PodTemplateSpec {
		tmpl := live.Spec.Template.DeepCopy()
		tmpl.Spec.Containers[0].Image = image
		return tmpl
	}
	charts := ChartsByRevision(secrets, "Deployment", "orders", map[int64]*corev1.PodTemplateSpec{
		4: with("registry.example.com/shop/orders:2.0.0"),
		5: with("registry.example.com/shop/orders:2.1.0"),
		6: with("registry.example.com/shop/orders:1.9.9"),
	})
	if c := charts[4]; c.Version != "0.4.1" || c.AppVersion != "2.0.0" || c.Release != 2 {
		t.Errorf("revision 4 (2.0.0): %+v, want chart 0.4.1, app 2.0.0, release 2", c)
	}
	if c := charts[5]; c.Text() != "orders-0.4.2 (app 2.1.0, release 3)" {
		t.Errorf("revision 5 (2.1.0): %q", c.Text())
	}
	if c, ok := charts[6]; ok {
		t.Errorf("revision 6 (an image no release rendered) names %+v", c)
	}
	if got := ChartsByRevision(secrets, "Deployment", "payments", map[int64]*corev1.PodTemplateSpec{1: with("x")}); len(got) != 0 {
		t.Errorf("a rollout the releases do not render: %+v", got)
	}
}
