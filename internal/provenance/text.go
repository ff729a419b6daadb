package provenance

import (
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Arrows are the glyphs a text diff uses; ASCII terminals get "->".
type Arrows struct{ To safetext.Text }

// Unicode and ASCII arrows.
var (
	UnicodeArrows = Arrows{To: "→"}
	ASCIIArrows   = Arrows{To: "->"}
)

// Line is one line of a text diff; Kind says how to colour it ("" for headings).
type Line struct {
	Text safetext.Text
	Kind string
}

// MaxShownChanges is how many changes of a section the text shows: a template that sets
// 10,000 environment variables would bury the rest (and fill a report and a clipboard).
const MaxShownChanges = 200

// Lines renders the diff as text, the same in the `diff` command, the console and the
// incident snapshot: the build first (what CI produced), then the rest of the template.
func (d Diff) Lines(fromRev, toRev int64, a Arrows) []Line {
	lines := []Line{{Text: safetext.Sprintf("what changed from rev %d to rev %d", fromRev, toRev)}}
	section := func(title safetext.Text, changes []Change) {
		lines = append(lines, Line{Text: title})
		if len(changes) == 0 {
			lines = append(lines, Line{Text: "  (no change)"})
		}
		for i, c := range changes {
			if i == MaxShownChanges {
				lines = append(lines, Line{Text: safetext.Sprintf("  … %d more changes (-o json lists them all)", len(changes)-i)})
				break
			}
			lines = append(lines, Line{Text: c.Text(a), Kind: c.Kind})
		}
	}
	section("build", d.Build)
	if d.CompareURL != "" {
		lines = append(lines, Line{Text: "  code: " + d.CompareURL})
	}
	section("pod template", d.Template)
	return lines
}

// Text is "~ version: 1.7.3 → 1.8.0", "+ env PROFILE (app): on" or "- ...".
func (c Change) Text(a Arrows) safetext.Text {
	switch c.Kind {
	case KindAdded:
		return "  + " + c.Field + ": " + c.To
	case KindRemoved:
		return "  - " + c.Field + ": " + c.From
	}
	return "  ~ " + c.Field + ": " + c.From + " " + a.To + " " + c.To
}
