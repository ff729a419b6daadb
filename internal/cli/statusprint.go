package cli

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/internal/textfmt"
)

// StatusList is the `status -o json` document.
type StatusList struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Context is the one context read; with several (--contexts), Contexts names them and
	// each item its own ("context").
	Context    string       `json:"context,omitempty"`
	Contexts   []string     `json:"contexts,omitempty"`
	Namespace  string       `json:"namespace"` // "" with -A
	ObservedAt time.Time    `json:"observedAt"`
	Items      []StatusItem `json:"items"`
}

// StatusItem is one rollout, with its revisions' error rates and latency (keyed by
// revision number) when --prometheus-url is given.
type StatusItem struct {
	rollout.Rollout
	Metrics map[string]metrics.Revision `json:"metrics,omitempty"`
	// Guard is the verdict on the canary with the thresholds it was judged by (with metrics).
	Guard *GuardVerdict `json:"guard,omitempty"`
	// Bake is the release's bake window (rollout.Bake: until, completedAt, the revision
	// before it) with the baseline it is compared with, once metrics were read.
	Bake *StatusBake `json:"bake,omitempty"`
	// Owner is who else writes the rollout (Argo CD, Flux, Helm) and what it does to a
	// halt and a rollback; absent when nobody does.
	Owner *owner.Report `json:"owner,omitempty"`
}

// StatusBake is a bake window with its before-release baseline.
type StatusBake struct {
	*rollout.Bake
	Baseline *metrics.Baseline `json:"baseline,omitempty"`
}

// GuardVerdict is the guard's word on a rollout's canary.
type GuardVerdict struct {
	Verdict      guard.Verdict `json:"verdict"` // OK, WARN, BREACH, NO DATA
	Why          string        `json:"why"`
	MaxErrorRate float64       `json:"maxErrorRate,omitempty"`
	MaxP95       string        `json:"maxP95Latency,omitempty"`
}

// StatusLine is one `status -o ndjson` line about a rollout.
type StatusLine struct {
	StatusItem
	ObservedAt time.Time `json:"observedAt"`
}

// WatchStateLine is an ndjson line about the connection (kind "WatchState").
type WatchStateLine struct {
	Kind    string        `json:"kind"`
	State   string        `json:"state"`
	Since   time.Time     `json:"since,omitzero"`
	Message safetext.Text `json:"message,omitempty"`
	At      time.Time     `json:"at"`
}

const statusAPIVersion = "pyroll.dev/v1"

type statusPrinter struct {
	out, errOut   io.Writer
	format        string
	withNamespace bool
	context       string
	// contexts are the contexts read when several are (the table then has a CONTEXT
	// column).
	contexts   []string
	namespace  string
	headerDone bool
	widths     []int
	// verdicts, once metrics were read, go with each rollout: in JSON the numbers and
	// the verdict, in the table a BREACH before WHY.
	verdicts guard.Verdicts
	// owners, when set, reads a rollout's GitOps owner for the documents (nil: no owner
	// is read or printed).
	owners func(rollout.Rollout) *owner.Report
	// last holds a digest of each rollout's last printed form: the forms themselves
	// (a JSON document per rollout) would be the largest thing kept at 10,000 pods.
	last map[ref.Rollout][sha256.Size]byte
}

func newStatusPrinter(out, errOut io.Writer, format string, withNamespace bool, context, namespace string) *statusPrinter {
	return &statusPrinter{out: out, errOut: errOut, format: format, withNamespace: withNamespace, context: context, namespace: namespace, last: map[ref.Rollout][sha256.Size]byte{}}
}

func (p *statusPrinter) all(rollouts []rollout.Rollout, now time.Time) error {
	switch p.format {
	case "json":
		items := make([]StatusItem, 0, len(rollouts))
		for _, r := range rollouts {
			items = append(items, p.item(r))
		}
		enc := json.NewEncoder(p.out)
		enc.SetIndent("", "  ")
		return enc.Encode(StatusList{APIVersion: statusAPIVersion, Kind: "RolloutStatusList", Context: p.context, Contexts: p.contexts, Namespace: p.namespace, ObservedAt: now.UTC(), Items: items})
	case "ndjson":
		for _, r := range rollouts {
			if err := p.ndjson(r, now); err != nil {
				return err
			}
		}
		return nil
	default:
		if len(rollouts) == 0 {
			where := "namespace " + strconv.Quote(p.namespace)
			switch {
			case len(p.contexts) > 0:
				where = "contexts " + strings.Join(p.contexts, ", ")
			case p.namespace == "":
				where = "any namespace"
			}
			fmt.Fprintf(p.errOut, "No rollouts (Deployments) found in %s.\n", where)
			return nil
		}
		p.fitColumns(rollouts, now)
		p.header()
		for _, r := range rollouts {
			fmt.Fprintln(p.out, p.row(r, now))
		}
		return nil
	}
}

// changes prints the rollouts whose printed form changed since the last call.
func (p *statusPrinter) changes(rollouts []rollout.Rollout, now time.Time) error {
	p.fitColumns(rollouts, now)
	for _, r := range rollouts {
		key := r.Ref()
		var form string
		if p.format == "table" {
			form = p.row(r, r.StartedAt) // the age alone is no change
		} else {
			data, err := json.Marshal(p.item(r))
			if err != nil {
				return err
			}
			form = string(data)
		}
		digest := sha256.Sum256([]byte(form))
		if p.last[key] == digest {
			continue
		}
		p.last[key] = digest
		if p.format == "table" {
			p.header()
			fmt.Fprintln(p.out, p.row(r, now))
		} else if err := p.ndjson(r, now); err != nil {
			return err
		}
	}
	return nil
}

func (p *statusPrinter) ndjson(r rollout.Rollout, now time.Time) error {
	return json.NewEncoder(p.out).Encode(StatusLine{StatusItem: p.item(r), ObservedAt: now.UTC()})
}

func (p *statusPrinter) item(r rollout.Rollout) StatusItem {
	item := StatusItem{Rollout: r}
	if r.Owner != nil && p.owners != nil {
		item.Owner = p.owners(r)
	}
	report := p.verdicts.Report
	if r.Bake != nil {
		item.Bake = &StatusBake{Bake: r.Bake}
		if b, ok := report.Baseline(&r); ok {
			item.Bake.Baseline = &b
		}
	}
	for _, rev := range r.Revisions {
		if m, ok := report.Of(&r, rev.Number); ok {
			if item.Metrics == nil {
				item.Metrics = map[string]metrics.Revision{}
			}
			m.History, m.P95History = nil, nil // a one-shot document has no use for sparklines
			item.Metrics[strconv.FormatInt(rev.Number, 10)] = m
		}
	}
	if !report.At.IsZero() && !report.MetricsOff(&r) {
		j := p.verdicts.Of(r.Ref())
		item.Guard = &GuardVerdict{Verdict: j.Verdict, Why: j.Why, MaxErrorRate: j.Thresholds.MaxErrorRate}
		if j.Thresholds.MaxP95 > 0 {
			item.Guard.MaxP95 = j.Thresholds.MaxP95.String()
		}
	}
	return item
}

// ownerReports reads each owner through reader (one GET per owner object, cached a few
// seconds: a watch printing every change does not ask again for each line).
func ownerReports(ctx context.Context, reader *kube.OwnerReader) func(rollout.Rollout) *owner.Report {
	return func(r rollout.Rollout) *owner.Report {
		return reader.ReadFor(ctx, r.Ref(), *r.Owner).Report(r.Kind)
	}
}

func (p *statusPrinter) state(s rollout.Connection) {
	if p.format == "table" {
		msg := string(s.State)
		if s.Message != "" {
			msg += ": " + s.Message.String()
		}
		fmt.Fprintf(p.errOut, "[%s] %s\n", time.Now().Format("15:04:05"), msg)
		return
	}
	_ = json.NewEncoder(p.out).Encode(WatchStateLine{Kind: "WatchState", State: string(s.State), Since: s.Since, Message: s.Message, At: time.Now().UTC()})
}

// The table fits 80 columns: every column as wide as its widest cell (names capped), WHY
// takes what is left.
const (
	tableWidth   = 80
	maxNameWidth = 30
	maxRevWidth  = 13 // a revision annotation can say any number
	columnSpace  = 2
)

var tableHeader = []safetext.Text{"NAME", "PHASE", "REV", "READY", "AGE", "WHY"}

// maxContextWidth caps the CONTEXT column (the JSON has the whole name).
const maxContextWidth = 16

// titles are the table's column titles: CONTEXT first when several contexts are read.
func (p *statusPrinter) titles() []safetext.Text {
	if len(p.contexts) > 0 {
		return append([]safetext.Text{"CONTEXT"}, tableHeader...)
	}
	return tableHeader
}

// fitColumns sizes the columns for these rollouts; in watch mode the first batch decides.
func (p *statusPrinter) fitColumns(rollouts []rollout.Rollout, now time.Time) {
	if p.widths != nil {
		return
	}
	titles := p.titles()
	p.widths = make([]int, len(titles)-1)
	for i, h := range titles[:len(p.widths)] {
		p.widths[i] = textfmt.Width(h)
	}
	for _, r := range rollouts {
		for i, cell := range p.cells(r, now)[:len(p.widths)] {
			p.widths[i] = max(p.widths[i], textfmt.Width(cell))
		}
	}
	name := 0
	if len(p.contexts) > 0 {
		p.widths[0] = min(p.widths[0], maxContextWidth)
		name = 1
	}
	p.widths[name] = min(p.widths[name], maxNameWidth)
	p.widths[name+2] = min(max(p.widths[name+2], 5), maxRevWidth) // room for "12→13" later
}

func (p *statusPrinter) header() {
	if p.headerDone {
		return
	}
	p.headerDone = true
	fmt.Fprintln(p.out, p.columns(p.titles()))
}

// cells are the row's cells, each a safetext.Text: what the rollout view holds, and what
// this printer writes itself.
func (p *statusPrinter) cells(r rollout.Rollout, now time.Time) []safetext.Text {
	name := safetext.Line(r.Name)
	if p.withNamespace {
		name = safetext.Line(r.Namespace) + "/" + name
	}
	why := r.Why
	if !p.verdicts.Report.At.IsZero() {
		if j := p.verdicts.Of(r.Ref()); j.Verdict == guard.Breach {
			why = "BREACH " + safetext.Line(j.Why) + "; " + why
		}
	}
	cells := []safetext.Text{name, safetext.Line(string(r.Phase)), safetext.Line(r.RevisionLabel("→")),
		safetext.Sprintf("%d/%d", r.Replicas.Ready, r.Replicas.Desired), safetext.Line(textfmt.Age(now.Sub(r.StartedAt), false)), why}
	if len(p.contexts) > 0 {
		return append([]safetext.Text{safetext.Line(r.Cluster)}, cells...)
	}
	return cells
}

func (p *statusPrinter) row(r rollout.Rollout, now time.Time) string {
	return p.columns(p.cells(r, now))
}

// columns lays out one row: each cell clipped and padded to its column, WHY wrapped under
// itself (at most three lines) rather than lose the Python exception.
func (p *statusPrinter) columns(cells []safetext.Text) string {
	var b strings.Builder
	used := 0
	for i, width := range p.widths {
		b.WriteString(string(textfmt.Pad(textfmt.Clip(cells[i], width), width+columnSpace)))
		used += width + columnSpace
	}
	lines := textfmt.Wrap(cells[len(cells)-1], tableWidth-used, 3)
	if len(lines) == 0 {
		lines = []safetext.Text{""}
	}
	b.WriteString(string(lines[0]))
	for _, l := range lines[1:] {
		b.WriteString("\n" + strings.Repeat(" ", used) + string(l))
	}
	return strings.TrimRight(b.String(), " ")
}
