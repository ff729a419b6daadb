package pytrace

import (
	"strings"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// The parser reads the log once, line by line, and remembers only the block it is reading and
// the last one it finished, which keeps a 10 MiB log linear and cheap in memory.
type parser struct {
	src string
	// decodeEscaped is off inside a string already decoded from a log line: a traceback
	// escaped twice over is rare, and decoding every level could make the time quadratic.
	decodeEscaped bool

	state state
	cur   block

	last  Traceback
	found bool
}

type state int

const (
	idle           state = iota
	inFrames             // after a header (or a File line), waiting for the exception line
	inGroup              // inside an exception group's box of "|" and "+" lines
	afterException       // a chain separator may still extend the block
	afterSeparator       // the chain promised another part; its header must come next
)

// block is the traceback being read, as positions in the text so that only the last one has
// its lines copied out.
type block struct {
	startLine, endLine int // End exclusive
	startOff, endOff   int // bytes of src covering those lines
	// cut is how many bytes of the first line (as safetext.Log made it) precede "Traceback": a log prefix.
	cut int
	// headerless blocks start at a File line, as a SyntaxError in the main script does or a log
	// cut by --tail; they only count once an exception line confirms them.
	headerless bool
	// exception belongs to the chain part being read, so it is "" until that part ends.
	exception string
	// syntaxLocation is "app.py, line 12" when the part's last File line is a SyntaxError's.
	syntaxLocation string
}

type line struct {
	index      int
	start, end int // bytes in src, without the newline
	text       string
}

func (p *parser) run() {
	index := 0
	for start := 0; ; index++ {
		end := len(p.src)
		if nl := strings.IndexByte(p.src[start:], '\n'); nl >= 0 {
			end = start + nl
		}
		p.feed(line{index: index, start: start, end: end, text: string(cleanLine(p.src[start:end]))})
		if end == len(p.src) {
			break
		}
		start = end + 1
	}
	p.closeBlock()
}

// cleanLine is a log line as the parser reads it and the console shows it.
func cleanLine(raw string) safetext.Text {
	return safetext.Log(stripKubeTimestamp(raw))
}

func (p *parser) feed(l line) {
	// A JSON record is one line whatever state the parser is in; one holding a traceback ends
	// the block being read, like any other unrelated line would.
	if p.decodeEscaped && strings.Contains(l.text, tracebackHeader) {
		if t, ok := findEscaped(l.text); ok {
			p.closeBlock()
			t.Start, t.End = l.index, l.index+1
			p.record(t)
			return
		}
	}
	switch p.state {
	case idle:
		p.feedIdle(l)
	case inFrames:
		p.feedFrames(l)
	case inGroup:
		p.feedGroup(l)
	case afterException:
		p.feedAfterException(l)
	case afterSeparator:
		p.feedAfterSeparator(l)
	}
}

func (p *parser) feedIdle(l line) {
	if h, ok := parseHeader(l.text); ok {
		p.cur = block{startLine: l.index, startOff: l.start, cut: h.cut}
		p.extend(l)
		p.state = h.state()
		return
	}
	if location, ok := parseFileLine(l.text); ok {
		p.cur = block{startLine: l.index, startOff: l.start, headerless: true, syntaxLocation: location}
		p.extend(l)
		p.state = inFrames
	}
}

func (p *parser) feedFrames(l line) {
	if _, ok := parseHeader(l.text); ok {
		p.closeBlock()
		p.feedIdle(l)
		return
	}
	trimmed := strings.TrimSpace(l.text)
	switch {
	case trimmed == "":
		// Python never prints one here, but a log pipeline might; it ends nothing.
	case l.text[0] == ' ':
		if location, ok := parseFileLine(l.text); ok {
			p.cur.syntaxLocation = location
		}
		p.extend(l)
	case isSeparator(trimmed):
		// The part's exception line was lost; the chain still goes on, and proves the block
		// a traceback even if it began without a header.
		p.extend(l)
		p.cur.headerless = false
		p.state = afterSeparator
	case p.cur.headerless && !looksLikeException(trimmed):
		// Frames without a header and without an exception: a stack dump, not a crash.
		p.state = idle
	default:
		p.cur.exception = exceptionLine(trimmed, p.cur.syntaxLocation)
		p.extend(l)
		p.state = afterException
	}
}

// feedGroup reads an exception group's box. Its exception is the first line of the box that is
// not a frame, which is the group's own "ExceptionGroup: ..." line; the sub-exceptions below
// it are part of the block but do not replace it.
func (p *parser) feedGroup(l line) {
	boxed := strings.TrimLeft(l.text, " ")
	if boxed == "" || (boxed[0] != '|' && boxed[0] != '+') {
		if p.cur.exception == "" {
			p.closeBlock()
			p.feedIdle(l)
			return
		}
		p.state = afterException
		p.feedAfterException(l)
		return
	}
	p.extend(l)
	if p.cur.exception != "" || boxed[0] != '|' {
		return
	}
	content := strings.TrimPrefix(boxed[1:], " ")
	trimmed := strings.TrimSpace(content)
	if content == "" || content[0] == ' ' || isSeparator(trimmed) || strings.Contains(content, tracebackHeader) {
		return
	}
	p.cur.exception = exceptionLine(trimmed, "")
}

func (p *parser) feedAfterException(l line) {
	trimmed := strings.TrimSpace(l.text)
	switch {
	case trimmed == "":
	case isSeparator(trimmed):
		p.extend(l)
		p.cur.exception = ""
		p.cur.headerless = false
		p.state = afterSeparator
	default:
		p.closeBlock()
		p.feedIdle(l)
	}
}

func (p *parser) feedAfterSeparator(l line) {
	if strings.TrimSpace(l.text) == "" {
		return
	}
	if h, ok := parseHeader(l.text); ok {
		p.extend(l)
		p.cur.syntaxLocation = ""
		p.state = h.state()
		return
	}
	// A chained SyntaxError from compile() has no frames, so no header either.
	if location, ok := parseFileLine(l.text); ok {
		p.extend(l)
		p.cur.syntaxLocation = location
		p.state = inFrames
		return
	}
	p.closeBlock()
	p.feedIdle(l)
}

func (p *parser) extend(l line) {
	p.cur.endLine = l.index + 1
	p.cur.endOff = l.end
}

// closeBlock ends the block being read because the log moved on or ended. A block cut short
// is still recorded (with no exception) unless it never had a header to prove it a traceback.
func (p *parser) closeBlock() {
	switch p.state {
	case idle:
		return
	case inFrames:
		if !p.cur.headerless {
			p.record(p.traceback(p.cur))
		}
	default:
		p.record(p.traceback(p.cur))
	}
	p.state = idle
}

func (p *parser) record(t Traceback) {
	p.last, p.found = t, true
}

type header struct {
	cut   int
	group bool
}

func (h header) state() state {
	if h.group {
		return inGroup
	}
	return inFrames
}

// parseHeader recognises a line that ends with "Traceback (most recent call last):". Insisting
// on the end keeps a message that merely quotes the phrase from starting a block; what comes
// before it is a log prefix, or the box drawing of an exception group.
func parseHeader(s string) (header, bool) {
	trimmed := strings.TrimRight(s, " ")
	if !strings.HasSuffix(trimmed, tracebackHeader) {
		return header{}, false
	}
	at := len(trimmed) - len(tracebackHeader)
	prefix := strings.TrimLeft(s[:at], " ")
	if prefix != "" && (prefix[0] == '|' || prefix[0] == '+') {
		return header{group: true}, true
	}
	return header{cut: at}, true
}

var separators = [...]string{
	"During handling of the above exception, another exception occurred:",
	"The above exception was the direct cause of the following exception:",
}

func isSeparator(trimmed string) bool {
	return trimmed == separators[0] || trimmed == separators[1]
}

// parseFileLine recognises an indented `File "app.py", line 12...` line. location is set only
// for the form without ", in func", which Python prints for the place of a SyntaxError.
func parseFileLine(s string) (location string, ok bool) {
	if s == "" || s[0] != ' ' {
		return "", false
	}
	rest, ok := strings.CutPrefix(strings.TrimLeft(s, " "), `File "`)
	if !ok {
		return "", false
	}
	file, number, found := strings.Cut(rest, `", line `)
	if !found || number == "" || !allDigits(number) {
		return "", true
	}
	// Python's own str(SyntaxError) names the file by its base name.
	if slash := strings.LastIndexByte(file, '/'); slash >= 0 {
		file = file[slash+1:]
	}
	return file + ", line " + number, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
