// Package notify tells on-call what the guard did: a JSON document with the rollout, the
// action, why, both revisions' builds and the incident report, POSTed to webhooks. Its
// top-level "text" makes a Slack or Mattermost incoming webhook show a readable message
// as it is.
package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/incident"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Kind and APIVersion name the document for receivers that route on them.
const (
	Kind       = "PyrollGuardNotification"
	APIVersion = "pyroll.dev/v1"
)

// Outcome is how the action went.
type Outcome string

const (
	// Done: the action was written.
	Done Outcome = "done"
	// Failed: the guard could not act (forbidden, conflict, API error); Error says why.
	Failed Outcome = "failed"
	// DryRun: --dry-run; nothing was changed.
	DryRun Outcome = "dry-run"
	// Notified: nothing was to change (a halt asked of a completed release, or
	// pyroll.dev/on-breach: notify); on-call is told.
	Notified Outcome = "notified"
)

// Document is what a webhook receives.
type Document struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Text is one readable message (Slack/Mattermost mrkdwn).
	Text        string    `json:"text"`
	At          time.Time `json:"at"`
	Context     string    `json:"context"` // the kubeconfig context (cluster) the guard watches
	Namespace   string    `json:"namespace"`
	Service     string    `json:"service"`     // the rollout's name
	RolloutKind string    `json:"rolloutKind"` // Deployment, Rollout
	Action      guard.Act `json:"action"`      // halt, rollback
	Outcome     Outcome   `json:"outcome"`
	Error       string    `json:"error,omitempty"`
	Reason      string    `json:"reason"`
	Verdict     Verdict   `json:"verdict"`
	// Canary is the breaching revision; Stable the one serving beside it (a rollback's target).
	Canary *Build `json:"canary,omitempty"`
	Stable *Build `json:"stable,omitempty"`
	// Bake is the bake window of a release judged in it (nil for a canary in progress):
	// Canary is then the release, Stable the revision before it.
	Bake *Bake `json:"bake,omitempty"`
	// CompareURL is the forge's link from the stable's commit to the canary's.
	CompareURL safetext.Text `json:"compareURL,omitempty"`
	// Held is the GitOps owner the guard held before it acted ("Argo CD app
	// argocd/orders"), so that the halt or rollback stays; "" when none.
	Held string `json:"held,omitempty"`
	// Report is the incident report (Markdown), with the Python exception of a crashing pod.
	Report string `json:"report"`
}

// Verdict is the guard's word on the canary, with the thresholds it was judged by.
type Verdict struct {
	Verdict      guard.Verdict `json:"verdict"`
	Why          string        `json:"why"`
	MaxErrorRate float64       `json:"maxErrorRate,omitempty"`
	MaxP95       string        `json:"maxP95Latency,omitempty"`
}

// Bake says how long the release had baked and what it was compared with.
type Bake struct {
	Minutes  int       `json:"minutes"`  // how long it had baked when the guard decided
	Window   string    `json:"window"`   // its bake time, e.g. 15m
	Until    time.Time `json:"until"`    // when the window would have ended
	Compared string    `json:"compared"` // e.g. 0.2% before the release (rev 4, 10 min before)
}

// Build is one revision's build provenance.
type Build struct {
	Revision    int64         `json:"revision"`
	GitSHA      safetext.Text `json:"gitSHA,omitempty"`
	Version     safetext.Text `json:"version,omitempty"`
	Images      []Image       `json:"images,omitempty"`
	LockHash    safetext.Text `json:"lockHash,omitempty"`
	Python      safetext.Text `json:"python,omitempty"`
	PipelineRun safetext.Text `json:"pipelineRun,omitempty"`
	Source      safetext.Text `json:"source,omitempty"`
}

// Image is a container's image reference and the digests its pods run.
type Image struct {
	Container safetext.Text `json:"container"`
	Ref       safetext.Text `json:"ref"`
	Digests   []string      `json:"digests,omitempty"`
}

// NewDocument describes one decision and how it went, from the incident evidence read
// when it was taken.
func NewDocument(d guard.Decision, outcome Outcome, actErr error, evidence incident.Evidence) Document {
	r := evidence.Rollout
	doc := Document{
		APIVersion: APIVersion, Kind: Kind, At: evidence.Taken.UTC(), Context: evidence.Context,
		Namespace: d.Rollout.Namespace, Service: d.Rollout.Name, RolloutKind: string(d.Rollout.Kind),
		Action: d.Act, Outcome: outcome, Reason: d.Reason,
		Verdict: Verdict{Verdict: d.Judged.Verdict, Why: d.Judged.Why, MaxErrorRate: d.Judged.Thresholds.MaxErrorRate},
		Canary:  buildOf(&r, d.Canary),
		Stable:  buildOf(&r, d.Stable),
		Report:  incident.Markdown(evidence),
	}
	if d.Bake != nil {
		doc.Bake = &Bake{Minutes: int(d.BakedFor.Minutes()), Window: rollout.ShortDuration(d.Bake.Time), Until: d.Bake.Until.UTC(), Compared: d.Judged.Compared}
	}
	if d.Judged.Thresholds.MaxP95 > 0 {
		doc.Verdict.MaxP95 = d.Judged.Thresholds.MaxP95.String()
	}
	if actErr != nil {
		doc.Error = safetext.Line(actErr.Error()).String() // the API server's words are in it
	}
	if evidence.Diff != nil {
		doc.CompareURL = evidence.Diff.CompareURL
	}
	doc.Text = text(doc)
	return doc
}

// WithBuildsFrom fills the builds the evidence, read after the action, no longer holds from
// the rollout as the guard saw it when it decided: a rollback writes the older revision's
// template back under a new number, so the revision it returned to is gone by its number.
func (doc Document) WithBuildsFrom(d guard.Decision, before *rollout.Rollout) Document {
	if before == nil {
		return doc
	}
	if doc.Canary == nil {
		doc.Canary = buildOf(before, d.Canary)
	}
	if doc.Stable == nil {
		doc.Stable = buildOf(before, d.Stable)
	}
	doc.Text = text(doc)
	return doc
}

func buildOf(r *rollout.Rollout, revision int64) *Build {
	for _, rev := range r.Revisions {
		if rev.Number != revision || revision == 0 {
			continue
		}
		p := rev.Provenance
		b := &Build{Revision: rev.Number, GitSHA: p.GitSHA, Version: p.Version, LockHash: p.LockHash, Python: p.Python, PipelineRun: p.PipelineRun, Source: p.Source}
		for _, img := range p.Images {
			b.Images = append(b.Images, Image{Container: img.Container, Ref: img.Ref, Digests: img.Digests})
		}
		return b
	}
	return nil
}

// text is the message a chat shows: what happened, to what, why, which builds. Every value
// in it is the cluster's (annotations anyone who may edit the Deployment writes) and goes
// through chat or chatCode, so it cannot mention @channel, add a link or leave a code span.
func text(d Document) string {
	var b strings.Builder
	target := chatCode(d.Namespace + "/" + d.Service)
	switch d.Outcome {
	case Done:
		fmt.Fprintf(&b, ":rotating_light: *kubectl-pyroll guard %s* %s", pastTense(d.Action), target)
	case Notified:
		fmt.Fprintf(&b, ":warning: *kubectl-pyroll guard: SLO breach, nothing changed* %s", target)
	case DryRun:
		fmt.Fprintf(&b, ":warning: *kubectl-pyroll guard would have %s (dry run)* %s", pastTense(d.Action), target)
	default:
		fmt.Fprintf(&b, ":x: *kubectl-pyroll guard could not %s* %s: %s", d.Action, target, chat(d.Error))
	}
	fmt.Fprintf(&b, " in %s\n%s\n", chatCode(d.Context), chat(d.Reason))
	labels := [2]string{"canary", "stable"}
	if d.Bake != nil {
		labels = [2]string{"release", "before it"}
		if d.Outcome == Done && d.Action == guard.ActRollback {
			fmt.Fprintf(&b, "rolled back after %d min of bake, compared with %s\n", d.Bake.Minutes, chat(d.Bake.Compared))
		} else {
			fmt.Fprintf(&b, "in BREACH after %d min of its %s bake, compared with %s\n", d.Bake.Minutes, chat(d.Bake.Window), chat(d.Bake.Compared))
		}
	}
	for _, line := range []struct {
		label string
		build *Build
	}{{labels[0], d.Canary}, {labels[1], d.Stable}} {
		if line.build != nil {
			fmt.Fprintf(&b, "• %s rev %d: %s\n", line.label, line.build.Revision, line.build.summary())
		}
	}
	if d.CompareURL != "" {
		fmt.Fprintf(&b, "• changes: %s\n", chat(d.CompareURL.String()))
	}
	if d.Held != "" {
		fmt.Fprintf(&b, "• %s held so that it stays; revert Git (or fix the chart), then %s\n", chat(d.Held), chatCode("kubectl pyroll release-hold "+d.Service+" -n "+d.Namespace))
	}
	return strings.TrimRight(b.String(), "\n")
}

// WithHeld says the guard held owner before it acted (the text says how to give it back).
func (doc Document) WithHeld(owner string) Document {
	if owner == "" {
		return doc
	}
	doc.Held = owner
	doc.Text = text(doc)
	return doc
}

// chatEscaper escapes what Slack's and Mattermost's message formatting treat as markup:
// "<" starts a link or a mention (<!channel>, <@U123>), "&" an entity.
var chatEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// chat is a value as plain text in a chat message.
func chat(s string) string { return chatEscaper.Replace(s) }

// chatCode is a value in a code span: a backtick in it would end the span.
func chatCode(s string) string { return "`" + strings.ReplaceAll(chat(s), "`", "'") + "`" }

func (b *Build) summary() string {
	var parts []string
	add := func(label, v string) {
		if v != "" {
			parts = append(parts, label+" "+v)
		}
	}
	if sha := b.GitSHA.String(); sha != "" {
		add("sha", chatCode(sha[:min(len(sha), 12)]))
	}
	add("version", chat(b.Version.String()))
	for _, img := range b.Images {
		add("image", chatCode(img.Ref.String()))
	}
	add("lock", chat(b.LockHash.String()))
	add("Python", chat(b.Python.String()))
	add("run", chat(b.PipelineRun.String()))
	if len(parts) == 0 {
		return "build unknown (no provenance annotations)"
	}
	return strings.Join(parts, ", ")
}

func pastTense(a guard.Act) string {
	switch a {
	case guard.ActHalt:
		return "halted"
	case guard.ActRollback:
		return "rolled back"
	}
	return string(a)
}
