package owner

import (
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Report is the owner as `status -o json` prints it: who, what is known of it, and what it
// will do to a halt and to a rollback. Yes/no states the owner could not be read for are
// "unknown"; fields that do not apply to the tool are left out.
type Report struct {
	Tool      Tool   `json:"tool"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Weak: only a label anyone may copy names it.
	Weak bool   `json:"weak,omitempty"`
	By   string `json:"by"`
	// Access: "read", "no access", "not found", "unreadable", "not read".
	Access            string        `json:"access"`
	Problem           safetext.Text `json:"problem,omitempty"`
	AutoSync          string        `json:"autoSync,omitempty"`
	SelfHeal          string        `json:"selfHeal,omitempty"`
	Syncing           bool          `json:"syncing,omitempty"`
	ApplicationSet    safetext.Text `json:"applicationSet,omitempty"`
	Suspended         string        `json:"suspended,omitempty"`
	Interval          string        `json:"interval,omitempty"`
	Revision          safetext.Text `json:"revision,omitempty"`
	Chart             string        `json:"chart,omitempty"`
	ChartVersion      string        `json:"chartVersion,omitempty"`
	AppVersion        string        `json:"appVersion,omitempty"`
	ReleaseRevision   int           `json:"releaseRevision,omitempty"`
	Drift             safetext.Text `json:"drift,omitempty"`
	ServerSideApply   string        `json:"serverSideApply,omitempty"`
	ReconcileDisabled bool          `json:"reconcileDisabled,omitempty"`
	Held              *HoldRecord   `json:"held,omitempty"`
	// OnHalt and OnRollback are what the owner does to each action.
	OnHalt     ReportEffect  `json:"onHalt"`
	OnRollback ReportEffect  `json:"onRollback"`
	Summary    safetext.Text `json:"summary"`
}

// ReportEffect is an Effect in a document.
type ReportEffect struct {
	Reverts   string        `json:"reverts"` // "yes", "no", "unknown"
	When      string        `json:"when,omitempty"`
	Conflicts string        `json:"conflicts,omitempty"`
	Holdable  bool          `json:"holdable,omitempty"`
	Text      safetext.Text `json:"text,omitempty"`
}

// Answer is "yes", "no" or "unknown".
func (s State) Answer() string {
	switch s {
	case Yes:
		return "yes"
	case No:
		return "no"
	}
	return "unknown"
}

// Word is the access in the user's words.
func (a Access) Word() string {
	switch a {
	case Read:
		return "read"
	case NoAccess:
		return "no access"
	case Absent:
		return "not found"
	case Unreadable:
		return "unreadable"
	}
	return "not read"
}

func reportEffect(e Effect) ReportEffect {
	r := ReportEffect{Reverts: e.Reverts.Answer(), When: e.When, Holdable: e.Holdable, Text: e.Text}
	if e.Conflicts != No {
		r.Conflicts = e.Conflicts.Answer()
	}
	return r
}

// Report is v as a document, for a rollout of that kind.
func (v View) Report(kind ref.Kind) *Report {
	if v.Ref.Tool == "" {
		return nil
	}
	r := &Report{
		Tool: v.Ref.Tool, Kind: v.Ref.Kind, Namespace: string(safetext.Line(v.Ref.Namespace)), Name: string(safetext.Line(v.Ref.Name)),
		Weak: v.Ref.Weak, By: v.Ref.By, Access: v.Access.Word(), Problem: v.Problem,
		ReconcileDisabled: v.ReconcileDisabled, Held: v.Held, Revision: v.Revision,
		OnHalt:     reportEffect(v.Effect(kind, intent.Halt, "")),
		OnRollback: reportEffect(v.Effect(kind, intent.Rollback, "")),
		Summary:    v.Summary(),
	}
	switch v.Ref.Kind {
	case KindApplication:
		r.AutoSync, r.SelfHeal, r.Syncing, r.ApplicationSet = v.AutoSync.Word(), v.SelfHeal.Word(), v.Syncing, v.ApplicationSet
	case KindKustomization, KindHelmRelease:
		r.Suspended = v.Suspended.Word()
		if v.Interval > 0 {
			r.Interval = v.Interval.String()
		}
	case KindRelease:
		r.ServerSideApply = v.ServerSideApply.Word()
	}
	if rel := v.Release; rel != nil {
		r.Chart, r.ChartVersion, r.AppVersion, r.ReleaseRevision = string(safetext.Line(rel.Chart)), string(safetext.Line(rel.ChartVersion)), string(safetext.Line(rel.AppVersion)), rel.Revision
	}
	if v.Drift != nil {
		r.Drift = v.Drift.Text()
	}
	return r
}
