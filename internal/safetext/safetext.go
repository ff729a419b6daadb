// Package safetext is the one boundary between text that others wrote and the terminal,
// the report file and the JSON documents kubectl-pyroll writes.
//
// Anyone who may create a Deployment, an Event or a pod in a namespace writes strings we
// print: names, images, annotations, event reasons and messages, termination messages,
// Argo analysis messages and values, log lines; Prometheus and the config file write a few
// more. Printed raw, an escape sequence in one of them would recolour the screen, move the
// cursor, retitle the window or set the clipboard of the on-call engineer's terminal (OSC
// 52), and a bidi override would make a value read as something it is not. kubectl had
// this class of bug (CVE-2021-25743).
//
// The rule: such a string becomes a Text once, where it enters a view struct, through
// Line, LineN, Block, Log or Sprintf; printers take Texts and never clean anything
// themselves. A Text holds no byte below 0x20 but the newlines of a Block, no DEL, no C1
// control, no escape sequence, no bidi control or other invisible format character, only
// valid UTF-8, at most eight combining marks on one character, and a bounded number of
// runes. What was removed shows, Go-style: ESC as \x1b, U+202E as \u202e, an invalid byte
// as \xff, a newline inside a single-line field as \n. A Log line drops its escape
// sequences (a coloured log keeps its words) and escapes the rest the same way.
//
// A Text is not reversible: a literal backslash is not escaped. It is for reading.
package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text is a string safe to write to a terminal, a Markdown report or a JSON document.
// Convert a string to it only through this package's functions; a conversion Text(s)
// outside this package is for strings the program itself wrote (tests check for it).
type Text string

// String is the text as a string, for printing.
func (t Text) String() string { return string(t) }

// Limits, in runes of the escaped text.
const (
	// MaxLine bounds a single-line field: four times a name's 253, room for a long image
	// reference or event message, and a cap on what a 1 MiB annotation costs to print.
	MaxLine = 1024
	// MaxBlock bounds a multi-line field (a termination message is at most 4096 bytes).
	MaxBlock = 16384
	// maxMarks is how many combining marks one character keeps; more are escaped, so a
	// stack of thousands cannot grow one cell into a column. (Scripts that stack marks
	// use up to four.)
	maxMarks = 8
)

// Ellipsis ends a text that was clipped.
const Ellipsis = '…'

// Line is s as one line of at most MaxLine runes, blanks at either end trimmed.
func Line(s string) Text { return LineN(s, MaxLine) }

// LineN is s as one line of at most limit runes (ending in an ellipsis when clipped). It
// stops reading once it knows the value must be clipped, so a megabyte annotation costs
// no more than a short one.
func LineN(s string, limit int) Text {
	if limit < 1 {
		return ""
	}
	if plainLine(s, limit) {
		return Text(s) // the usual value: nothing to escape, no copy to make
	}
	return Text(escape(trimSpace(s), limit, modeLine))
}

// Block is s with its lines kept (CR LF read as LF), at most MaxBlock runes, trailing
// blanks trimmed: a termination message or a traceback.
func Block(s string) Text {
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	if plainBlock(s) {
		return Text(s)
	}
	return Text(escape(s, MaxBlock, modeBlock))
}

// Log is one log line as the console shows it: its escape sequences (colours, titles,
// hyperlinks) dropped with their parameters, so the words stay, and everything else
// escaped as in Line; a tab is one space (Python counts it as one column, so a
// SyntaxError's caret stays under its character). Not clipped: the log reader bounds
// what it reads.
func Log(s string) Text {
	s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	if plainLog(s) {
		return Text(s)
	}
	return Text(escape(s, -1, modeLog))
}

// Lines is Line of each string (nil for none).
func Lines(ss []string) []Text {
	if len(ss) == 0 {
		return nil
	}
	out := make([]Text, len(ss))
	for i, s := range ss {
		out[i] = Line(s)
	}
	return out
}

// Sprintf formats as fmt.Sprintf does and makes the result one line of at most MaxLine
// runes, as Line does but keeping leading blanks (an indented line): the format is the
// program's, the arguments may be anyone's (a Text argument comes out as it is).
func Sprintf(format string, args ...any) Text {
	s := fmt.Sprintf(format, args...)
	if len(s) <= MaxLine && printableASCII(s, false) {
		return Text(s)
	}
	return Text(escape(s, MaxLine, modeLine))
}

// Join joins texts with sep, as strings.Join.
func Join(texts []Text, sep string) Text {
	switch len(texts) {
	case 0:
		return ""
	case 1:
		return texts[0]
	}
	var b strings.Builder
	if !plainLog(sep) {
		sep = escape(sep, -1, modeLine)
	}
	for i, t := range texts {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(string(t))
	}
	return Text(b.String())
}

// Builder builds a Text from Texts and formatted pieces, as a strings.Builder builds a
// string. The zero value is ready to use.
type Builder struct{ b strings.Builder }

// WriteText appends t.
func (b *Builder) WriteText(t Text) { b.b.WriteString(string(t)) }

// Printf appends Sprintf(format, args...).
func (b *Builder) Printf(format string, args ...any) { b.WriteText(Sprintf(format, args...)) }

// Len is the number of bytes written.
func (b *Builder) Len() int { return b.b.Len() }

// Text is what was written.
func (b *Builder) Text() Text { return Text(b.b.String()) }

// Error wraps err so that its message is a Line: what a server answered is in it. errors.Is
// and errors.As still see err. Nil stays nil.
func Error(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(safeError); ok {
		return err
	}
	return safeError{err: err, msg: Line(err.Error())}
}

type safeError struct {
	err error
	msg Text
}

func (e safeError) Error() string { return string(e.msg) }
func (e safeError) Unwrap() error { return e.err }

// Strings are the texts as strings.
func Strings(texts []Text) []string {
	out := make([]string, len(texts))
	for i, t := range texts {
		out[i] = string(t)
	}
	return out
}

// Unsafe reports the first thing in s that a Text may not hold and its byte offset, with
// newlines allowed: what the tests assert of every output. ok is false when s is safe.
func Unsafe(s string) (what string, at int, ok bool) {
	marks := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Sprintf("invalid UTF-8 byte %#x", s[i]), i, true
		case r == '\n':
			marks = -1
		case escaped(r):
			return fmt.Sprintf("%U", r), i, true
		case isMark(r):
			if marks < 0 || marks >= maxMarks {
				return fmt.Sprintf("combining mark %U past %d", r, maxMarks), i, true
			}
			marks++
		default:
			marks = 0
		}
		i += size
	}
	return "", 0, false
}

type mode int

const (
	modeLine  mode = iota // one line: newlines shown as \n
	modeBlock             // lines kept
	modeLog               // one log line: escape sequences dropped
)

// escape writes s safely; limit < 0 means no limit.
func escape(s string, limit int, m mode) string {
	w := writer{limit: limit, marks: -1}
	if limit < 0 {
		w.b.Grow(len(s))
	} else {
		w.b.Grow(min(len(s), 2*limit) + 8)
	}
	for i := 0; i < len(s) && !w.full; {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			w.rune(rune(c))
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			w.escapeByte(c)
		case m == modeLog && c == 0x1b:
			i = skipEscape(s, i+1)
			continue
		case m == modeLog && r == 0x9b: // the one-character form of ESC [
			i = skipControlSequence(s, i+size)
			continue
		case m == modeLog && startsControlString(r):
			i = skipControlString(s, i+size)
			continue
		case r == '\t':
			w.rune(' ')
		case r == '\r' && m == modeLog && (i+1 == len(s) || s[i+1] == '\n'):
			// The end of a CR LF line: nothing to show.
		case r == '\r' && i+1 < len(s) && s[i+1] == '\n':
			size++ // CR LF is one newline
			w.newline(m)
		case r == '\n':
			w.newline(m)
		case escaped(r):
			w.escape(r)
		case isMark(r):
			if w.marks < 0 || w.marks >= maxMarks {
				w.escape(r)
			} else {
				w.marks++
				w.rune(r)
			}
		default:
			w.rune(r)
		}
		i += size
	}
	return w.finish(m)
}

// writer counts the runes it writes and stops at the limit, keeping one for the ellipsis.
type writer struct {
	b     strings.Builder
	limit int
	n     int
	full  bool
	// cut is the length of the longest prefix, ending between two whole runes or escapes,
	// that leaves room for the ellipsis.
	cut int
	// marks counts the combining marks on the last character; -1 when there is none for a
	// mark to sit on (the start, a newline, an escape), which a mark is then escaped for.
	marks int
}

func (w *writer) fits(runes int) bool {
	if w.limit < 0 || w.n+runes <= w.limit {
		return true
	}
	w.full = true
	return false
}

func (w *writer) rune(r rune) {
	if !w.fits(1) {
		return
	}
	w.b.WriteRune(r)
	w.wrote(1)
	if !isMark(r) {
		w.marks = 0
	}
}

func (w *writer) wrote(runes int) {
	w.n += runes
	if w.n < w.limit {
		w.cut = w.b.Len()
	}
}

// escape writes r as a visible escape, whole or not at all: half of \x1b would read as
// text.
func (w *writer) escape(r rune) {
	var buf [10]byte
	w.write(appendEscape(buf[:0], r))
}

// escapeByte writes an invalid UTF-8 byte as \xNN.
func (w *writer) escapeByte(c byte) {
	var buf [4]byte
	w.write(appendHex(append(buf[:0], '\\', 'x'), rune(c), 2))
}

func (w *writer) write(e []byte) {
	if !w.fits(len(e)) {
		return
	}
	w.b.Write(e)
	w.wrote(len(e))
	w.marks = -1
}

func (w *writer) newline(m mode) {
	if m != modeBlock {
		w.escape('\n')
		return
	}
	if w.fits(1) {
		w.b.WriteByte('\n')
		w.wrote(1)
		w.marks = -1
	}
}

func (w *writer) finish(m mode) string {
	if !w.full {
		if m == modeLog {
			return w.b.String()
		}
		return strings.TrimRightFunc(w.b.String(), unicode.IsSpace)
	}
	// Clipped: the ellipsis takes the place of the last rune or escape.
	return strings.TrimRightFunc(w.b.String()[:w.cut], unicode.IsSpace) + string(Ellipsis)
}

// escaped reports the runes a Text shows as an escape: C0 and C1 controls and DEL, every
// format character (bidi controls, zero-width spaces and joiners, the BOM, tags), line and
// paragraph separators, noncharacters, and the blank Hangul fillers that render as
// nothing.
func escaped(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return true
	case r < 0xa0:
		return r >= 0x80
	case r < 0x300:
		return r == 0xad // soft hyphen, the only format character below U+0300
	}
	switch r {
	case 0x115f, 0x1160, 0x3164, 0xffa0, 0x2028, 0x2029:
		return true
	}
	return unicode.Is(unicode.Cf, r) || (r >= 0xfdd0 && r <= 0xfdef) || r&0xfffe == 0xfffe
}

// isMark reports a character that takes no cell of its own but joins the one before: a
// combining mark, an emoji skin-tone modifier, a conjoining Hangul vowel or final.
func isMark(r rune) bool {
	switch {
	case r < 0x300:
		return false
	case r >= 0x1f3fb && r <= 0x1f3ff, r >= 0x1160 && r <= 0x11ff, r >= 0xd7b0 && r <= 0xd7ff:
		return true
	}
	return unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r)
}

// appendEscape appends \n, \r, \xNN (below U+0080), \uNNNN (a C1 control too, told apart
// from an invalid byte) or \UNNNNNNNN.
func appendEscape(b []byte, r rune) []byte {
	switch {
	case r == '\n':
		return append(b, '\\', 'n')
	case r == '\r':
		return append(b, '\\', 'r')
	case r < 0x80:
		return appendHex(append(b, '\\', 'x'), r, 2)
	case r <= 0xffff:
		return appendHex(append(b, '\\', 'u'), r, 4)
	default:
		return appendHex(append(b, '\\', 'U'), r, 8)
	}
}

func appendHex(b []byte, r rune, digits int) []byte {
	const hex = "0123456789abcdef"
	for shift := 4 * (digits - 1); shift >= 0; shift -= 4 {
		b = append(b, hex[(r>>shift)&0xf])
	}
	return b
}

// trimSpace trims blanks, newlines included, from both ends.
func trimSpace(s string) string { return strings.TrimFunc(s, unicode.IsSpace) }

// plainLine reports printable ASCII that fits in limit with no blank at either end: a
// value LineN returns unchanged.
func plainLine(s string, limit int) bool {
	if len(s) > limit || (len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ')) {
		return false
	}
	return printableASCII(s, false)
}

// plainBlock reports printable ASCII lines (LF only) within MaxBlock.
func plainBlock(s string) bool {
	return len(s) <= MaxBlock && printableASCII(s, true)
}

// plainLog reports printable ASCII without tabs: a log line Log returns unchanged.
func plainLog(s string) bool { return printableASCII(s, false) }

func printableASCII(s string, newlines bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 || c > 0x7e) && !(newlines && c == '\n') {
			return false
		}
	}
	return true
}

// startsControlString reports the C1 introducers of DCS, SOS, OSC, PM and APC, whose
// payload runs until a string terminator.
func startsControlString(r rune) bool {
	switch r {
	case 0x90, 0x98, 0x9d, 0x9e, 0x9f:
		return true
	}
	return false
}

// skipEscape returns where the escape sequence whose ESC precedes i ends, following
// ECMA-48 so that the parameters go with the introducer instead of being printed as text.
// A malformed one ends at the first byte that cannot belong to it, so no text after it is
// swallowed.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipControlSequence(s, i+1)
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC
		return skipControlString(s, i+1)
	}
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f { // intermediate bytes, as in ESC ( B
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipControlSequence skips a CSI sequence's parameters, intermediates and final byte.
func skipControlSequence(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipControlString skips an OSC or similar string up to its terminator (BEL, ESC \ or the
// one-character ST), or up to any other control character, where a malformed one stops.
func skipControlString(s string, i int) int {
	for i < len(s) {
		switch c := s[i]; {
		case c == 0x07:
			return i + 1
		case c == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i
		case c == 0xc2 && i+1 < len(s) && s[i+1] == 0x9c:
			return i + 2
		case c < 0x20:
			return i
		}
		i++
	}
	return i
}
