package owner

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Application is the part of an Argo CD Application (argoproj.io/v1alpha1) the view
// reads; field names as argo-cd v3 pkg/apis/application/v1alpha1 types.go.
type Application struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		SyncPolicy *struct {
			Automated *struct {
				// Enabled unset means enabled (SyncPolicy.IsAutomatedSyncEnabled).
				Enabled  *bool `json:"enabled,omitempty"`
				SelfHeal bool  `json:"selfHeal,omitempty"`
				Prune    bool  `json:"prune,omitempty"`
			} `json:"automated,omitempty"`
		} `json:"syncPolicy,omitempty"`
	} `json:"spec"`
	Status struct {
		Sync struct {
			Status    string   `json:"status,omitempty"`
			Revision  string   `json:"revision,omitempty"`
			Revisions []string `json:"revisions,omitempty"`
		} `json:"sync,omitempty"`
		OperationState *struct {
			Phase string `json:"phase,omitempty"`
		} `json:"operationState,omitempty"`
	} `json:"status,omitempty"`
}

// decode reads an unstructured object into one of the hand-written types.
func decode(u *unstructured.Unstructured, into any) error {
	data, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}

// FromApplication is the view of the Argo CD Application d names, read as u.
func FromApplication(d Detection, u *unstructured.Unstructured) View {
	v := UnreadView(d, Read, "")
	var app Application
	if err := decode(u, &app); err != nil {
		v.Access, v.Problem = Unreadable, safetext.Line(fmt.Sprintf("application: %v", err))
		return v
	}
	v.ResourceVersion = app.ResourceVersion
	v.AutoSync, v.SelfHeal = No, No
	if sp := app.Spec.SyncPolicy; sp != nil && sp.Automated != nil {
		v.SelfHeal = stateOf(sp.Automated.SelfHeal)
		v.AutoSync = stateOf(sp.Automated.Enabled == nil || *sp.Automated.Enabled)
	}
	if op := app.Status.OperationState; op != nil {
		v.Syncing = op.Phase == "Running" || op.Phase == "Terminating"
	}
	rev := app.Status.Sync.Revision
	if rev == "" && len(app.Status.Sync.Revisions) > 0 {
		rev = app.Status.Sync.Revisions[0] // a multi-source Application
	}
	v.Revision = safetext.Line(rev)
	for _, o := range app.OwnerReferences {
		if o.Kind == "ApplicationSet" {
			v.ApplicationSet = safetext.Line(o.Name)
		}
	}
	v.Held = heldRecord(app.Annotations[HeldSyncPolicyAnnotation])
	return v
}
