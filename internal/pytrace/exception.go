package pytrace

import (
	"strings"
	"unicode"
)

// exceptionLine is the text shown for an exception line. A SyntaxError's message alone ("invalid
// syntax") does not say where, and the File line above it does, so it gets the location the
// way Python's str(SyntaxError) writes it.
func exceptionLine(trimmed, syntaxLocation string) string {
	if syntaxLocation == "" || !isSyntaxError(trimmed) || hasLocation(trimmed) {
		return trimmed
	}
	return trimmed + " (" + syntaxLocation + ")"
}

func isSyntaxError(s string) bool {
	name, _, _ := strings.Cut(s, ":")
	switch name {
	case "SyntaxError", "IndentationError", "TabError":
		return true
	}
	return false
}

// hasLocation reports a message that already ends like "(app.py, line 12)", as one logged
// with str(e) does.
func hasLocation(s string) bool {
	rest, ok := strings.CutSuffix(s, ")")
	if !ok {
		return false
	}
	at := strings.LastIndex(rest, ", line ")
	return at >= 0 && allDigits(rest[at+len(", line "):]) && at+len(", line ") < len(rest)
}

// looksLikeException checks a line that would end a block begun without a header, where only
// the exception line tells a crash from frames printed for another reason (a stack dump,
// logging's stack_info) followed by an ordinary log line such as "INFO:root:ready".
func looksLikeException(s string) bool {
	name, _, _ := strings.Cut(s, ":")
	if name == "" {
		return false
	}
	for _, part := range strings.Split(name, ".") {
		if !isIdentifier(part) {
			return false
		}
	}
	last := name[strings.LastIndexByte(name, '.')+1:]
	for _, suffix := range [...]string{"Error", "Exception", "Warning", "Exit", "Interrupt", "Iteration", "ExceptionGroup"} {
		if strings.HasSuffix(last, suffix) {
			return true
		}
	}
	return false
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}
