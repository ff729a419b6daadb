package detail

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/internal/textfmt"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// Render draws everything known about one rollout, width columns wide: what it is doing
// and why, its revisions, its pods grouped by revision with their reasons and Python
// exceptions, the last action, metrics, provenance and recent events, each section a
// function returning its lines.
func Render(s styles.Styles, in Input, width int) string {
	p := page{s: s, in: in, width: width}
	var lines []string
	for _, section := range [][]string{p.summary(), p.bake(), p.steps(), p.analysis(), p.revisions(), p.pods(), p.owner(), p.lastAction(), p.metrics(), p.provenance(), p.events()} {
		lines = append(lines, section...)
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// page holds what every section needs; a section's lines are cut or wrapped to width.
type page struct {
	s     styles.Styles
	in    Input
	width int
}

// line is text cut to the width.
func (p page) line(text string) string { return ansi.Truncate(text, p.width, "…") }

// wrap is text wrapped to the width, each line indented.
func (p page) wrap(text string, indent int) []string {
	var out []string
	for _, l := range strings.Split(ansi.Wordwrap(text, max(p.width-indent, 10), ""), "\n") {
		out = append(out, p.line(strings.Repeat(" ", indent)+l))
	}
	return out
}

func (p page) age(t time.Time) string { return textfmt.Age(p.in.Now.Sub(t), true) }

// summary: name, phase, where, why, the replica counts.
func (p page) summary() []string {
	s, r := p.s, p.in.Rollout
	where := r.Namespace
	if r.Cluster != "" {
		where = "context " + r.Cluster + " " + s.Glyphs.Dot + " " + where // several clusters in view: whose
	}
	lines := []string{p.line(s.Title.Render(r.Name) + "  " + s.PhaseLabel(r.Phase) + s.Dim.Render(fmt.Sprintf("  %s %s %s rev %s", where, s.Glyphs.Dot, r.Kind, r.RevisionLabel(s.Glyphs.Arrow))))}
	lines = append(lines, p.wrap(s.Phase[r.Phase].Render(r.Why.String()), 0)...)
	rep := r.Replicas
	return append(lines, p.line(s.Dim.Render(fmt.Sprintf("desired %d %s updated %d %s ready %d %s available %d   started %s ago",
		rep.Desired, s.Glyphs.Dot, rep.Updated, s.Glyphs.Dot, rep.Ready, s.Glyphs.Dot, rep.Available, p.age(r.StartedAt)))), "")
}

// bake: a release in its bake window: how far into it, until when, and what it is
// compared with (the revision before it, its numbers over the minutes before the release).
func (p page) bake() []string {
	s, r := p.s, p.in.Rollout
	b := r.Bake
	if !r.Baking() {
		return nil
	}
	elapsed := b.Elapsed(p.in.Now)
	done := fmt.Sprintf("%dm", int(elapsed.Minutes()))
	if elapsed < time.Minute {
		done = fmt.Sprintf("%ds", int(elapsed.Seconds()))
	}
	head := fmt.Sprintf("bake window %s/%s %s completed %s ago, watched until %s", done, rollout.ShortDuration(b.Time), s.Glyphs.Dot,
		textfmt.Age(p.in.Now.Sub(b.CompletedAt), true), b.Until.Local().Format("15:04:05"))
	lines := []string{p.line(s.Phase[r.Phase].Render(head))}
	var before string
	switch base, ok := p.in.Verdicts.Report.Baseline(&r); {
	case b.Previous == 0:
		before = "no revision before it is kept: judged by its thresholds only, nothing to roll back to"
	case ok && base.State == metrics.StateOK:
		latency := ""
		if base.P95 > 0 {
			latency = fmt.Sprintf(", p95 %s", base.P95.Round(time.Millisecond))
		}
		before = fmt.Sprintf("before the release: rev %d %.1f%% errors%s at %.1f req/s over the %d min before it (%s to %s)", base.Revision,
			base.ErrorRate*100, latency, base.RequestRate, int(base.Window().Minutes()), base.From.Local().Format("15:04"), base.To.Local().Format("15:04"))
	case ok:
		before = fmt.Sprintf("before the release: rev %d %s over the %d min before it", base.Revision, base.State, int(base.Window().Minutes()))
	default:
		before = fmt.Sprintf("before the release: rev %d (its numbers not read yet)", b.Previous)
	}
	lines = append(lines, p.wrap(s.Dim.Render(before), 2)...)
	return append(lines, "")
}

// steps: an Argo Rollout's strategy, weights and steps, the current one marked.
func (p page) steps() []string {
	s, a := p.s, p.in.Rollout.Argo
	if a == nil {
		return nil
	}
	head := fmt.Sprintf("%s %s weight %d%% set, %d%% actual", a.Strategy, s.Glyphs.Dot, a.SetWeight, a.ActualWeight)
	if a.WorkloadRef != "" {
		head += fmt.Sprintf(" %s template from %s", s.Glyphs.Dot, a.WorkloadRef)
	}
	lines := []string{p.line(s.Section.Render("STEPS") + "  " + s.Dim.Render(head))}
	for _, step := range a.Steps {
		mark, text := " ", fmt.Sprintf("%d  %s", step.Index, step.Text)
		switch {
		case step.Current && a.Aborted:
			mark, text = s.Failing.Render(s.Glyphs.PodFailing), s.Failing.Render(text+"  (aborted here)")
		case step.Current:
			mark, text = s.Phase[rollout.PhasePaused].Render(s.Glyphs.StepCurrent), s.Bold.Render(text)
			if a.WaitingForPromotion {
				text += s.Phase[rollout.PhasePaused].Render("  waiting: p promotes, P skips every step")
			}
		case step.Done:
			mark, text = s.Dim.Render(s.Glyphs.StepDone), s.Dim.Render(text)
		}
		lines = append(lines, p.line("  "+mark+" "+text))
	}
	if len(a.Steps) > 0 && a.StepIndex >= a.StepCount {
		lines = append(lines, p.line(s.Dim.Render("  every step done")))
	}
	return append(lines, "")
}

// analysis: each AnalysisRun of the current revision with every metric's measured values
// against its condition: what argo's plugin shows only as counts.
func (p page) analysis() []string {
	s, a := p.s, p.in.Rollout.Argo
	if a == nil || len(a.Analysis) == 0 {
		return nil
	}
	lines := []string{p.line(s.Section.Render("ANALYSIS"))}
	for _, run := range a.Analysis {
		style := p.analysisStyle(run.Phase)
		head := fmt.Sprintf("  %s %s", style.Render(run.Phase.String()), run.Name)
		if run.Type != "" {
			head += s.Dim.Render(" (" + run.Type.String() + ")")
		}
		lines = append(lines, p.line(head))
		if run.Message != "" {
			lines = append(lines, p.wrap(s.Dim.Render(run.Message.String()), 4)...)
		}
		for _, m := range run.Metrics {
			lines = append(lines, p.wrap(p.analysisStyle(m.Phase).Render(m.String()), 4)...)
		}
	}
	return append(lines, "")
}

func (p page) analysisStyle(phase safetext.Text) lipgloss.Style {
	switch phase {
	case argo.AnalysisFailed, argo.AnalysisError:
		return p.s.Failing
	case argo.AnalysisInconclusive:
		return p.s.Warning
	case argo.AnalysisSuccessful:
		return p.s.Ready
	}
	return lipgloss.NewStyle()
}

// revisions: one line per revision still relevant: number, role, pods, age, SHA, images.
func (p page) revisions() []string {
	s, r := p.s, p.in.Rollout
	lines := []string{p.line(s.Section.Render("REVISIONS"))}
	for _, rev := range r.Revisions {
		if rev.Role == rollout.RoleOld && rev.Current == 0 && rev.Number < r.StableRevision-3 {
			continue // long-gone history: `history` shows it
		}
		num := fmt.Sprint(rev.Number)
		if rev.Number == 0 {
			num = "?"
		}
		sha := rev.Provenance.ShortSHA().String()
		if sha == "" {
			sha = s.Glyphs.None
		}
		lines = append(lines, p.line(fmt.Sprintf("  %-4s %-7s %5s  %-5s %s  %s", num, string(rev.Role), fmt.Sprintf("%d/%d", rev.Ready, rev.Desired),
			p.age(rev.CreatedAt), padRight(sha, 7), safetext.Join(rev.Images, ", "))))
	}
	return append(lines, "")
}

// pods: grouped by revision, each with its state, restarts and exception or reason.
func (p page) pods() []string {
	s, r := p.s, p.in.Rollout
	lines := []string{p.line(s.Section.Render("PODS"))}
	nameWidth := 0
	for _, rev := range r.Revisions {
		for _, pod := range rev.Pods {
			nameWidth = max(nameWidth, min(len(pod.Name), 40))
		}
	}
	for _, rev := range r.Revisions {
		if len(rev.Pods) == 0 {
			continue
		}
		lines = append(lines, p.line(s.Bold.Render(fmt.Sprintf("  revision %d (%s)", rev.Number, rev.Role))))
		for _, pod := range rev.Pods {
			lines = append(lines, p.pod(pod, nameWidth)...)
		}
	}
	switch {
	case r.ReadingPods():
		lines = append(lines, p.line(s.Dim.Render("  reading pods…")))
	case len(lines) == 1:
		lines = append(lines, p.line(s.Dim.Render("  no pods")))
	}
	return append(lines, "")
}

func (p page) pod(pod *rollout.Pod, nameWidth int) []string {
	s := p.s
	state := s.Ready.Render(s.Glyphs.PodReady + " Ready")
	switch {
	case pod.Failing():
		state = s.Failing.Render(s.Glyphs.PodFailing + " " + pod.Reason.String())
	case pod.Reason != "":
		state = s.Pending.Render(s.Glyphs.PodPending + " " + pod.Reason.String())
	}
	restarts := ""
	if pod.Restarts > 0 {
		restarts = fmt.Sprintf("restarts %d", pod.Restarts)
		if pod.ExitCode != nil {
			restarts += fmt.Sprintf(", exit %d", *pod.ExitCode)
		}
	}
	lines := []string{p.line(fmt.Sprintf("    %s  %s  %s", padRight(pod.Name, nameWidth), padRight(state, 20), restarts))}
	switch {
	case pod.Hint != "":
		lines = append(lines, p.wrap(s.Hint.Render(pod.Hint.String()), 6)...)
	case pod.Detail != "" && pod.Reason != "":
		lines = append(lines, p.wrap(s.Dim.Render(pod.Detail.String()), 6)...)
	}
	return lines
}

// owner: who else writes the rollout (Argo CD, Flux, Helm), what is known of it, and what
// it will do to a halt and to a rollback, in the words the confirmation uses.
func (p page) owner() []string {
	s, r := p.s, p.in.Rollout
	if r.Owner == nil {
		return nil
	}
	v := owner.UnreadView(*r.Owner, owner.Unread, "")
	if p.in.Owner != nil {
		v = *p.in.Owner
	}
	lines := append([]string{p.line(s.Section.Render("OWNER"))}, p.wrap(v.Summary().String(), 2)...)
	if v.Access == owner.Unread {
		return append(lines, "")
	}
	for _, a := range []intent.Action{intent.Halt, intent.Rollback} {
		e := v.Effect(r.Kind, a, "")
		if e.Text == "" {
			continue
		}
		style := s.Dim
		if e.Reverts == owner.Yes || e.Conflicts == owner.Yes {
			style = s.Warning
		}
		lines = append(lines, p.wrap(style.Render(fmt.Sprintf("%s: %s", a, e.Text)), 2)...)
	}
	if v.Held != nil {
		lines = append(lines, p.wrap(s.Hint.Render("held by kubectl-pyroll: revert Git (or fix the chart), then R here (or "+ReleaseHoldHint+" "+r.Name+" -n "+r.Namespace+")"), 2)...)
	}
	return append(lines, "")
}

// ReleaseHoldHint is how a hold is given back, as the detail says it.
const ReleaseHoldHint = "kubectl pyroll release-hold"

// lastAction: who did what, when and why (none when no action was recorded).
func (p page) lastAction() []string {
	s, a := p.s, p.in.Rollout.LastAction
	if a == nil {
		return nil
	}
	text := fmt.Sprintf("  %s by %s, %s ago", a.Action, a.User, p.age(a.Time))
	if a.To != 0 && a.To != a.From {
		text += fmt.Sprintf(": rev %d %s %d", a.From, s.Glyphs.Arrow, a.To)
	}
	if a.Reason != "" {
		text += " (" + a.Reason.String() + ")"
	}
	lines := append([]string{p.line(s.Section.Render("LAST ACTION"))}, p.wrap(text, 0)...)
	return append(lines, "")
}

// metrics: per revision, rates and sparklines against the thresholds, and the verdict.
func (p page) metrics() []string {
	lines := []string{p.line(p.s.Section.Render("METRICS"))}
	for _, l := range metricLines(p.s, p.in.Rollout, p.in.Verdicts) {
		lines = append(lines, p.line(l))
	}
	return lines
}

// provenance: per serving revision, the build it runs and its warnings.
func (p page) provenance() []string {
	lines := []string{p.line(p.s.Section.Render("PROVENANCE"))}
	for _, l := range provenanceLines(p.s, p.in.Rollout, p.in.Verdicts.Report) {
		// A continuation (an image and its digest) wraps under itself, not at the margin.
		text := strings.TrimLeft(l, " ")
		lines = append(lines, p.wrap(text, len(l)-len(text))...)
	}
	return append(lines, "")
}

// events: the recent ones, warnings in colour.
func (p page) events() []string {
	s := p.s
	lines := []string{p.line(s.Section.Render("EVENTS"))}
	if len(p.in.Rollout.Events) == 0 {
		lines = append(lines, p.line(s.Dim.Render("  none recent")))
	}
	for _, e := range p.in.Rollout.Events {
		style := s.Dim
		if e.Type == "Warning" {
			style = s.Warning
		}
		lines = append(lines, p.wrap(fmt.Sprintf("%s %s %s", style.Render(fmt.Sprintf("%4s", p.age(e.Time))), style.Render(e.Reason.String()), e.Message), 2)...)
	}
	return lines
}

// padRight pads to width display cells, styled text included.
func padRight(s string, width int) string {
	if w := ansi.StringWidth(s); w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// metricLines are, per revision, the error rate and p95 with their sparklines and the
// thresholds beside them, and the guard's verdict on the canary (a completed rollout's
// current revision).
func metricLines(s styles.Styles, r rollout.Rollout, verdicts guard.Verdicts) []string {
	report := verdicts.Report
	switch {
	case report.At.IsZero():
		return []string{s.Dim.Render("  " + s.Glyphs.None + " no metrics (start with --prometheus-url, or set PYROLL_PROMETHEUS_URL)")}
	case report.Err != nil:
		return []string{s.Warning.Render("  unreachable: " + report.Err.Error())}
	}
	judged := verdicts.Of(r.Ref())
	thresholds := judged.Thresholds
	var lines []string
	if judged.ThresholdsErr != nil {
		lines = append(lines, s.Warning.Render("  "+judged.ThresholdsErr.Error()))
	}
	maxErrors, maxP95 := "", ""
	if thresholds.MaxErrorRate > 0 {
		maxErrors = fmt.Sprintf("max %.1f%%", thresholds.MaxErrorRate*100)
	}
	if thresholds.MaxP95 > 0 {
		maxP95 = "max " + thresholds.MaxP95.String()
	}
	judgement := judged.Judgement
	judgedRS := "" // the revision the verdict is about: the canary, or a completed rollout's one
	if current := r.Current(); current != nil {
		judgedRS = current.ReplicaSet
	}
	for _, rev := range r.Revisions {
		v, ok := report.Revisions[metrics.KeyOf(&r, rev.Number)]
		if !ok || (rev.Role == rollout.RoleOld && len(rev.Pods) == 0) {
			continue
		}
		label := fmt.Sprintf("  rev %-3d %-7s", rev.Number, rev.Role)
		if v.State != metrics.StateOK {
			lines = append(lines, label+" "+s.Dim.Render(string(v.State)))
			continue
		}
		verdict := ""
		if rev.ReplicaSet == judgedRS {
			switch judgement.Verdict {
			case guard.Breach:
				verdict = "  " + s.Failing.Render("BREACH "+judgement.Why)
			case guard.Warn:
				verdict = "  " + s.Warning.Render("WARN "+judgement.Why)
			case guard.OK:
				verdict = "  " + s.Ready.Render("OK")
			}
		}
		lines = append(lines, fmt.Sprintf("%s %5.1f%% err %s %s  %.1f req/s%s", label, v.ErrorRate*100,
			Sparkline(s, v.History, errorScale(thresholds)), s.Dim.Render(fmt.Sprintf("%-9s", maxErrors)), v.RequestRate, verdict))
		if v.P95 > 0 {
			lines = append(lines, fmt.Sprintf("%s %6s p95 %s %s", strings.Repeat(" ", len(label)),
				v.P95.Round(time.Millisecond), Sparkline(s, v.P95History, latencyScale(thresholds)), s.Dim.Render(maxP95)))
		}
	}
	if len(lines) == 0 {
		lines = append(lines, s.Dim.Render("  no data for these pods"))
	}
	return lines
}

// Sparklines share a scale that starts at zero and reaches at least the threshold (else a
// level that is bad in itself), so a flat 0.3% does not look as high as a flat 5%.
func errorScale(t guard.Thresholds) float64 {
	if t.MaxErrorRate > 0 {
		return t.MaxErrorRate
	}
	return 0.05
}

func latencyScale(t guard.Thresholds) float64 {
	if t.MaxP95 > 0 {
		return t.MaxP95.Seconds()
	}
	return 1
}

// Sparkline draws values (NaN: a gap) from zero up to the larger of their maximum and
// floor.
func Sparkline(s styles.Styles, values []float64, floor float64) string {
	bars := []rune("▁▂▃▄▅▆▇█")
	if s.ASCII {
		bars = []rune("_.-=+*#")
	}
	top := floor
	for _, v := range values {
		if !math.IsNaN(v) && v > top {
			top = v
		}
	}
	out := make([]rune, 0, len(values))
	for _, v := range values {
		switch {
		case math.IsNaN(v):
			out = append(out, ' ')
		case top <= 0 || v <= 0:
			out = append(out, bars[0])
		default:
			out = append(out, bars[int(v/top*float64(len(bars)-1)+0.5)])
		}
	}
	return string(out)
}

// provenanceLines are, per serving revision (canary, stable, and any old one with pods),
// the build it runs; then its warnings (a tag that moved, a Python that differs from the
// annotation).
func provenanceLines(s styles.Styles, r rollout.Rollout, report metrics.Report) []string {
	var lines []string
	for _, rev := range r.Revisions {
		if rev.Role == rollout.RoleOld && len(rev.Pods) == 0 {
			continue
		}
		p := rev.Provenance
		field := func(name string, value safetext.Text) string {
			if value == "" {
				return ""
			}
			return "  " + s.Dim.Render(name) + " " + value.String()
		}
		head := fmt.Sprintf("  rev %-3d %-7s", rev.Number, rev.Role)
		text := head + field("sha", p.ShortSHA()) + field("version", p.Version) + field("lock", p.LockHash) + field("python", p.Python)
		if p.GitSHA == "" && p.Version == "" && p.LockHash == "" {
			text = head + "  " + s.Dim.Render("no build metadata on the pod template (see the README: annotations CI should set)")
		}
		lines = append(lines, text)
		for _, img := range p.Images {
			digest := s.Dim.Render("digest not reported yet")
			if len(img.Digests) > 0 {
				digest = strings.Join(img.Digests, ", ")
			}
			lines = append(lines, fmt.Sprintf("%s  %s %s", strings.Repeat(" ", len(head)), img.Ref, digest))
		}
		if p.PipelineRun != "" {
			lines = append(lines, strings.Repeat(" ", len(head))+"  "+s.Dim.Render("ci")+" "+p.PipelineRun.String())
		}
		// A copy: p.Warnings is the snapshot's, whose backing array the Builder reuses;
		// appending to it in place would write into the next snapshot's warnings.
		warnings := slices.Clone(p.Warnings)
		if v, ok := report.Revisions[metrics.KeyOf(&r, rev.Number)]; ok && v.Python != "" && p.Python != "" && v.Python != p.Python {
			warnings = append(warnings, safetext.Sprintf("runs Python %s (python_info), the annotation says %s", v.Python, p.Python))
		}
		for _, w := range warnings {
			lines = append(lines, strings.Repeat(" ", len(head))+"  "+s.Warning.Render("! "+w.String()))
		}
	}
	if len(lines) == 0 {
		lines = append(lines, s.Dim.Render("  no revisions"))
	}
	return lines
}
