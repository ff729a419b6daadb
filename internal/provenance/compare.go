package provenance

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Change kinds.
const (
	KindChanged = "changed"
	KindAdded   = "added"
	KindRemoved = "removed"
)

// Change is one difference between two revisions, e.g.
// {Field: "image (app)", From: "ghcr.io/acme/orders:1.7.3", To: "ghcr.io/acme/orders:1.8.0"}.
type Change struct {
	Field safetext.Text `json:"field"`
	From  safetext.Text `json:"from"`
	To    safetext.Text `json:"to"`
	Kind  string        `json:"kind"` // KindChanged, KindAdded or KindRemoved
}

// Diff is what changed between two revisions of a Deployment.
type Diff struct {
	From       Provenance    `json:"from"`
	To         Provenance    `json:"to"`
	CompareURL safetext.Text `json:"compareURL,omitempty"`
	// Build lists the build metadata and images that differ.
	Build []Change `json:"build"`
	// Template lists what else in the pod template differs: metadata, containers,
	// env, resources, probes, command and args. Replicas are not part of a
	// revision, so they never appear.
	Template []Change `json:"template"`
}

// Compare diffs the revision with pod template from against the one with to,
// each with what its pods report. A nil template compares as an empty one.
func Compare(from, to *corev1.PodTemplateSpec, fromRunning, toRunning []RunningImage) Diff {
	d := Diff{
		From: FromTemplate(from, fromRunning),
		To:   FromTemplate(to, toRunning),
	}
	d.CompareURL = compareLink(d.From, d.To)
	d.Build = buildChanges(d.From, d.To)
	d.Template = templateChanges(from, to)
	return d
}

func compareLink(from, to Provenance) safetext.Text {
	if from.GitSHA == to.GitSHA {
		return ""
	}
	// The newer revision knows best where the code lives now.
	source := to.Source
	if source == "" {
		source = from.Source
	}
	// Built from parts of the already safe source and SHAs; Line keeps it one.
	return safetext.LineN(CompareURL(string(source), string(from.GitSHA), string(to.GitSHA)), urlLimit)
}

func buildChanges(from, to Provenance) []Change {
	changes := []Change{}
	add := func(field, a, b safetext.Text) {
		if c, ok := newChange(field, a, b); ok {
			changes = append(changes, c)
		}
	}
	add("git SHA", from.GitSHA, to.GitSHA)
	add("version", from.Version, to.Version)

	fromImages, toImages := imagesByContainer(from.Images), imagesByContainer(to.Images)
	for _, name := range unionKeys(fromImages, toImages) {
		a, b := fromImages[name], toImages[name]
		add("image ("+name+")", a.Ref, b.Ref)
		// A revision with no pods left has no digest to compare; that is not
		// a change of digest.
		if len(a.Digests) > 0 && len(b.Digests) > 0 {
			add("digest ("+name+")", joinDigests(a.Digests), joinDigests(b.Digests))
		}
	}

	add("lock hash", from.LockHash, to.LockHash)
	add("Python", from.Python, to.Python)
	add("pipeline run", from.PipelineRun, to.PipelineRun)
	add("created", from.Created, to.Created)
	return changes
}

func newChange(field, from, to safetext.Text) (Change, bool) {
	switch {
	case from == to:
		return Change{}, false
	case from == "":
		return Change{Field: field, From: from, To: to, Kind: KindAdded}, true
	case to == "":
		return Change{Field: field, From: from, To: to, Kind: KindRemoved}, true
	}
	return Change{Field: field, From: from, To: to, Kind: KindChanged}, true
}

func imagesByContainer(images []Image) map[safetext.Text]Image {
	m := make(map[safetext.Text]Image, len(images))
	for _, img := range images {
		if _, seen := m[img.Container]; !seen {
			m[img.Container] = img
		}
	}
	return m
}

func joinDigests(digests []string) safetext.Text {
	return safetext.LineN(strings.Join(digests, ", "), urlLimit)
}

// unionKeys returns the keys of both maps, sorted, so output does not depend
// on map order.
func unionKeys[K ~string, V any](a, b map[K]V) []K {
	keys := make([]K, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
