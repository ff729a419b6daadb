// Package provenance answers "exactly which build is running" for a Deployment
// revision, from the build metadata CI stamps on its pod template and the image
// digests its pods report, and "what changed between two revisions".
//
// It does no I/O. Every string it returns is safe to print in a terminal.
package provenance

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Provenance is one revision's build, as read from its pod template and running pods.
type Provenance struct {
	GitSHA      string  `json:"gitSHA,omitempty"`      // org.opencontainers.image.revision
	Source      string  `json:"source,omitempty"`      // org.opencontainers.image.source
	Version     string  `json:"version,omitempty"`     // org.opencontainers.image.version, else app.kubernetes.io/version
	Created     string  `json:"created,omitempty"`     // org.opencontainers.image.created
	LockHash    string  `json:"lockHash,omitempty"`    // pyroll.dev/lock-hash
	Python      string  `json:"python,omitempty"`      // pyroll.dev/python-version
	PipelineRun string  `json:"pipelineRun,omitempty"` // pyroll.dev/pipeline-run (id or URL)
	Images      []Image `json:"images,omitempty"`      // one per container, in template order
	// Warnings say why the answer cannot be trusted, e.g. a tag that runs two
	// digests: the tag moved, so the revision is not reproducible.
	Warnings []string `json:"warnings,omitempty"`
}

// Image is one container's image: what the template asks for and what the pods run.
type Image struct {
	Container string   `json:"container"`
	Ref       string   `json:"ref"`               // as in the template, e.g. ghcr.io/acme/orders:1.8.0 or ...@sha256:...
	Digests   []string `json:"digests,omitempty"` // distinct running digests (sha256:...), sorted
}

// RunningImage is what one pod reports for one container in
// containerStatuses[].imageID, e.g. "docker-pullable://ghcr.io/acme/orders@sha256:…",
// "ghcr.io/acme/orders@sha256:…" or "sha256:…".
type RunningImage struct{ Pod, Container, ImageID string }

// The build metadata keys, as stamped by CI. The OCI image annotation keys are
// reused so the same values can be copied from the image's own config.
const (
	keyRevision    = "org.opencontainers.image.revision"
	keySource      = "org.opencontainers.image.source"
	keyVersion     = "org.opencontainers.image.version"
	keyCreated     = "org.opencontainers.image.created"
	keyAppVersion  = "app.kubernetes.io/version"
	keyLockHash    = "pyroll.dev/lock-hash"
	keyPython      = "pyroll.dev/python-version"
	keyPipelineRun = "pyroll.dev/pipeline-run"
)

// buildKeys are reported by Provenance, so a template diff need not repeat them.
var buildKeys = map[string]bool{
	keyRevision: true, keySource: true, keyVersion: true, keyCreated: true,
	keyAppVersion: true, keyLockHash: true, keyPython: true, keyPipelineRun: true,
}

// FromTemplate reads the build of the revision whose pod template is t; running
// lists what its pods report. A nil template has no provenance.
func FromTemplate(t *corev1.PodTemplateSpec, running []RunningImage) Provenance {
	if t == nil {
		return Provenance{}
	}
	meta := stampedMetadata{annotations: t.Annotations, labels: t.Labels}
	p := Provenance{
		GitSHA:      meta.lookup(keyRevision),
		Source:      meta.lookup(keySource),
		Version:     meta.lookup(keyVersion, keyAppVersion),
		Created:     meta.lookup(keyCreated),
		LockHash:    meta.lookup(keyLockHash),
		Python:      meta.lookup(keyPython),
		PipelineRun: meta.lookup(keyPipelineRun),
	}
	p.Images, p.Warnings = readImages(t.Spec.Containers, running)
	return p
}

// stampedMetadata looks keys up where CI may have put them. Labels are accepted
// because some pipelines can only set labels, but annotations win: labels are
// restricted to 63 characters and often hold a shortened value.
type stampedMetadata struct{ annotations, labels map[string]string }

// lookup returns the first non-blank value among keys, preferred key first.
func (m stampedMetadata) lookup(keys ...string) string {
	for _, key := range keys {
		for _, values := range []map[string]string{m.annotations, m.labels} {
			if v := cleanValue(values[key]); v != "" {
				return v
			}
		}
	}
	return ""
}

// cleanValue sanitises a metadata value, allowing a link its longer width.
func cleanValue(raw string) string {
	if looksLikeURL(raw) {
		return sanitize(raw, urlLimit)
	}
	return sanitize(raw, valueLimit)
}

func looksLikeURL(s string) bool {
	s = strings.TrimSpace(s)
	scheme, _, ok := strings.Cut(s, "://")
	if !ok || scheme == "" {
		return false
	}
	for _, c := range scheme {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ShortSHA is the revision for a narrow column: the first 7 characters of a hex
// SHA, else the revision clipped to a dozen characters.
func (p Provenance) ShortSHA() string {
	if len(p.GitSHA) >= 7 && isHex(p.GitSHA) {
		return p.GitSHA[:7]
	}
	return sanitize(p.GitSHA, shortLimit)
}

// Digest is the one digest the first container runs, or "" when no pod reports
// one or the pods disagree, since then no single digest describes the revision.
func (p Provenance) Digest() string {
	if len(p.Images) == 0 || len(p.Images[0].Digests) != 1 {
		return ""
	}
	return p.Images[0].Digests[0]
}
