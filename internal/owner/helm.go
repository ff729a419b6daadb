package owner

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Helm's Secret storage driver (helm.sh/helm pkg/storage/driver secrets.go): one Secret
// per release revision, named sh.helm.release.v1.<name>.v<version>, of type
// helm.sh/release.v1, labelled owner=helm, name, status, version, its data.release the
// base64 of the gzip of the release's JSON (util.go encodeRelease). The API serves a
// Secret's data base64 again: a corev1.Secret's Data holds Helm's base64 text.
const (
	HelmSecretType  = "helm.sh/release.v1"
	HelmSecretKey   = "release"
	HelmOwnerLabel  = "owner"
	HelmNameLabel   = "name"
	HelmStatusLabel = "status"
	// HelmDeployed is the status of the release in force.
	HelmDeployed = "deployed"
)

// HelmReleaseSelector selects the deployed release Secret of release name.
func HelmReleaseSelector(name string) string {
	return HelmOwnerLabel + "=helm," + HelmNameLabel + "=" + name + "," + HelmStatusLabel + "=" + HelmDeployed
}

// helmRelease is the part of Helm's release JSON (pkg/release Release) we read.
type helmRelease struct {
	Name string `json:"name"`
	Info *struct {
		Status string `json:"status,omitempty"`
	} `json:"info,omitempty"`
	Chart *struct {
		Metadata *struct {
			Name       string `json:"name"`
			Version    string `json:"version"`
			AppVersion string `json:"appVersion,omitempty"`
		} `json:"metadata,omitempty"`
	} `json:"chart,omitempty"`
	Manifest  string `json:"manifest,omitempty"`
	Version   int    `json:"version,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// DecodeRelease reads a Helm release Secret as Helm's decodeRelease does: base64, then
// gunzip when the gzip magic is there (releases stored before compression are plain
// JSON), then JSON.
func DecodeRelease(secret *corev1.Secret) (*Release, error) {
	if secret.Type != "" && secret.Type != HelmSecretType {
		return nil, fmt.Errorf("secret %s is of type %s, not %s", secret.Name, secret.Type, HelmSecretType)
	}
	data, ok := secret.Data[HelmSecretKey]
	if !ok {
		return nil, fmt.Errorf("secret %s has no data.%s", secret.Name, HelmSecretKey)
	}
	raw, err := base64.StdEncoding.DecodeString(string(data))
	if err != nil {
		return nil, fmt.Errorf("secret %s: release is not base64: %w", secret.Name, err)
	}
	if bytes.HasPrefix(raw, gzipMagic) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", secret.Name, err)
		}
		// A release holds its chart's templates and values: a few MB at most; the limit
		// keeps a hostile Secret from filling memory.
		raw, err = io.ReadAll(io.LimitReader(zr, maxRelease+1))
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", secret.Name, err)
		}
		if len(raw) > maxRelease {
			return nil, fmt.Errorf("secret %s: release larger than %d MB", secret.Name, maxRelease>>20)
		}
	}
	var rel helmRelease
	if err := json.Unmarshal(raw, &rel); err != nil {
		return nil, fmt.Errorf("secret %s: release JSON: %w", secret.Name, err)
	}
	out := &Release{Name: rel.Name, Namespace: rel.Namespace, Revision: rel.Version, Manifest: rel.Manifest}
	if rel.Info != nil {
		out.Status = rel.Info.Status
	}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		out.Chart, out.ChartVersion, out.AppVersion = rel.Chart.Metadata.Name, rel.Chart.Metadata.Version, rel.Chart.Metadata.AppVersion
	}
	if out.Namespace == "" {
		out.Namespace = secret.Namespace
	}
	return out, nil
}

const maxRelease = 64 << 20

// DeployedRelease picks the release in force among release Secrets (a list by
// HelmReleaseSelector): status=deployed, the highest version if several claim it (Helm
// itself keeps one, but a failed upgrade may leave two). nil when none.
func DeployedRelease(secrets []corev1.Secret) *corev1.Secret {
	var best *corev1.Secret
	bestVersion := -1
	for i := range secrets {
		s := &secrets[i]
		if s.Labels[HelmStatusLabel] != HelmDeployed {
			continue
		}
		version, _ := strconv.Atoi(s.Labels["version"])
		if version > bestVersion {
			best, bestVersion = s, version
		}
	}
	return best
}

// FromRelease is the view of a Helm release: its deployed Secret, decoded, and the live
// rollout object it is compared with (its pod template and managed fields).
func FromRelease(d Detection, secret *corev1.Secret, kind, name string, live *corev1.PodTemplateSpec, managed []metav1.ManagedFieldsEntry) View {
	v := UnreadView(d, Read, "")
	v.ServerSideApply = HelmAppliesServerSide(managed)
	if secret == nil {
		v.Access = Absent
		return v
	}
	v.ResourceVersion = secret.ResourceVersion
	rel, err := DecodeRelease(secret)
	if err != nil {
		v.Access, v.Problem = Unreadable, safetext.Line(err.Error())
		return v
	}
	return WithRelease(v, rel, kind, name, live)
}

// WithRelease completes a Helm view with a decoded release (internal/kube caches the
// decoded release by the Secret's resourceVersion and calls this on every read).
func WithRelease(v View, rel *Release, kind, name string, live *corev1.PodTemplateSpec) View {
	v.Release = rel
	v.Revision = safetext.Line(rel.ChartVersion)
	if live != nil {
		v.Drift = ReleaseDrift(rel.Manifest, kind, name, live)
	}
	return v
}

// HelmAppliesServerSide reads the live object's managed fields: an Apply entry of a
// manager named helm (Helm 4 applies server-side) is Yes, an Update entry of helm only
// (Helm 3's three-way merge) is No, neither is Unknown.
func HelmAppliesServerSide(managed []metav1.ManagedFieldsEntry) State {
	s := Unknown
	for _, m := range managed {
		if !strings.HasPrefix(m.Manager, "helm") || m.Subresource != "" {
			continue
		}
		if m.Operation == metav1.ManagedFieldsOperationApply {
			return Yes
		}
		s = No
	}
	return s
}

// Drift is the first difference between what a release applied and the live template.
type Drift struct {
	Container string // the container's name
	Field     string // image, command, args, env NAME, container
	Release   safetext.Text
	Live      safetext.Text
}

// Text is "container app image: orders:2.1.0 in the release, orders:2.0.0 live".
func (d *Drift) Text() safetext.Text {
	return safetext.Sprintf("container %s %s: %s in the release, %s live", d.Container, d.Field, d.Release, d.Live)
}

// manifestObject is the part of a manifest document compared: a workload's pod template.
type manifestObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Template *corev1.PodTemplateSpec `json:"template,omitempty"`
	} `json:"spec"`
}

// ReleaseDrift compares the object of that kind and name in a release's manifest with
// the live pod template: for each container of the manifest (init containers first)
// present in the live template, its image, command, args and env, in that order; the
// first difference, or nil. A manifest without that object compares nothing (nil).
func ReleaseDrift(manifest, kind, name string, live *corev1.PodTemplateSpec) *Drift {
	tmpl := findTemplate(manifest, kind, name)
	if tmpl == nil {
		return nil
	}
	liveByName := map[string]*corev1.Container{}
	for _, list := range [][]corev1.Container{live.Spec.InitContainers, live.Spec.Containers} {
		for i := range list {
			liveByName[list[i].Name] = &list[i]
		}
	}
	for _, list := range [][]corev1.Container{tmpl.Spec.InitContainers, tmpl.Spec.Containers} {
		for i := range list {
			want := &list[i]
			got, ok := liveByName[want.Name]
			if !ok {
				continue
			}
			if d := containerDrift(want, got); d != nil {
				return d
			}
		}
	}
	return nil
}

func findTemplate(manifest, kind, name string) *corev1.PodTemplateSpec {
	for _, doc := range splitDocuments(manifest) {
		var obj manifestObject
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			continue // another document may still be ours; Helm validated what it applied
		}
		if obj.Kind == kind && obj.Metadata.Name == name && obj.Spec.Template != nil {
			return obj.Spec.Template
		}
	}
	return nil
}

// splitDocuments splits a multi-document YAML stream on its "---" lines.
func splitDocuments(s string) []string {
	var docs []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if t := strings.TrimRight(line, " \t\r\n"); t == "---" || strings.HasPrefix(t, "--- ") {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return append(docs, cur.String())
}

func containerDrift(want, got *corev1.Container) *Drift {
	diff := func(field string, w, g any) *Drift {
		return &Drift{Container: want.Name, Field: field, Release: show(w), Live: show(g)}
	}
	if want.Image != got.Image {
		return diff("image", want.Image, got.Image)
	}
	if !equalStrings(want.Command, got.Command) {
		return diff("command", want.Command, got.Command)
	}
	if !equalStrings(want.Args, got.Args) {
		return diff("args", want.Args, got.Args)
	}
	gotEnv := map[string]corev1.EnvVar{}
	for _, e := range got.Env {
		gotEnv[e.Name] = e
	}
	for _, w := range want.Env {
		g, ok := gotEnv[w.Name]
		if !ok {
			return diff("env "+w.Name, envValue(w), "(unset)")
		}
		if envValue(w) != envValue(g) {
			return diff("env "+w.Name, envValue(w), envValue(g))
		}
		delete(gotEnv, w.Name)
	}
	for _, g := range got.Env { // in the live order
		if _, extra := gotEnv[g.Name]; extra {
			return diff("env "+g.Name, "(unset)", envValue(g))
		}
	}
	return nil
}

// envValue is an env var's value as compared and shown: its value, or its source as
// JSON with the API server's default (fieldRef apiVersion v1) filled in.
func envValue(e corev1.EnvVar) string {
	if e.ValueFrom == nil {
		return e.Value
	}
	from := e.ValueFrom.DeepCopy()
	if from.FieldRef != nil && from.FieldRef.APIVersion == "" {
		from.FieldRef.APIVersion = "v1"
	}
	b, err := json.Marshal(from)
	if err != nil {
		return "(valueFrom)"
	}
	return "valueFrom " + string(b)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// show makes a compared value one short line: a string as it is ("" as (empty)), a
// list as JSON.
func show(v any) safetext.Text {
	switch x := v.(type) {
	case string:
		if x == "" {
			return "(empty)"
		}
		return safetext.LineN(x, 120)
	case []string:
		if len(x) == 0 {
			return "(none)"
		}
		b, _ := json.Marshal(x)
		return safetext.LineN(string(b), 120)
	}
	return safetext.LineN(fmt.Sprint(v), 120)
}
