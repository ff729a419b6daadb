package owner

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"os"
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
	// Release 4 rendered 2.1.0's template again (a chart bump that changed nothing of it):
	// revision 5 names the newer chart.
	secrets = append(secrets, releaseSecret(t, 4, "0.4.3"))
	if c := ChartsByRevision(secrets, "Deployment", "orders", map[int64]*corev1.PodTemplateSpec{5: with("registry.example.com/shop/orders:2.1.0")})[5]; c.Version != "0.4.3" || c.Release != 4 {
		t.Errorf("a template two releases rendered names %+v, want the newer chart 0.4.3 (release 4)", c)
	}
	if got := ChartsByRevision(secrets, "Deployment", "payments", map[int64]*corev1.PodTemplateSpec{1: with("x")}); len(got) != 0 {
		t.Errorf("a rollout the releases do not render: %+v", got)
	}
}

// releaseSecret is release-orders-v3.json as release version, with chart version chart,
// stored as Helm's driver stores it (gzip, then base64: the Secret's data as the API gives it).
func releaseSecret(t *testing.T, version int, chart string) corev1.Secret {
	t.Helper()
	raw, err := os.ReadFile("testdata/helm/release-orders-v3.json")
	if err != nil {
		t.Fatal(err)
	}
	var rel map[string]any
	if err := json.Unmarshal(raw, &rel); err != nil {
		t.Fatal(err)
	}
	rel["version"] = version
	rel["chart"].(map[string]any)["metadata"].(map[string]any)["version"] = chart
	data, err := json.Marshal(rel)
	if err != nil {
		t.Fatal(err)
	}
	var zipped bytes.Buffer
	w := gzip.NewWriter(&zipped)
	_, _ = w.Write(data)
	_ = w.Close()
	return corev1.Secret{Data: map[string][]byte{"release": []byte(base64.StdEncoding.EncodeToString(zipped.Bytes()))}}
}
