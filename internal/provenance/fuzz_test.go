package provenance

import (
	"github.com/pyroll/kubectl-pyroll/internal/safetext"

	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func FuzzFromTemplate(f *testing.F) {
	f.Add(shaA, "1.8.0", "ghcr.io/acme/orders:1.8.0", "docker-pullable://ghcr.io/acme/orders@"+digestA, "orders-1", "https://github.com/acme/orders")
	f.Add("\x1b[31mred\x1b[0m", "a\nb", "img@sha256:zz", "sha256:", "", "git@github.com:acme/orders.git")
	f.Add("\xff\xfe", "\u202e", "\x1b]0;t\x07", "@@@", "pod\x00", "https://gitlab.x/a/b/-/c")
	f.Add("\x1bP", "\u009b", "\u009d", "://", "\r\n", "ssh://git@gitlab.a:22/g/r.git")
	f.Fuzz(func(t *testing.T, annotation, label, image, imageID, pod, source string) {
		template := &corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{
				Annotations: map[string]string{
					keyRevision: annotation, keySource: source, keyCreated: annotation,
					keyLockHash: annotation, keyPipelineRun: annotation,
				},
				Labels: map[string]string{
					keyRevision: label, keyVersion: label, keyPython: label, keyAppVersion: annotation,
				},
			},
			Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "app", Image: image},
				{Name: pod, Image: annotation},
			}},
		}
		running := []RunningImage{
			{Pod: pod, Container: "app", ImageID: imageID},
			{Pod: "b", Container: "app", ImageID: "x@" + digestA},
			{Pod: label, Container: pod, ImageID: imageID},
			{Pod: annotation, Container: pod, ImageID: digestB},
		}
		p := FromTemplate(template, running)
		assertPrintable(t, reflect.ValueOf(p), "Provenance")
		assertPrintableString(t, string(p.ShortSHA()), "ShortSHA")
		assertPrintableString(t, p.Digest(), "Digest")
		assertPrintableString(t, CompareURL(source, annotation, label), "CompareURL")
		assertPrintableString(t, CompareURL(string(p.Source), string(p.GitSHA), shaB), "CompareURL of the result")
	})
}

func FuzzCompare(f *testing.F) {
	f.Add("DATABASE_URL", "postgres://u:p@h/db", "ghcr.io/acme/orders:1", "--token=x", "100m", "/healthz")
	f.Add("\x1b[2J", "\xff", "\u202e", "", "1Gi", "\x1b]8;;x\x07")
	f.Fuzz(func(t *testing.T, name, value, image, arg, quantity, path string) {
		from := ordersTemplate()
		to := ordersTemplate(func(t *corev1.PodTemplateSpec) {
			t.Labels[name] = value
			t.Annotations[name] = value
			c := app(t)
			c.Image = image
			c.Env = append(c.Env, corev1.EnvVar{Name: name, Value: value})
			c.Args = append(c.Args, arg, value)
			c.Command = []string{name}
			c.ReadinessProbe.HTTPGet.Path = path
			c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{arg, value}}}}
			if q, err := resource.ParseQuantity(quantity); err == nil {
				c.Resources.Limits[corev1.ResourceName(name)] = q
			}
			t.Spec.Containers = append(t.Spec.Containers, corev1.Container{Name: name, Image: value})
		})
		running := []RunningImage{{Pod: name, Container: "app", ImageID: value}}
		d := Compare(from, to, running, running)
		assertPrintable(t, reflect.ValueOf(d), "Diff")
		for _, c := range d.Template {
			if c.Kind != KindAdded && c.Kind != KindRemoved && c.Kind != KindChanged {
				t.Errorf("%s: kind %q", c.Field, c.Kind)
			}
			if (string(c.Field) == "env "+name+" (app)" || string(c.Field) == "label "+name) && looksSecret(name) && c.To != masked {
				t.Errorf("%s: secret-looking value shown as %q", c.Field, c.To)
			}
		}
	})
}

// assertPrintable walks every string reachable from v.
func assertPrintable(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		assertPrintableString(t, v.String(), path)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			assertPrintable(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			assertPrintable(t, v.Index(i), path+"["+strconv.Itoa(i)+"]")
		}
	}
}

func assertPrintableString(t *testing.T, s, path string) {
	t.Helper()
	if what, at, bad := safetext.Unsafe(s); bad || strings.Contains(s, "\n") {
		t.Errorf("%s = %q holds %s at %d", path, s, what, at)
	}
	if n := utf8.RuneCountInString(s); n > urlLimit {
		t.Errorf("%s has %d runes, more than %d", path, n, urlLimit)
	}
}
