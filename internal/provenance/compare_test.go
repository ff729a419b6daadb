package provenance

import (
	"github.com/pyroll/kubectl-pyroll/internal/safetext"

	"encoding/json"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ordersTemplate is a typical revision; tests mutate a copy of it.
func ordersTemplate(edits ...func(*corev1.PodTemplateSpec)) *corev1.PodTemplateSpec {
	t := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels: map[string]string{"app": "orders", "pod-template-hash": "6d4b7c9f8"},
			Annotations: map[string]string{
				keyRevision: shaA, keySource: "https://github.com/acme/orders", keyVersion: "1.7.3",
				keyLockHash: "sha256:1111", keyPython: "3.12.7",
			},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:    "app",
			Image:   "ghcr.io/acme/orders:1.7.3",
			Command: []string{"gunicorn"},
			Args:    []string{"orders.wsgi", "--workers", "4"},
			Env: []corev1.EnvVar{
				{Name: "LOG_LEVEL", Value: "info"},
				{Name: "WORKERS", Value: "4"},
			},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
			},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
				PeriodSeconds: 10, TimeoutSeconds: 1, FailureThreshold: 3,
			},
		}}},
	}
	for _, edit := range edits {
		edit(t)
	}
	return t
}

func app(t *corev1.PodTemplateSpec) *corev1.Container { return &t.Spec.Containers[0] }

func TestCompareTemplate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*corev1.PodTemplateSpec)
		want []Change
	}{
		{
			name: "identical templates",
			edit: func(*corev1.PodTemplateSpec) {},
			want: []Change{},
		},
		{
			name: "env added, removed and changed",
			edit: func(t *corev1.PodTemplateSpec) {
				app(t).Env = []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "debug"}, {Name: "FEATURE_X", Value: ""}}
			},
			want: []Change{
				{Field: "env FEATURE_X (app)", To: `""`, Kind: KindAdded},
				{Field: "env LOG_LEVEL (app)", From: "info", To: "debug", Kind: KindChanged},
				{Field: "env WORKERS (app)", From: "4", Kind: KindRemoved},
			},
		},
		{
			name: "secret-looking values are masked",
			edit: func(t *corev1.PodTemplateSpec) {
				app(t).Env = append(app(t).Env,
					corev1.EnvVar{Name: "DATABASE_PASSWORD", Value: "hunter2"},
					corev1.EnvVar{Name: "SENTRY_DSN", Value: "https://abc@o1.ingest.sentry.io/1"},
					corev1.EnvVar{Name: "DATABASE_URL", Value: "postgres://orders:s3cret@db:5432/orders"},
					corev1.EnvVar{Name: "STRIPE_KEY", Value: "sk_live_x"},
					corev1.EnvVar{Name: "REDIS_URL", Value: "redis://redis:6379/0"},
				)
			},
			want: []Change{
				{Field: "env DATABASE_PASSWORD (app)", To: masked, Kind: KindAdded},
				{Field: "env DATABASE_URL (app)", To: masked, Kind: KindAdded},
				{Field: "env REDIS_URL (app)", To: "redis://redis:6379/0", Kind: KindAdded},
				{Field: "env SENTRY_DSN (app)", To: masked, Kind: KindAdded},
				{Field: "env STRIPE_KEY (app)", To: masked, Kind: KindAdded},
			},
		},
		{
			name: "valueFrom is shown as its source",
			edit: func(t *corev1.PodTemplateSpec) {
				app(t).Env = append(app(t).Env,
					corev1.EnvVar{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "orders-db"}, Key: "password"}}},
					corev1.EnvVar{Name: "FLAGS", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "orders"}, Key: "flags"}}},
					corev1.EnvVar{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				)
				app(t).Env[0] = corev1.EnvVar{Name: "LOG_LEVEL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "orders"}, Key: "log-level"}}}
			},
			want: []Change{
				{Field: "env DB_PASSWORD (app)", To: "secret orders-db/password", Kind: KindAdded},
				{Field: "env FLAGS (app)", To: "configmap orders/flags", Kind: KindAdded},
				{Field: "env LOG_LEVEL (app)", From: "info", To: "configmap orders/log-level", Kind: KindChanged},
				{Field: "env POD_NAME (app)", To: "field metadata.name", Kind: KindAdded},
			},
		},
		{
			name: "resources compare by value",
			edit: func(t *corev1.PodTemplateSpec) {
				app(t).Resources = corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.25"), corev1.ResourceMemory: resource.MustParse("512Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
				}
			},
			want: []Change{
				{Field: "requests.memory (app)", From: "256Mi", To: "512Mi", Kind: KindChanged},
				{Field: "limits.cpu (app)", To: "1", Kind: KindAdded},
				{Field: "limits.memory (app)", From: "512Mi", Kind: KindRemoved},
			},
		},
		{
			name: "probes",
			edit: func(t *corev1.PodTemplateSpec) {
				app(t).ReadinessProbe.PeriodSeconds = 5
				app(t).LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}}}
				app(t).StartupProbe = &corev1.Probe{
					ProbeHandler:        corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"python", "-c", "import orders"}}},
					InitialDelaySeconds: 5, FailureThreshold: 30,
				}
			},
			want: []Change{
				{Field: "liveness probe (app)", To: "tcp :http every 10s timeout 1s fail 3", Kind: KindAdded},
				{Field: "readiness probe (app)", From: "http GET :8080/healthz every 10s timeout 1s fail 3", To: "http GET :8080/healthz every 5s timeout 1s fail 3", Kind: KindChanged},
				{Field: "startup probe (app)", To: `exec python -c "import orders" every 10s timeout 1s fail 30 delay 5s`, Kind: KindAdded},
			},
		},
		{
			name: "command and args",
			edit: func(t *corev1.PodTemplateSpec) {
				app(t).Command = []string{"uvicorn"}
				app(t).Args = []string{"orders.asgi:app", "--log-config", "/etc/log conf.yaml", "--db-password=hunter2"}
			},
			want: []Change{
				{Field: "command (app)", From: "gunicorn", To: "uvicorn", Kind: KindChanged},
				{Field: "args (app)", From: "orders.wsgi --workers 4", To: `orders.asgi:app --log-config "/etc/log conf.yaml" --db-password=••••`, Kind: KindChanged},
			},
		},
		{
			name: "container added",
			edit: func(t *corev1.PodTemplateSpec) {
				t.Spec.Containers = append(t.Spec.Containers, corev1.Container{Name: "celery", Image: "ghcr.io/acme/orders:1.7.3"})
				t.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "ghcr.io/acme/orders:1.7.3"}}
			},
			want: []Change{
				{Field: "container (celery)", To: "ghcr.io/acme/orders:1.7.3", Kind: KindAdded},
				{Field: "init container (migrate)", To: "ghcr.io/acme/orders:1.7.3", Kind: KindAdded},
			},
		},
		{
			name: "container removed",
			edit: func(t *corev1.PodTemplateSpec) { t.Spec.Containers = nil },
			want: []Change{{Field: "container (app)", From: "ghcr.io/acme/orders:1.7.3", Kind: KindRemoved}},
		},
		{
			name: "metadata: noise and build keys ignored, others shown",
			edit: func(t *corev1.PodTemplateSpec) {
				t.Labels["pod-template-hash"] = "5f6c8d7b9"
				t.Labels["team"] = "payments"
				t.Annotations["kubectl.kubernetes.io/restartedAt"] = "2026-05-01T10:00:00Z"
				t.Annotations["deployment.kubernetes.io/revision"] = "7"
				t.Annotations["pyroll.dev/last-action"] = "promote"
				t.Annotations["sandbox.pyroll.dev/image-digest"] = digestB
				t.Annotations[keyVersion] = "1.8.0"
				t.Annotations["prometheus.io/scrape"] = "true"
			},
			want: []Change{
				{Field: "label team", To: "payments", Kind: KindAdded},
				{Field: "annotation prometheus.io/scrape", To: "true", Kind: KindAdded},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(ordersTemplate(), ordersTemplate(tt.edit), nil, nil)
			if !reflect.DeepEqual(got.Template, tt.want) {
				t.Errorf("Template changes\n got %s\nwant %s", asJSON(got.Template), asJSON(tt.want))
			}
		})
	}
}

func TestCompareInitContainerImage(t *testing.T) {
	withMigrate := func(image string) func(*corev1.PodTemplateSpec) {
		return func(t *corev1.PodTemplateSpec) {
			t.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: image}}
		}
	}
	got := Compare(ordersTemplate(withMigrate("orders:1.7.3")), ordersTemplate(withMigrate("orders:1.8.0")), nil, nil)
	want := []Change{{Field: "image (migrate)", From: "orders:1.7.3", To: "orders:1.8.0", Kind: KindChanged}}
	if !reflect.DeepEqual(got.Template, want) {
		t.Errorf("Template changes\n got %s\nwant %s", asJSON(got.Template), asJSON(want))
	}
}

func TestCompareBuild(t *testing.T) {
	newBuild := func(t *corev1.PodTemplateSpec) {
		t.Annotations[keyRevision] = shaB
		t.Annotations[keyVersion] = "1.8.0"
		t.Annotations[keyLockHash] = "sha256:2222"
		t.Annotations[keyPipelineRun] = "https://ci.acme.dev/runs/43"
		app(t).Image = "ghcr.io/acme/orders:1.8.0"
	}
	fromRunning := []RunningImage{{Pod: "orders-old", Container: "app", ImageID: "ghcr.io/acme/orders@" + digestA}}
	toRunning := []RunningImage{{Pod: "orders-new", Container: "app", ImageID: "ghcr.io/acme/orders@" + digestB}}
	got := Compare(ordersTemplate(), ordersTemplate(newBuild), fromRunning, toRunning)

	wantBuild := []Change{
		{Field: "git SHA", From: shaA, To: shaB, Kind: KindChanged},
		{Field: "version", From: "1.7.3", To: "1.8.0", Kind: KindChanged},
		{Field: "image (app)", From: "ghcr.io/acme/orders:1.7.3", To: "ghcr.io/acme/orders:1.8.0", Kind: KindChanged},
		{Field: "digest (app)", From: digestA, To: digestB, Kind: KindChanged},
		{Field: "lock hash", From: "sha256:1111", To: "sha256:2222", Kind: KindChanged},
		{Field: "pipeline run", To: "https://ci.acme.dev/runs/43", Kind: KindAdded},
	}
	if !reflect.DeepEqual(got.Build, wantBuild) {
		t.Errorf("Build changes\n got %s\nwant %s", asJSON(got.Build), asJSON(wantBuild))
	}
	if len(got.Template) != 0 {
		t.Errorf("Template changes = %s, want none", asJSON(got.Template))
	}
	if want := safetext.Text("https://github.com/acme/orders/compare/" + shaA + "..." + shaB); got.CompareURL != want {
		t.Errorf("CompareURL = %q, want %q", got.CompareURL, want)
	}
	if got.From.GitSHA != shaA || got.To.GitSHA != shaB {
		t.Errorf("From/To provenance not filled: %q, %q", got.From.GitSHA, got.To.GitSHA)
	}
}

func TestCompareSameTagMovedDigest(t *testing.T) {
	fromRunning := []RunningImage{{Pod: "a", Container: "app", ImageID: digestA}}
	toRunning := []RunningImage{{Pod: "b", Container: "app", ImageID: digestB}}
	got := Compare(ordersTemplate(), ordersTemplate(), fromRunning, toRunning)
	want := []Change{{Field: "digest (app)", From: digestA, To: digestB, Kind: KindChanged}}
	if !reflect.DeepEqual(got.Build, want) {
		t.Errorf("Build changes\n got %s\nwant %s", asJSON(got.Build), asJSON(want))
	}
}

func TestCompareRevisionWithoutPodsHasNoDigestChange(t *testing.T) {
	toRunning := []RunningImage{{Pod: "b", Container: "app", ImageID: digestB}}
	got := Compare(ordersTemplate(), ordersTemplate(), nil, toRunning)
	if len(got.Build) != 0 {
		t.Errorf("Build changes = %s, want none", asJSON(got.Build))
	}
}

func TestCompareIdenticalIsEmpty(t *testing.T) {
	running := []RunningImage{{Pod: "a", Container: "app", ImageID: digestA}}
	got := Compare(ordersTemplate(), ordersTemplate(), running, running)
	if len(got.Build) != 0 || len(got.Template) != 0 || got.CompareURL != "" {
		t.Errorf("Compare of identical templates = %s, want an empty diff", asJSON(got))
	}
	// Empty lists, not null, so JSON consumers can iterate without checks.
	var decoded map[string]any
	if err := json.Unmarshal([]byte(asJSON(got)), &decoded); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"build", "template"} {
		if list, ok := decoded[key].([]any); !ok || len(list) != 0 {
			t.Errorf("JSON %q = %v, want []", key, decoded[key])
		}
	}
}

func TestCompareNilTemplates(t *testing.T) {
	if got := Compare(nil, nil, nil, nil); len(got.Build) != 0 || len(got.Template) != 0 {
		t.Errorf("Compare(nil, nil) = %s, want an empty diff", asJSON(got))
	}
	got := Compare(nil, ordersTemplate(), nil, nil)
	if len(got.Build) == 0 || got.Build[0] != (Change{Field: "git SHA", To: shaA, Kind: KindAdded}) {
		t.Errorf("Compare(nil, t).Build = %s, want everything added", asJSON(got.Build))
	}
	if want := (Change{Field: "container (app)", To: "ghcr.io/acme/orders:1.7.3", Kind: KindAdded}); !containsChange(got.Template, want) {
		t.Errorf("Compare(nil, t).Template = %s, want %v", asJSON(got.Template), want)
	}
	got = Compare(ordersTemplate(), nil, nil, nil)
	if want := (Change{Field: "container (app)", From: "ghcr.io/acme/orders:1.7.3", Kind: KindRemoved}); !containsChange(got.Template, want) {
		t.Errorf("Compare(t, nil).Template = %s, want %v", asJSON(got.Template), want)
	}
}

func TestCompareOrderIsDeterministic(t *testing.T) {
	twoContainers := func(t *corev1.PodTemplateSpec) {
		t.Spec.Containers = append(t.Spec.Containers, corev1.Container{Name: "celery", Image: "orders:1", Env: []corev1.EnvVar{{Name: "B", Value: "1"}, {Name: "A", Value: "1"}}})
	}
	changed := func(t *corev1.PodTemplateSpec) {
		twoContainers(t)
		t.Spec.Containers[0], t.Spec.Containers[1] = t.Spec.Containers[1], t.Spec.Containers[0]
		t.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "B", Value: "2"}, {Name: "A", Value: "2"}}
		t.Spec.Containers[1].Env = nil
		t.Labels["z"], t.Labels["y"] = "1", "1"
	}
	got := Compare(ordersTemplate(twoContainers), ordersTemplate(changed), nil, nil).Template
	var fields []safetext.Text
	for _, c := range got {
		fields = append(fields, c.Field)
	}
	want := []safetext.Text{"label y", "label z", "env LOG_LEVEL (app)", "env WORKERS (app)", "env A (celery)", "env B (celery)"}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("fields = %q, want %q", fields, want)
	}
}

func containsChange(changes []Change, want Change) bool {
	for _, c := range changes {
		if c == want {
			return true
		}
	}
	return false
}

func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"gunicorn", "orders.wsgi"}, "gunicorn orders.wsgi"},
		{[]string{"sh", "-c", "alembic upgrade head"}, `sh -c "alembic upgrade head"`},
		{[]string{"--name", ""}, `--name ""`},
		{[]string{`\d+`}, `\d+`},
		{[]string{"--token", "abc", "--verbose"}, "--token •••• --verbose"},
		{[]string{"--api-key=abc"}, "--api-key=••••"},
		{[]string{"--db", "postgres://u:p@db/orders"}, "--db ••••"},
		{[]string{"--log-level=info"}, "--log-level=info"},
		{[]string{"\x1b[2J"}, `"\x1b[2J"`},
	}
	for _, tt := range tests {
		if got := commandLine(tt.args); got != tt.want {
			t.Errorf("commandLine(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
