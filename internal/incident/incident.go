// Package incident writes the incident report of one rollout: its state, revisions with
// provenance, what changed, metrics and verdicts at that moment, pods, events and the last
// action, as Markdown to paste into an incident channel or ticket.
//
// The report is read in a terminal as often as in a browser: a table cell takes only a
// safetext.Text, what the view structs hold.
package incident

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Evidence is what an incident report is written from: the rollout read at one moment.
type Evidence struct {
	Context  string
	Rollout  rollout.Rollout
	Metrics  metrics.Report // zero: Prometheus not configured
	Defaults guard.Thresholds
	// Diff is what changed from FromRevision to ToRevision; nil when there is one revision.
	Diff                     *provenance.Diff
	FromRevision, ToRevision int64
	// DiffError says why there is no diff, if reading it failed.
	DiffError string
	Taken     time.Time
	Version   string // kubectl-pyroll's
}

// Markdown renders the report.
func Markdown(f Evidence) string {
	var b strings.Builder
	r := f.Rollout
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Incident snapshot: %s/%s\n\n", safetext.Line(r.Namespace), safetext.Line(r.Name))
	p("Taken %s by kubectl-pyroll %s, context %s.\n\n", f.Taken.UTC().Format("2006-01-02 15:04:05 MST"), f.Version, code(safetext.Line(f.Context)))

	p("## State\n\n")
	p("- Phase: **%s**: %s\n", r.Phase, cell(r.Why))
	if r.Settled() {
		p("- Revisions: stable %s (complete, no canary); paused: %t\n", revision(r.StableRevision), r.Paused)
	} else {
		p("- Revisions: stable %s, canary %s; paused: %t\n", revision(r.StableRevision), revision(r.CanaryRevision), r.Paused)
	}
	if bk := r.Bake; bk != nil {
		p("- Bake window: %s of %s since it completed at %s (until %s); the revision before it: %s",
			rollout.ShortDuration(bk.Elapsed(f.Taken).Round(time.Minute)), rollout.ShortDuration(bk.Time),
			bk.CompletedAt.UTC().Format(time.RFC3339), bk.Until.UTC().Format(time.RFC3339), revision(bk.Previous))
		if b, ok := f.Metrics.Baseline(&r); ok && b.State == metrics.StateOK {
			p(", %.1f%% errors over the %d min before the release", b.ErrorRate*100, int(b.Window().Minutes()))
		}
		p("\n")
	}
	rep := r.Replicas
	p("- Replicas: desired %d, updated %d, ready %d, available %d, unavailable %d\n", rep.Desired, rep.Updated, rep.Ready, rep.Available, rep.Unavailable)
	if a := r.LastAction; a != nil {
		p("- Last action: %s by %s at %s, rev %d to %d", cell(a.Action), cell(a.User), a.Time.UTC().Format(time.RFC3339), a.From, a.To)
		if a.Reason != "" {
			p(" (%s)", cell(a.Reason))
		}
		p("\n")
	}
	if a := r.Argo; a != nil {
		writeArgo(&b, a)
	}
	p("\n## Revisions\n\n")
	p("| rev | role | ready | git SHA | version | lock hash | Python | pipeline run | image | digest |\n|---|---|---|---|---|---|---|---|---|---|\n")
	var warnings []safetext.Text
	for _, rev := range r.Revisions {
		pv := rev.Provenance
		var images []safetext.Text
		var digests []string
		for _, img := range pv.Images {
			images = append(images, img.Ref)
			digests = append(digests, img.Digests...)
		}
		p("| %d | %s | %d/%d | %s | %s | %s | %s | %s | %s | %s |\n", rev.Number, rev.Role, rev.Ready, rev.Desired,
			code(pv.GitSHA), cell(pv.Version), code(pv.LockHash), cell(pv.Python), cell(pv.PipelineRun), code(safetext.Join(images, ", ")), code(safetext.Line(strings.Join(digests, ", "))))
		for _, w := range pv.Warnings {
			warnings = append(warnings, safetext.Sprintf("rev %d: %s", rev.Number, w))
		}
	}
	for _, w := range warnings {
		p("\n**Warning:** %s\n", cell(w))
	}

	p("\n## What changed\n\n")
	switch {
	case f.Diff != nil:
		lines := f.Diff.Lines(f.FromRevision, f.ToRevision, provenance.UnicodeArrows)
		fence := codeFence(lines)
		p("%stext\n", fence)
		for _, l := range lines {
			p("%s\n", l.Text)
		}
		p("%s\n", fence)
	case f.DiffError != "":
		p("Not read: %s\n", cell(safetext.Line(f.DiffError)))
	default:
		p("Only one revision: nothing to compare.\n")
	}

	p("\n## Metrics\n\n")
	writeMetrics(&b, f)

	p("\n## Pods\n\n| pod | rev | ready | reason | restarts | Python exception / detail |\n|---|---|---|---|---|---|\n")
	for _, rev := range r.Revisions {
		for _, pod := range rev.Pods {
			detail := pod.Hint
			if detail == "" {
				detail = pod.Detail
			}
			p("| %s | %d | %t | %s | %d | %s |\n", cell(safetext.Line(pod.Name)), rev.Number, pod.Ready, cell(pod.Reason), pod.Restarts, cell(detail))
		}
	}

	p("\n## Recent events\n\n")
	if len(r.Events) == 0 {
		p("None recent.\n")
	} else {
		p("| time | type | reason | object | message |\n|---|---|---|---|---|\n")
		for _, e := range r.Events {
			p("| %s | %s | %s | %s | %s |\n", e.Time.UTC().Format("15:04:05"), cell(e.Type), cell(e.Reason), cell(e.Object), cell(e.Message))
		}
	}
	return b.String()
}

func writeMetrics(b *strings.Builder, f Evidence) {
	r, report := f.Rollout, f.Metrics
	switch {
	case report.At.IsZero():
		b.WriteString("Not read (no Prometheus configured).\n")
		return
	case report.Err != nil:
		fmt.Fprintf(b, "Prometheus unreachable at %s: %s\n", report.At.UTC().Format("15:04:05"), cell(safetext.Line(report.Err.Error())))
		return
	}
	j := guard.Judge(r, report, f.Defaults)
	fmt.Fprintf(b, "At %s (preset %s). Canary verdict: **%s**", report.At.UTC().Format("15:04:05 MST"), cell(report.Preset), j.Verdict)
	if j.Why != "" {
		fmt.Fprintf(b, ": %s", cell(safetext.Line(j.Why)))
	}
	b.WriteString("\n\n| rev | role | state | errors | requests/s | p95 |\n|---|---|---|---|---|---|\n")
	for _, rev := range r.Revisions {
		m, ok := report.Revisions[metrics.KeyOf(&r, rev.Number)]
		if !ok {
			continue
		}
		errors, rate, p95 := "-", "-", "-"
		if m.State == metrics.StateOK {
			errors, rate = fmt.Sprintf("%.2f%%", m.ErrorRate*100), fmt.Sprintf("%.1f", m.RequestRate)
			if m.P95 > 0 {
				p95 = m.P95.Round(time.Millisecond).String()
			}
		}
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s |\n", rev.Number, rev.Role, m.State, errors, rate, p95)
	}
}

// writeArgo is an Argo Rollout's steps and the values its analysis measured: what the
// on-call engineer looked at when they decided.
func writeArgo(b *strings.Builder, a *rollout.Argo) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("\n## Argo Rollout\n\n")
	p("- Strategy: %s; argo's phase: %s", a.Strategy, a.Phase)
	if a.Message != "" {
		p(" (%s)", cell(a.Message))
	}
	p("\n- Weight: %d%% set, %d%% actual; aborted: %t\n", a.SetWeight, a.ActualWeight, a.Aborted)
	for _, step := range a.Steps {
		mark := " "
		switch {
		case step.Current:
			mark = "**now**"
		case step.Done:
			mark = "done"
		}
		p("- step %d: %s %s\n", step.Index, code(step.Text), mark)
	}
	for _, run := range a.Analysis {
		p("\nAnalysisRun %s (%s): **%s** %s\n\n", code(safetext.Line(run.Name)), cell(run.Type), cell(run.Phase), cell(run.Message))
		for _, m := range run.Metrics {
			p("- %s\n", cell(m.Text()))
		}
	}
}

func revision(n int64) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprint(n)
}

// cell is a value as Markdown text on one table row: a Text has no raw newline but a
// Block's, which becomes a blank; a bar would break the column; and every character that
// Markdown reads as syntax is escaped, so that a value someone else wrote (an event
// message, an annotation) cannot become a link, an image, HTML or emphasis in the report
// the on-call engineer pastes into an incident document.
func cell(t safetext.Text) string {
	if t == "" {
		return "-"
	}
	return markdownText.Replace(string(t))
}

// Only what Markdown reads as syntax in the middle of a table cell: code, emphasis,
// strikethrough, links and images ([), HTML and autolinks (<), entities (&, which could
// spell a bidi override), the escape itself.
var markdownText = strings.NewReplacer("\n", " ", "|", `\|`,
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "~", `\~`, "[", `\[`, "]", `\]`, "<", `\<`, "&", `\&`)

// code is a value in a code span: Markdown reads nothing in it but a backtick (made a
// quote) and, in a table, a bar.
func code(t safetext.Text) string {
	if t == "" {
		return "-"
	}
	return "`" + strings.NewReplacer("\n", " ", "|", `\|`, "`", "'").Replace(string(t)) + "`"
}

// codeFence is longer than any run of backticks in the lines, so that no value can close
// the code block and go on as Markdown.
func codeFence(lines []provenance.Line) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for _, c := range []byte(l.Text) {
			if c == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// maxNamePart bounds each name in a report's file name: a file name has at most 255
// bytes, and a Deployment's name alone may have 253.
const maxNamePart = 80

// fileNamePart keeps a name a file name: a DNS name is one already, anything else (it
// would come from a hostile API server) loses what a path or a terminal would read. A
// long name keeps its start and a hash of the whole, so that two stay apart.
func fileNamePart(name string) string {
	part := strings.Map(func(r rune) rune {
		if r == '-' || r == '.' || r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, name)
	if len(part) <= maxNamePart {
		return part
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("%s-%08x", part[:maxNamePart-9], h.Sum32())
}

// Write saves the report in dir as pyroll-snapshot-NAMESPACE-NAME-TIME.md and returns its path.
func Write(dir string, f Evidence, markdown string) (string, error) {
	name := fmt.Sprintf("pyroll-snapshot-%s-%s-%s.md", fileNamePart(f.Rollout.Namespace), fileNamePart(f.Rollout.Name), f.Taken.UTC().Format("20060102-150405"))
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(markdown), 0o644); err != nil {
		return "", fmt.Errorf("write snapshot: %w", err)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path, nil
}
