package owner

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// HelmReleasesSelector selects every release Secret of release name, whatever its status
// (the history: superseded, failed, deployed).
func HelmReleasesSelector(name string) string {
	return HelmOwnerLabel + "=helm," + HelmNameLabel + "=" + name
}

// Chart is the Helm chart a revision of a rollout was installed from.
type Chart struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	AppVersion   string `json:"appVersion,omitempty"`
	Release      int    `json:"releaseRevision"` // the Helm release's version
	ReleaseState string `json:"releaseStatus,omitempty"`
}

// Text is "orders-1.4.0 (app 2.1.0, release 3)".
func (c Chart) Text() safetext.Text {
	t := safetext.Line(c.Name + "-" + c.Version)
	if c.AppVersion != "" {
		return safetext.Sprintf("%s (app %s, release %d)", t, safetext.Line(c.AppVersion), c.Release)
	}
	return safetext.Sprintf("%s (release %d)", t, c.Release)
}

// ChartsByRevision says which chart each revision's pod template came from: the newest
// release whose manifest renders the rollout (kind, name) with that template (images,
// command, args and env of every container agree). A revision no release rendered (a
// rollback by hand, a kubectl edit) has none.
func ChartsByRevision(secrets []corev1.Secret, kind, name string, templates map[int64]*corev1.PodTemplateSpec) map[int64]Chart {
	var releases []*Release
	for i := range secrets {
		if rel, err := DecodeRelease(&secrets[i]); err == nil {
			releases = append(releases, rel)
		}
	}
	// Newest first: a template rendered again by a later release names the later chart.
	slices.SortFunc(releases, func(a, b *Release) int { return b.Revision - a.Revision })
	out := map[int64]Chart{}
	for n, t := range templates {
		for _, rel := range releases {
			if findTemplate(rel.Manifest, kind, name) == nil || ReleaseDrift(rel.Manifest, kind, name, t) != nil {
				continue
			}
			out[n] = Chart{Name: rel.Chart, Version: rel.ChartVersion, AppVersion: rel.AppVersion, Release: rel.Revision, ReleaseState: rel.Status}
			break
		}
	}
	return out
}
