package pytrace

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// findEscaped finds a traceback written as an escaped string inside one log line, the way JSON
// loggers write it: "exception":"Traceback (most recent call last):\n  File ...". The header
// followed by a backslash is what tells such a string apart, so any field (or a logfmt value,
// or a Python repr) is found without knowing the record's layout, and a record cut short by a
// log pipeline still yields what it has. When a line holds several, the last one wins, like
// across lines.
func findEscaped(s string) (Traceback, bool) {
	var last Traceback
	found := false
	for from := 0; from < len(s); {
		k := strings.Index(s[from:], tracebackHeader)
		if k < 0 {
			break
		}
		at := from + k
		after := at + len(tracebackHeader)
		if after >= len(s) || s[after] != '\\' {
			from = after
			continue
		}
		text, n := unescape(s[boxStart(s, at):])
		sub := parser{src: text}
		sub.run()
		if sub.found {
			last, found = sub.last, true
		}
		from = max(after, boxStart(s, at)+n)
	}
	return last, found
}

// boxStart moves back over "  + Exception Group " so that a group's header is decoded with its
// box drawing, which is what marks the lines after it as a group.
func boxStart(s string, at int) int {
	if !strings.HasSuffix(s[:at], "Exception Group ") {
		return at
	}
	at -= len("Exception Group ")
	for at > 0 && (s[at-1] == ' ' || s[at-1] == '+' || s[at-1] == '|') {
		at--
	}
	return at
}

// unescape decodes a JSON (or Python repr) string body up to its closing quote and returns it
// with the bytes it used. Unknown escapes are kept as written rather than rejected: a little
// noise in a line beats losing the traceback.
func unescape(s string) (string, int) {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c == '"' {
			return b.String(), i + 1
		}
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch e := s[i+1]; e {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '"', '\\', '/', '\'':
			b.WriteByte(e)
		case 'b', 'f':
			// Backspace and form feed: nothing a reader needs (safetext.Log would escape them).
		case 'u':
			r, n := unescapeRune(s[i:])
			if n == 0 {
				b.WriteString(`\u`)
			} else {
				b.WriteRune(r)
				i += n
				continue
			}
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
		i += 2
	}
	return b.String(), len(s)
}

// unescapeRune decodes \uXXXX at the start of s, and a following low surrogate if the first
// is a high one; a lone surrogate becomes U+FFFD. n is 0 when s has no valid \uXXXX.
func unescapeRune(s string) (r rune, n int) {
	first, ok := hex4(s)
	if !ok {
		return 0, 0
	}
	if !utf16.IsSurrogate(first) {
		return first, 6
	}
	if second, ok := hex4(s[6:]); ok {
		if pair := utf16.DecodeRune(first, second); pair != utf8.RuneError {
			return pair, 12
		}
	}
	return utf8.RuneError, 6
}

// hex4 reads the XXXX of a \uXXXX at the start of s.
func hex4(s string) (rune, bool) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[2:6]) {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
