package pytrace

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// sanitize makes one log line safe to print in the console: a log is written by the pod, so
// its escape sequences could move the cursor, retitle the window or hide text. Escape
// sequences and control characters are dropped, a tab becomes one space (which keeps a
// SyntaxError's caret under the right character, as Python counts a tab as one), and invalid
// UTF-8 becomes U+FFFD.
func sanitize(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1b:
			i = skipEscape(s, i+1)
			continue
		case c == '\t':
			b.WriteByte(' ')
		case c < 0x20 || c == 0x7f:
		case c < utf8.RuneSelf:
			b.WriteByte(c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				b.WriteRune(utf8.RuneError)
			case r == 0x9b: // the one-character form of ESC [
				i = skipControlSequence(s, i+size)
				continue
			case r == 0x90 || r == 0x9d || r == 0x98 || r == 0x9e || r == 0x9f: // DCS, OSC, SOS, PM, APC
				i = skipControlString(s, i+size)
				continue
			case r == '\u2028' || r == '\u2029':
				b.WriteByte(' ')
			case unicode.IsControl(r) || isBidiControl(r):
			default:
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		i++
	}
	return b.String()
}

// isClean is the fast path for the usual line: printable ASCII, or valid UTF-8 with nothing
// that sanitize would change.
func isClean(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || unicode.IsControl(r) || isBidiControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}

// isBidiControl reports the embedding, override and isolate characters, which reorder the
// text around them on screen and so can make a line read differently from what it says.
func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// skipEscape returns where the escape sequence whose ESC precedes i ends. A malformed one ends
// at the first byte that cannot belong to it, so no text after it is swallowed.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipControlSequence(s, i+1)
	case ']', 'P', 'X', '^', '_':
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

// clip cuts s to at most n runes, ending with an ellipsis when it cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := 0
	for count := 0; count < n-1; count++ {
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
	}
	return s[:cut] + "…"
}
