package owner

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// FluxObject is the part of a Flux Kustomization (kustomize.toolkit.fluxcd.io/v1) or
// HelmRelease (helm.toolkit.fluxcd.io/v2) the view reads; field names as their api
// packages (KustomizationSpec, HelmReleaseSpec, Snapshot).
type FluxObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		Suspend  bool   `json:"suspend,omitempty"`
		Interval string `json:"interval,omitempty"`
		// DriftDetection is a HelmRelease's.
		DriftDetection *struct {
			Mode string `json:"mode,omitempty"` // enabled, warn, disabled
		} `json:"driftDetection,omitempty"`
	} `json:"spec"`
	Status struct {
		LastAppliedRevision   string `json:"lastAppliedRevision,omitempty"`
		LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`
		// History is a HelmRelease's releases, newest first as helm-controller keeps it.
		History []struct {
			Name         string `json:"name"`
			Namespace    string `json:"namespace"`
			Version      int    `json:"version"`
			Status       string `json:"status"`
			ChartName    string `json:"chartName"`
			ChartVersion string `json:"chartVersion"`
		} `json:"history,omitempty"`
	} `json:"status,omitempty"`
}

// FromFlux is the view of the Flux Kustomization or HelmRelease d names, read as u.
func FromFlux(d Detection, u *unstructured.Unstructured) View {
	v := UnreadView(d, Read, "")
	var obj FluxObject
	if err := decode(u, &obj); err != nil {
		v.Access, v.Problem = Unreadable, safetext.Line(fmt.Sprintf("%s: %v", v.Ref.Kind, err))
		return v
	}
	v.ResourceVersion = obj.ResourceVersion
	v.Suspended = stateOf(obj.Spec.Suspend)
	if iv, err := time.ParseDuration(obj.Spec.Interval); err == nil {
		v.Interval = iv
	}
	v.DriftDetection = obj.Spec.DriftDetection != nil && obj.Spec.DriftDetection.Mode == "enabled"
	rev := obj.Status.LastAppliedRevision
	// helm-controller v2 deprecates lastAppliedRevision for its history.
	latest := -1
	for i, h := range obj.Status.History {
		if latest < 0 || h.Version > obj.Status.History[latest].Version {
			latest = i
		}
	}
	if latest >= 0 {
		h := obj.Status.History[latest]
		v.Release = &Release{Name: h.Name, Namespace: h.Namespace, Revision: h.Version, Status: h.Status,
			Chart: h.ChartName, ChartVersion: h.ChartVersion}
		if rev == "" {
			rev = h.ChartVersion
		}
	}
	v.Revision = safetext.Line(rev)
	v.Held = heldRecord(obj.Annotations[HeldAnnotation])
	return v
}
