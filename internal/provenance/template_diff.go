package provenance

import (
	"cmp"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Sections order the changes within one container, most telling first.
const (
	sectionLabel = iota
	sectionAnnotation
	sectionContainer
	sectionImage
	sectionCommand
	sectionArgs
	sectionEnv
	sectionEnvFrom
	sectionResources
	sectionProbes
)

// sortableChange carries the sort key of a template change: pod metadata
// (container "") first, then by container, section and name.
type sortableChange struct {
	container string
	section   int
	key       string
	Change
}

// ignoredMetadataDomains hold what pyroll records itself (already in Build or
// about the rollout, not the build) and what Kubernetes tooling stamps, such as
// kubectl's restartedAt: differences there are noise in a diff of two builds.
var ignoredMetadataDomains = []string{"pyroll.dev", "kubectl.kubernetes.io", "deployment.kubernetes.io"}

func templateChanges(from, to *corev1.PodTemplateSpec) []Change {
	var a, b corev1.PodTemplateSpec
	if from != nil {
		a = *from
	}
	if to != nil {
		b = *to
	}
	var changes []sortableChange
	changes = append(changes, metadataChanges("label", sectionLabel, a.Labels, b.Labels)...)
	changes = append(changes, metadataChanges("annotation", sectionAnnotation, a.Annotations, b.Annotations)...)
	fromContainers, toContainers := containersByName(a.Spec), containersByName(b.Spec)
	for _, name := range unionKeys(fromContainers, toContainers) {
		changes = append(changes, containerChanges(name, fromContainers[name], toContainers[name])...)
	}
	slices.SortStableFunc(changes, func(x, y sortableChange) int {
		return cmp.Or(
			cmp.Compare(x.container, y.container),
			cmp.Compare(x.section, y.section),
			cmp.Compare(x.key, y.key))
	})
	out := make([]Change, len(changes))
	for i, c := range changes {
		out[i] = c.Change
	}
	return out
}

func ignoredMetadataKey(key string) bool {
	if buildKeys[key] || key == appsv1.DefaultDeploymentUniqueLabelKey {
		return true
	}
	domain, _, found := strings.Cut(key, "/")
	if !found {
		return false
	}
	for _, ignored := range ignoredMetadataDomains {
		if domain == ignored || strings.HasSuffix(domain, "."+ignored) {
			return true
		}
	}
	return false
}

func metadataChanges(kind safetext.Text, section int, from, to map[string]string) []sortableChange {
	var changes []sortableChange
	for _, key := range unionKeys(from, to) {
		if ignoredMetadataKey(key) {
			continue
		}
		a, inFrom := from[key]
		b, inTo := to[key]
		if inFrom && inTo && a == b {
			continue
		}
		changes = append(changes, sortableChange{
			section: section, key: key,
			Change: presenceChange(kind+" "+safetext.LineN(key, valueLimit), inFrom, inTo, displayValue(key, a), displayValue(key, b)),
		})
	}
	return changes
}

// presenceChange builds a change whose kind depends on whether the thing
// exists on each side, since an existing value may well be empty.
func presenceChange(field safetext.Text, inFrom, inTo bool, fromShown, toShown safetext.Text) Change {
	switch {
	case !inFrom:
		return Change{Field: field, To: toShown, Kind: KindAdded}
	case !inTo:
		return Change{Field: field, From: fromShown, Kind: KindRemoved}
	}
	return Change{Field: field, From: fromShown, To: toShown, Kind: KindChanged}
}

type podContainer struct {
	*corev1.Container
	init bool
}

// containersByName keys init and app containers together: Kubernetes forbids
// the same name in both, and a container moving between them is rare enough
// to show as its other differences.
func containersByName(spec corev1.PodSpec) map[string]podContainer {
	m := map[string]podContainer{}
	add := func(cs []corev1.Container, init bool) {
		for i := range cs {
			if _, seen := m[cs[i].Name]; !seen {
				m[cs[i].Name] = podContainer{Container: &cs[i], init: init}
			}
		}
	}
	add(spec.InitContainers, true)
	add(spec.Containers, false)
	return m
}

func containerChanges(name string, from, to podContainer) []sortableChange {
	shownName := safetext.LineN(name, valueLimit)
	var changes []sortableChange
	add := func(section int, key string, field safetext.Text, c Change) {
		c.Field = field + " (" + shownName + ")"
		changes = append(changes, sortableChange{container: name, section: section, key: key, Change: c})
	}
	if from.Container == nil || to.Container == nil {
		kind := safetext.Text("container")
		if from.init || to.init {
			kind = "init container"
		}
		var fromImage, toImage safetext.Text
		if from.Container != nil {
			fromImage = safetext.LineN(from.Image, urlLimit)
		}
		if to.Container != nil {
			toImage = safetext.LineN(to.Image, urlLimit)
		}
		add(sectionContainer, "", kind, presenceChange("", from.Container != nil, to.Container != nil, fromImage, toImage))
		return changes
	}

	// App container images are in Build with their digests; init containers
	// (migrations, for one) would otherwise go unmentioned.
	if (from.init || to.init) && from.Image != to.Image {
		c, _ := newChange("", safetext.LineN(from.Image, urlLimit), safetext.LineN(to.Image, urlLimit))
		add(sectionImage, "", "image", c)
	}
	if !slices.Equal(from.Command, to.Command) {
		c := presenceChange("", len(from.Command) > 0, len(to.Command) > 0, shownCommandLine(from.Command), shownCommandLine(to.Command))
		add(sectionCommand, "", "command", c)
	}
	if !slices.Equal(from.Args, to.Args) {
		c := presenceChange("", len(from.Args) > 0, len(to.Args) > 0, shownCommandLine(from.Args), shownCommandLine(to.Args))
		add(sectionArgs, "", "args", c)
	}
	for _, e := range envChanges(from.Env, to.Env) {
		add(sectionEnv, e.key, e.field, e.Change)
	}
	if a, b := describeEnvFrom(from.EnvFrom), describeEnvFrom(to.EnvFrom); a != b {
		add(sectionEnvFrom, "", "envFrom", presenceChange("", a != "", b != "", safetext.LineN(a, urlLimit), safetext.LineN(b, urlLimit)))
	}
	for _, r := range resourceChanges(from.Resources, to.Resources) {
		add(sectionResources, r.key, r.field, r.Change)
	}
	probes := []struct {
		kind     safetext.Text
		from, to *corev1.Probe
	}{
		{"liveness", from.LivenessProbe, to.LivenessProbe},
		{"readiness", from.ReadinessProbe, to.ReadinessProbe},
		{"startup", from.StartupProbe, to.StartupProbe},
	}
	for i, p := range probes {
		a, b := describeProbe(p.from), describeProbe(p.to)
		if a != b {
			c := presenceChange("", p.from != nil, p.to != nil, safetext.LineN(a, urlLimit), safetext.LineN(b, urlLimit))
			add(sectionProbes, string(rune('a'+i)), p.kind+" probe", c)
		}
	}
	return changes
}

func shownCommandLine(args []string) safetext.Text {
	return safetext.LineN(commandLine(args), urlLimit)
}

// envEntry keeps what a variable is (to compare) apart from what may be shown.
type envEntry struct {
	identity string
	shown    safetext.Text
}

func envEntries(env []corev1.EnvVar) map[string]envEntry {
	m := make(map[string]envEntry, len(env))
	// Later entries win, as they do in the container.
	for _, e := range env {
		if e.ValueFrom != nil {
			source := describeEnvSource(e.ValueFrom)
			m[e.Name] = envEntry{identity: "from " + source, shown: safetext.LineN(source, valueLimit)}
			continue
		}
		m[e.Name] = envEntry{identity: "value " + e.Value, shown: displayValue(e.Name, e.Value)}
	}
	return m
}

// keyedChange is a change within one section of a container: key orders it,
// field names it.
type keyedChange struct {
	key   string
	field safetext.Text
	Change
}

func envChanges(from, to []corev1.EnvVar) []keyedChange {
	a, b := envEntries(from), envEntries(to)
	var changes []keyedChange
	for _, name := range unionKeys(a, b) {
		x, inFrom := a[name]
		y, inTo := b[name]
		if inFrom && inTo && x.identity == y.identity {
			continue
		}
		changes = append(changes, keyedChange{
			key: name, field: "env " + safetext.LineN(name, valueLimit),
			Change: presenceChange("", inFrom, inTo, x.shown, y.shown),
		})
	}
	return changes
}

// resourceChanges compares quantities by value, so 1000m and 1 are the same CPU.
func resourceChanges(from, to corev1.ResourceRequirements) []keyedChange {
	var changes []keyedChange
	for i, list := range []struct {
		kind     safetext.Text
		from, to corev1.ResourceList
	}{{"requests", from.Requests, to.Requests}, {"limits", from.Limits, to.Limits}} {
		a, b := quantities(list.from), quantities(list.to)
		for _, name := range unionKeys(a, b) {
			x, inFrom := a[name]
			y, inTo := b[name]
			if inFrom && inTo && x.Cmp(y) == 0 {
				continue
			}
			changes = append(changes, keyedChange{
				key: string(rune('0'+i)) + name, field: list.kind + "." + safetext.LineN(name, valueLimit),
				Change: presenceChange("", inFrom, inTo, safetext.Line(x.String()), safetext.Line(y.String())),
			})
		}
	}
	return changes
}

func quantities(list corev1.ResourceList) map[string]resource.Quantity {
	m := make(map[string]resource.Quantity, len(list))
	for name, q := range list {
		m[string(name)] = q
	}
	return m
}
