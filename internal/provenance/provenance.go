// Package provenance answers "exactly which build is running" for a Deployment
// revision, from the build metadata CI stamps on its pod template and the image
// digests its pods report, and "what changed between two revisions".
//
// It does no I/O. Every text it returns is a safetext.Text: safe to print in a terminal.
package provenance

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Provenance is one revision's build, as read from its pod template and running pods.
type Provenance struct {
	GitSHA      safetext.Text `json:"gitSHA,omitempty"`      // org.opencontainers.image.revision
	Source      safetext.Text `json:"source,omitempty"`      // org.opencontainers.image.source
	Version     safetext.Text `json:"version,omitempty"`     // org.opencontainers.image.version, else app.kubernetes.io/version
	Created     safetext.Text `json:"created,omitempty"`     // org.opencontainers.image.created
	LockHash    safetext.Text `json:"lockHash,omitempty"`    // pyroll.dev/lock-hash
	Python      safetext.Text `json:"python,omitempty"`      // pyroll.dev/python-version
	PipelineRun safetext.Text `json:"pipelineRun,omitempty"` // pyroll.dev/pipeline-run (id or URL)
	Images      []Image       `json:"images,omitempty"`      // one per container, in template order
	// Warnings say why the answer cannot be trusted, e.g. a tag that runs two
	// digests: the tag moved, so the revision is not reproducible.
	Warnings []safetext.Text `json:"warnings,omitempty"`
}

// Image is one container's image: what the template asks for and what the pods run.
type Image struct {
	Container safetext.Text `json:"container"`
	Ref       safetext.Text `json:"ref"` // as in the template, e.g. ghcr.io/acme/orders:1.8.0 or ...@sha256:...
	// Digests are the distinct running digests, sorted: only well-formed ones
	// (sha256: and 64 hex digits), so they need no escaping.
	Digests []string `json:"digests,omitempty"`
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
func (m stampedMetadata) lookup(keys ...string) safetext.Text {
	for _, key := range keys {
		for _, values := range []map[string]string{m.annotations, m.labels} {
			if v := cleanValue(values[key]); v != "" {
				return v
			}
		}
	}
	return ""
}

// Widths are bounded because one cell must not push the rest of a line away.
const (
	valueLimit = 120
	// urlLimit is wider because a clipped link is useless.
	urlLimit = 300
	// shortLimit fits the SHA column when the revision is not a hex SHA.
	shortLimit = 12
)

// cleanValue makes a metadata value safe, allowing a link its longer width.
func cleanValue(raw string) safetext.Text {
	if looksLikeURL(raw) {
		return safetext.LineN(raw, urlLimit)
	}
	return safetext.LineN(raw, valueLimit)
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
func (p Provenance) ShortSHA() safetext.Text {
	if sha := string(p.GitSHA); len(sha) >= 7 && isHex(sha) {
		return p.GitSHA[:7]
	}
	return safetext.LineN(string(p.GitSHA), shortLimit)
}

// isHex reports whether s is non-empty and only hex digits, either case, as git
// accepts revisions in both.
func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Digest is the one digest the first container runs, or "" when no pod reports
// one or the pods disagree, since then no single digest describes the revision.
func (p Provenance) Digest() string {
	if len(p.Images) == 0 || len(p.Images[0].Digests) != 1 {
		return ""
	}
	return p.Images[0].Digests[0]
}
