// Package pytrace finds the Python traceback in a container's log, so the console can show
// why a Python pod crashed without anyone scrolling through kubectl logs.
//
// It reads what Python and the usual servers print, not a grammar: a block starts at a line
// ending in "Traceback (most recent call last):" (after any log prefix), or at an indented
// `File "..."` line when the header is missing, as for a SyntaxError in the main script or a
// log cut by --tail; it ends at the first unindented line after the frames, unless a chain
// separator carries it on. Tracebacks escaped inside one line (JSON records) are decoded.
// kubectl's --timestamps prefix is ignored. Everything returned is safe to print.
package pytrace

import (
	"strings"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Traceback is the last Python traceback found in a log, with its chained causes.
type Traceback struct {
	// Lines of the whole block, in order, from the first "Traceback (most recent call last):"
	// of the chain (including "During handling of the above exception..." / "The above
	// exception was the direct cause..." separators) to the final exception line. Lines taken
	// from JSON log records are decoded (the JSON string's \n split into lines). A log prefix
	// before the first "Traceback" is left out. Only the last 200 lines are kept, as the end
	// of a deep stack is where the crash is; Lines can then be shorter than End-Start.
	Lines []safetext.Text
	// Start and End are the indexes (0-based, End exclusive) of the log lines the block spans,
	// so a viewer can highlight them; for a traceback embedded in one JSON line, Start = that
	// line, End = Start+1.
	Start, End int
	// Exception is the final exception line, e.g. "ModuleNotFoundError: No module named
	// 'orjson'"; for a SyntaxError, "SyntaxError: invalid syntax (app.py, line 12)" if
	// file/line can be found from the preceding `  File "app.py", line 12` line, else just the
	// SyntaxError line. It is "" when the log ends (or moves on) before the final exception
	// line was written: the block is still the last traceback, and an earlier, complete one
	// would name the wrong crash.
	Exception safetext.Text
}

const (
	tracebackHeader = "Traceback (most recent call last):"
	maxLines        = 200
	maxExceptionLen = 300
)

// Find returns the last traceback in the log, if any.
func Find(log string) (Traceback, bool) {
	p := parser{src: log, decodeEscaped: true}
	p.run()
	return p.last, p.found
}

// traceback turns a block of the parsed text into the Traceback the caller sees, cleaning
// only the lines it keeps.
func (p *parser) traceback(b block) Traceback {
	t := Traceback{Start: b.startLine, End: b.endLine, Exception: safetext.LineN(b.exception, maxExceptionLen)}
	count := b.endLine - b.startLine
	skip := max(0, count-maxLines)
	t.Lines = make([]safetext.Text, 0, count-skip)
	text := p.src[b.startOff:b.endOff]
	for i := 0; i < count; i++ {
		raw := text
		if nl := strings.IndexByte(text, '\n'); nl >= 0 {
			raw, text = text[:nl], text[nl+1:]
		} else {
			text = ""
		}
		if i < skip {
			continue
		}
		s := cleanLine(raw)
		if i == 0 {
			s = s[min(b.cut, len(s)):]
		}
		t.Lines = append(t.Lines, s)
	}
	return t
}
