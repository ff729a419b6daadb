package provenance

import (
	"github.com/pyroll/kubectl-pyroll/internal/safetext"

	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	shaA    = "0123456789abcdef0123456789abcdef01234567"
	shaB    = "89abcdef0123456789abcdef0123456789abcdef"
	digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func podTemplate(annotations, labels map[string]string, containers ...corev1.Container) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Annotations: annotations, Labels: labels},
		Spec:       corev1.PodSpec{Containers: containers},
	}
}

func appContainer(image string) corev1.Container {
	return corev1.Container{Name: "app", Image: image}
}

func TestFromTemplate(t *testing.T) {
	const tag = "ghcr.io/acme/orders:1.8.0"
	tests := []struct {
		name     string
		template *corev1.PodTemplateSpec
		running  []RunningImage
		want     Provenance
	}{
		{
			name: "all keys from annotations",
			template: podTemplate(map[string]string{
				keyRevision:    shaA,
				keySource:      "https://github.com/acme/orders",
				keyVersion:     "1.8.0",
				keyCreated:     "2026-05-01T10:00:00Z",
				keyLockHash:    "sha256:1234",
				keyPython:      "3.12.7",
				keyPipelineRun: "https://ci.acme.dev/runs/42",
			}, nil, appContainer(tag)),
			running: []RunningImage{{Pod: "orders-1", Container: "app", ImageID: "docker-pullable://ghcr.io/acme/orders@" + digestA}},
			want: Provenance{
				GitSHA: shaA, Source: "https://github.com/acme/orders", Version: "1.8.0",
				Created: "2026-05-01T10:00:00Z", LockHash: "sha256:1234", Python: "3.12.7",
				PipelineRun: "https://ci.acme.dev/runs/42",
				Images:      []Image{{Container: "app", Ref: tag, Digests: []string{digestA}}},
			},
		},
		{
			name: "annotations win over labels, labels fill the gaps",
			template: podTemplate(
				map[string]string{keyRevision: shaA, keyPython: "  "},
				map[string]string{keyRevision: shaB, keyPython: "3.11", keyLockHash: "abc"},
			),
			want: Provenance{GitSHA: shaA, Python: "3.11", LockHash: "abc"},
		},
		{
			name:     "OCI version wins over app.kubernetes.io/version even from a label",
			template: podTemplate(map[string]string{keyAppVersion: "1.0"}, map[string]string{keyVersion: "2.0"}),
			want:     Provenance{Version: "2.0"},
		},
		{
			name:     "app.kubernetes.io/version when there is no OCI version",
			template: podTemplate(nil, map[string]string{keyAppVersion: "1.0"}),
			want:     Provenance{Version: "1.0"},
		},
		{
			name:     "moved tag: two pods on two digests",
			template: podTemplate(nil, nil, appContainer(tag)),
			running: []RunningImage{
				{Pod: "orders-2", Container: "app", ImageID: "ghcr.io/acme/orders@" + digestB},
				{Pod: "orders-1", Container: "app", ImageID: "docker-pullable://ghcr.io/acme/orders@" + digestA},
				{Pod: "orders-3", Container: "app", ImageID: digestA},
			},
			want: Provenance{
				Images:   []Image{{Container: "app", Ref: tag, Digests: []string{digestA, digestB}}},
				Warnings: []safetext.Text{"tag " + tag + " runs two digests (sha256:aaaaaaaaaaaa…, sha256:bbbbbbbbbbbb…): the tag moved; not reproducible"},
			},
		},
		{
			name:     "pinned digest never warns about a moved tag",
			template: podTemplate(nil, nil, appContainer("ghcr.io/acme/orders@"+digestA)),
			running: []RunningImage{
				{Pod: "orders-1", Container: "app", ImageID: digestA},
				{Pod: "orders-2", Container: "app", ImageID: digestB},
			},
			want: Provenance{Images: []Image{{Container: "app", Ref: "ghcr.io/acme/orders@" + digestA, Digests: []string{digestA, digestB}}}},
		},
		{
			name:     "garbage image IDs warn once per pod; blank IDs are containers still starting",
			template: podTemplate(nil, nil, appContainer(tag), corev1.Container{Name: "sidecar", Image: "envoy:1"}),
			running: []RunningImage{
				{Pod: "orders-1", Container: "app", ImageID: "sha256:short"},
				{Pod: "orders-1", Container: "sidecar", ImageID: "docker://garbage"},
				{Pod: "orders-2", Container: "app", ImageID: "sha256:" + strings.Repeat("A", 64)},
				{Pod: "orders-3", Container: "app", ImageID: ""},
				{Pod: "orders-4", Container: "app", ImageID: "ghcr.io/acme/orders@" + digestA},
			},
			want: Provenance{
				Images: []Image{{Container: "app", Ref: tag, Digests: []string{digestA}}, {Container: "sidecar", Ref: "envoy:1"}},
				Warnings: []safetext.Text{
					"pod orders-1 reports an unreadable image ID",
					"pod orders-2 reports an unreadable image ID",
				},
			},
		},
		{
			name:     "running images of containers not in the template are ignored",
			template: podTemplate(nil, nil, appContainer(tag)),
			running:  []RunningImage{{Pod: "orders-1", Container: "istio-proxy", ImageID: digestB}},
			want:     Provenance{Images: []Image{{Container: "app", Ref: tag}}},
		},
		{
			name:     "missing everything is the zero value",
			template: &corev1.PodTemplateSpec{},
			running:  []RunningImage{{Pod: "p", Container: "app", ImageID: "junk"}},
			want:     Provenance{},
		},
		{
			name:     "nil template is the zero value",
			template: nil,
			want:     Provenance{},
		},
		{
			name: "values are escaped visibly for a terminal",
			template: podTemplate(map[string]string{
				keyVersion:  "\x1b[31m1.8.0\x1b[0m",
				keyPython:   "3.12\x00\x07\x7f",
				keyLockHash: "ab\xffcd",
				keyCreated:  "line one\r\nline two\nthree",
				keyRevision: "\x1b]0;pwned\x07" + shaA,
				keySource:   "https://github.com/acme/\u202eorders",
			}, nil),
			want: Provenance{
				Version: `\x1b[31m1.8.0\x1b[0m`, Python: `3.12\x00\x07\x7f`, LockHash: `ab\xffcd`,
				Created: `line one\nline two\nthree`, GitSHA: `\x1b]0;pwned\x07` + shaA, Source: `https://github.com/acme/\u202eorders`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromTemplate(tt.template, tt.running)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromTemplate()\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestFromTemplateClipsHugeValues(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	template := podTemplate(map[string]string{
		keyVersion:     huge,
		keyPipelineRun: "https://ci.acme.dev/" + huge,
	}, nil, appContainer("ghcr.io/acme/"+huge))
	got := FromTemplate(template, nil)
	checks := []struct {
		field string
		value safetext.Text
		limit int
	}{
		{"Version", got.Version, valueLimit},
		{"PipelineRun", got.PipelineRun, urlLimit},
		{"Images[0].Ref", got.Images[0].Ref, urlLimit},
	}
	for _, c := range checks {
		if n := utf8.RuneCountInString(string(c.value)); n != c.limit {
			t.Errorf("%s has %d runes, want %d", c.field, n, c.limit)
		}
		if !strings.HasSuffix(string(c.value), "…") {
			t.Errorf("%s = %q…, want a trailing ellipsis", c.field, c.value[:20])
		}
	}
}

func TestFromTemplateManyUnreadablePods(t *testing.T) {
	var running []RunningImage
	for _, pod := range []string{"p1", "p2", "p3", "p4", "p5", "p6"} {
		running = append(running, RunningImage{Pod: pod, Container: "app", ImageID: "junk"})
	}
	got := FromTemplate(podTemplate(nil, nil, appContainer("img:1")), running)
	want := []safetext.Text{
		"pod p1 reports an unreadable image ID",
		"pod p2 reports an unreadable image ID",
		"pod p3 reports an unreadable image ID",
		"3 more pods report an unreadable image ID",
	}
	if !reflect.DeepEqual(got.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", got.Warnings, want)
	}
}

func TestShortSHA(t *testing.T) {
	tests := []struct {
		sha, want safetext.Text
	}{
		{shaA, "0123456"},
		{"ABCDEF0123", "ABCDEF0"},
		{"abc", "abc"},
		{"", ""},
		{"release-2026-05-01-build-77", "release-202…"},
		{"v1.8.0", "v1.8.0"},
	}
	for _, tt := range tests {
		if got := (Provenance{GitSHA: tt.sha}).ShortSHA(); got != tt.want {
			t.Errorf("ShortSHA(%q) = %q, want %q", tt.sha, got, tt.want)
		}
	}
}

func TestDigest(t *testing.T) {
	tests := []struct {
		name   string
		images []Image
		want   string
	}{
		{"no images", nil, ""},
		{"no running pods", []Image{{Container: "app"}}, ""},
		{"one digest", []Image{{Container: "app", Digests: []string{digestA}}}, digestA},
		{"two digests", []Image{{Container: "app", Digests: []string{digestA, digestB}}}, ""},
		{"first container only", []Image{{Container: "app"}, {Container: "side", Digests: []string{digestB}}}, ""},
	}
	for _, tt := range tests {
		if got := (Provenance{Images: tt.images}).Digest(); got != tt.want {
			t.Errorf("%s: Digest() = %q, want %q", tt.name, got, tt.want)
		}
	}
}
