package owner

import (
	"strings"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// State is a yes/no the view may not know (no access to the owner object).
type State int8

const (
	Unknown State = iota
	No
	Yes
)

func stateOf(b bool) State {
	if b {
		return Yes
	}
	return No
}

// Word is "on", "off" or "unknown".
func (s State) Word() string {
	switch s {
	case Yes:
		return "on"
	case No:
		return "off"
	}
	return "unknown"
}

// Access says whether the owner object was read.
type Access int8

const (
	// Unread: nobody asked the API server yet.
	Unread Access = iota
	// Read: the view holds what the owner object says.
	Read
	// NoAccess: the API server refused (Forbidden): the caller may not read it.
	NoAccess
	// Absent: the object the rollout names does not exist (NotFound), or, for Helm, no
	// release Secret has status=deployed.
	Absent
	// Unreadable: it was read but could not be decoded (a release Secret that is not
	// Helm's format); Problem says why.
	Unreadable
)

// View is what the console, the commands and the guard know of a rollout's owner.
type View struct {
	Ref    Ref
	Access Access
	// Problem is why the owner could not be read (the API server's message), "" if read.
	Problem safetext.Text
	// ReconcileDisabled: the rollout object carries kustomize.toolkit.fluxcd.io/reconcile:
	// disabled (Flux leaves it alone).
	ReconcileDisabled bool
	// ResourceVersion of the owner object read (Helm: of its release Secret).
	ResourceVersion string

	// Argo CD Application.
	AutoSync State // spec.syncPolicy.automated present and automated.enabled unset or true
	SelfHeal State // spec.syncPolicy.automated.selfHeal
	// Syncing: status.operationState.phase is Running or Terminating.
	Syncing bool
	// ApplicationSet names the ApplicationSet that generated the Application ("" if none):
	// it may put back a held sync policy unless its ignoreApplicationDifferences covers it.
	ApplicationSet safetext.Text

	// Flux Kustomization / HelmRelease.
	Suspended State
	Interval  time.Duration
	// DriftDetection (HelmRelease spec.driftDetection.mode "enabled"): helm-controller
	// corrects the cluster at every interval; otherwise it upgrades only when the chart
	// or the values change.
	DriftDetection bool

	// Revision is the synced Git revision (Argo CD status.sync.revision), the last
	// applied source revision (Flux status.lastAppliedRevision) or, for a release, the
	// chart version.
	Revision safetext.Text

	// Helm (and a Flux HelmRelease's latest release).
	Release *Release
	// Drift is the first difference between the release's manifest and the live pod
	// template; nil when they agree or nothing was compared.
	Drift *Drift
	// ServerSideApply: the live object's managed fields show Helm applying server-side
	// (Helm 4: its next upgrade conflicts with our writes instead of reverting them);
	// Unknown when the object shows neither.
	ServerSideApply State

	// Held is our hold on the owner, nil when none (see Hold*).
	Held *HoldRecord
}

// Release is what a Helm release records (helm.sh/helm pkg/release Release).
type Release struct {
	Name, Namespace string
	Revision        int // the release's version: sh.helm.release.v1.<name>.v<Revision>
	Status          string
	Chart           string // chart metadata.name
	ChartVersion    string // chart metadata.version
	AppVersion      string // chart metadata.appVersion
	// Manifest is the rendered manifest Helm applied (raw: YAML documents).
	Manifest string
}

// UnreadView is the view of a detected owner whose object was not read (yet, or at
// all): access says why, problem is the API server's message.
func UnreadView(d Detection, access Access, problem string) View {
	v := View{Access: access, ReconcileDisabled: d.ReconcileDisabled}
	if d.Owner != nil {
		v.Ref = *d.Owner
	}
	if problem != "" {
		v.Problem = safetext.Line(problem)
	}
	return v
}

// Summary is the owner in one line, in the user's words: "managed by Argo CD app
// argocd/orders (auto-sync on, self-heal on, synced 3f2c1a9)", "managed by Argo CD app
// argocd/orders (self-heal unknown: no access)".
func (v View) Summary() safetext.Text {
	who := safetext.Sprintf("managed by %s", v.Ref.String())
	if v.Ref.Weak {
		who = safetext.Sprintf("%s? (only its %s says so)", who, v.Ref.By)
	}
	switch v.Access {
	case NoAccess:
		return safetext.Sprintf("%s (%s unknown: no access)", who, v.unknownWord())
	case Absent:
		return safetext.Sprintf("%s (not found)", who)
	case Unreadable:
		return safetext.Sprintf("%s (unreadable: %s)", who, v.Problem)
	case Unread:
		return safetext.Sprintf("%s (not read yet)", who)
	}
	var parts []safetext.Text
	switch v.Ref.Kind {
	case KindApplication:
		parts = append(parts, safetext.Sprintf("auto-sync %s", v.AutoSync.Word()))
		if v.AutoSync == Yes {
			parts = append(parts, safetext.Sprintf("self-heal %s", v.SelfHeal.Word()))
		}
		if v.Syncing {
			parts = append(parts, "sync running")
		}
		if v.Revision != "" {
			parts = append(parts, safetext.Sprintf("synced %s", shortRevision(v.Revision)))
		}
		if v.ApplicationSet != "" {
			parts = append(parts, safetext.Sprintf("from ApplicationSet %s", v.ApplicationSet))
		}
	case KindKustomization, KindHelmRelease:
		if v.Suspended == Yes {
			parts = append(parts, "suspended")
		} else if v.Interval > 0 {
			parts = append(parts, safetext.Sprintf("every %s", v.Interval))
		}
		if v.Revision != "" {
			parts = append(parts, safetext.Sprintf("applied %s", shortRevision(v.Revision)))
		}
	case KindRelease:
		if r := v.Release; r != nil {
			parts = append(parts, safetext.Sprintf("revision %d, chart %s-%s, app %s", r.Revision, r.Chart, r.ChartVersion, r.AppVersion))
		}
		if v.Drift != nil {
			parts = append(parts, safetext.Sprintf("drifted: %s", v.Drift.Text()))
		}
	}
	if v.ReconcileDisabled {
		parts = append(parts, "reconcile disabled on the object")
	}
	if v.Held != nil {
		parts = append(parts, "held by kubectl-pyroll")
	}
	if len(parts) == 0 {
		return who
	}
	return safetext.Sprintf("%s (%s)", who, safetext.Join(parts, ", "))
}

// unknownWord is what a refused read leaves unknown, per tool.
func (v View) unknownWord() string {
	switch v.Ref.Kind {
	case KindApplication:
		return "self-heal"
	case KindKustomization, KindHelmRelease:
		return "suspend"
	case KindRelease:
		return "release"
	}
	return "state"
}

// shortRevision shortens a Git SHA ("main@sha1:3f2c1a9e..." as Flux writes it, or a
// bare SHA as Argo CD does) to 7 characters after the last ':'; anything else stays.
func shortRevision(rev safetext.Text) safetext.Text {
	s := string(rev)
	prefix := ""
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		prefix, s = s[:i+1], s[i+1:]
	}
	if len(s) >= 40 && isHex(s) {
		s = s[:7]
	}
	return safetext.Line(prefix + s)
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
