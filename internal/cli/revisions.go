package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/revisions"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/internal/textfmt"
)

// RevisionsOptions are `history`'s and `diff`'s.
type RevisionsOptions struct {
	*Options
	TargetOptions
	Output   string
	From, To int64
}

func newHistoryCommand(o *Options) *cobra.Command {
	ro := &RevisionsOptions{Options: o}
	cmd := &cobra.Command{
		Use:   "history NAME",
		Short: "List a rollout's revisions with the build each runs (SHA, version, lock hash, Python, image)",
		Long: `List a Deployment's revisions, newest first, with what each one runs: git SHA,
version, dependency-lock hash, Python version, CI pipeline run, image and the digest its
pods report, and its role (canary, stable, old). Like 'kubectl rollout history', but it
answers "which build is that?" without reading YAML.

The build metadata comes from the pod template's annotations (or labels) that CI stamps:
org.opencontainers.image.revision/source/version/created, pyroll.dev/lock-hash,
pyroll.dev/python-version, pyroll.dev/pipeline-run (see the README).`,
		Example: `  kubectl pyroll history orders-api -n shop
  kubectl pyroll history orders-api -o json | jq '.revisions[0].provenance.gitSHA'`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := ro.Complete(args); err != nil {
				return err
			}
			if err := ro.validateOutput("table"); err != nil {
				return err
			}
			return ro.history(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&ro.Output, "output", "o", "table", "output format: table or json")
	return cmd
}

func newDiffCommand(o *Options) *cobra.Command {
	ro := &RevisionsOptions{Options: o}
	cmd := &cobra.Command{
		Use:   "diff NAME",
		Short: "What changed between two revisions: build (SHA, image, digest, lock hash, Python) and pod template",
		Long: `Show what changed between two revisions of a Deployment: git SHA (with the
forge's compare link), version, image and running digest, dependency-lock hash, Python
version, pipeline run, then the pod template: env vars added, removed or changed (values
of secret-looking names masked), resources, probes, command and args.

Without --from/--to it compares the stable revision with the canary (the rollout in
progress), else the previous revision with the current one.`,
		Example: `  kubectl pyroll diff orders-api -n shop
  kubectl pyroll diff orders-api --from 5 --to 7
  kubectl pyroll diff orders-api -o json | jq .build`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := ro.Complete(args); err != nil {
				return err
			}
			if err := ro.validateOutput("text"); err != nil {
				return err
			}
			if (ro.From == 0) != (ro.To == 0) {
				return usageError("give both --from and --to, or neither (stable to canary)")
			}
			return ro.diff(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&ro.Output, "output", "o", "text", "output format: text or json")
	cmd.Flags().Int64Var(&ro.From, "from", 0, "the older revision")
	cmd.Flags().Int64Var(&ro.To, "to", 0, "the newer revision")
	return cmd
}

// validateOutput accepts the command's own format (table or text) and json.
func (o *RevisionsOptions) validateOutput(own string) error {
	if o.Output == own || o.Output == "json" {
		return nil
	}
	return usageError("unknown output format %q: use %s or json", o.Output, own)
}

// load connects and reads the rollout's revisions.
func (o *RevisionsOptions) load(ctx context.Context) (*revisions.History, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	cluster, err := o.connect(ctx, connectTimeout)
	if err != nil {
		return nil, err
	}
	target, err := o.resolve(ctx, cluster)
	if err != nil {
		return nil, err
	}
	return readHistory(ctx, cluster, target, time.Now())
}

// HistoryDocument is `history -o json`.
type HistoryDocument struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"` // RolloutHistory
	Namespace  string             `json:"namespace"`
	Name       string             `json:"name"`
	Revisions  []rollout.Revision `json:"revisions"`
}

func (o *RevisionsOptions) history(ctx context.Context) error {
	h, err := o.load(ctx)
	if err != nil {
		return err
	}
	return writeHistory(o.Out, h.Rollout, o.Output, time.Now())
}

// writeHistory prints the revisions as the table or the JSON document.
func writeHistory(out io.Writer, r rollout.Rollout, format string, now time.Time) error {
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(HistoryDocument{APIVersion: statusAPIVersion, Kind: "RolloutHistory", Namespace: r.Namespace, Name: r.Name, Revisions: r.Revisions})
	}
	return writeHistoryTable(out, r, now)
}

// writeHistoryTable is one line per revision, 80 columns for the usual values; the
// warnings (a moved tag) follow the table. Every cell is a safetext.Text, as the revision
// view holds it.
func writeHistoryTable(out io.Writer, r rollout.Rollout, now time.Time) error {
	rows := [][]safetext.Text{{"REV", "ROLE", "AGE", "PODS", "SHA", "VERSION", "LOCK", "PYTHON", "IMAGE"}}
	charts := slices.ContainsFunc(r.Revisions, func(rev rollout.Revision) bool { return rev.Chart != nil })
	if charts {
		// The Helm chart each revision came from, where a release of its Helm owner says.
		rows[0] = append(rows[0], "CHART")
	}
	var warnings []safetext.Text
	for _, rev := range r.Revisions {
		p := rev.Provenance
		image := safetext.Join(rev.Images, ",")
		if d := p.Digest(); d != "" {
			image += "@" + textfmt.Clip(safetext.Line(d), 19)
		}
		rows = append(rows, []safetext.Text{
			safetext.Sprintf("%d", rev.Number), safetext.Line(string(rev.Role)), safetext.Line(textfmt.Age(now.Sub(rev.CreatedAt), true)),
			safetext.Sprintf("%d/%d", rev.Ready, rev.Desired), orDash(p.ShortSHA()), orDash(textfmt.Clip(p.Version, 12)),
			orDash(textfmt.Clip(p.LockHash, 14)), orDash(p.Python), image,
		})
		if charts {
			chart := safetext.Text("-")
			if rev.Chart != nil {
				chart = rev.Chart.Text()
			}
			rows[len(rows)-1] = append(rows[len(rows)-1], chart)
		}
		for _, w := range p.Warnings {
			warnings = append(warnings, safetext.Sprintf("rev %d: %s", rev.Number, w))
		}
	}
	if err := textfmt.Table(out, rows, 2); err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(out, "warning: "+w)
	}
	return nil
}

func orDash(s safetext.Text) safetext.Text {
	if s == "" {
		return "-"
	}
	return s
}

// DiffDocument is `diff -o json`.
type DiffDocument struct {
	APIVersion   string `json:"apiVersion"`
	Kind         string `json:"kind"` // RevisionDiff
	Namespace    string `json:"namespace"`
	Name         string `json:"name"`
	FromRevision int64  `json:"fromRevision"`
	ToRevision   int64  `json:"toRevision"`
	// FromChart and ToChart are the Helm charts the two revisions came from, where a
	// release of the rollout's Helm owner says.
	FromChart *owner.Chart `json:"fromChart,omitempty"`
	ToChart   *owner.Chart `json:"toChart,omitempty"`
	provenance.Diff
}

func (o *RevisionsOptions) diff(ctx context.Context) error {
	h, err := o.load(ctx)
	if err != nil {
		return err
	}
	arrows := provenance.UnicodeArrows
	if o.ASCII {
		arrows = provenance.ASCIIArrows
	}
	return writeDiff(o.Out, h, o.From, o.To, o.Output, arrows)
}

// writeDiff prints what changed from revision from to to (both 0: the default pair) as
// text or the JSON document.
func writeDiff(out io.Writer, h *revisions.History, from, to int64, format string, arrows provenance.Arrows) error {
	var err error
	if from == 0 {
		if from, to, err = h.DefaultPair(); err != nil {
			return err
		}
	}
	d, err := h.Diff(from, to)
	if err != nil {
		return err
	}
	fromChart, toChart := chartOf(h.Rollout, from), chartOf(h.Rollout, to)
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(DiffDocument{APIVersion: statusAPIVersion, Kind: "RevisionDiff", Namespace: h.Rollout.Namespace, Name: h.Rollout.Name, FromRevision: from, ToRevision: to, FromChart: fromChart, ToChart: toChart, Diff: d})
	}
	if fromChart != nil || toChart != nil {
		fmt.Fprintf(out, "helm chart: %s %s %s\n", chartText(fromChart), arrows.To, chartText(toChart))
	}
	for _, l := range d.Lines(from, to, arrows) {
		fmt.Fprintln(out, l.Text)
	}
	return nil
}

func chartOf(r rollout.Rollout, n int64) *owner.Chart {
	for _, rev := range r.Revisions {
		if rev.Number == n {
			return rev.Chart
		}
	}
	return nil
}

func chartText(c *owner.Chart) safetext.Text {
	if c == nil {
		return "(no release rendered it)"
	}
	return c.Text()
}
