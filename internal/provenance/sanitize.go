package provenance

import (
	"unicode"
	"unicode/utf8"
)

// Every value this package returns comes from objects anyone with edit rights
// on the namespace can write, and ends up in a terminal: an escape sequence in an
// annotation could recolour, move the cursor or retitle the on-call engineer's
// window. Widths are bounded because one list cell must not push the rest away.
const (
	valueLimit = 120
	// urlLimit is wider because a clipped link is useless.
	urlLimit = 300
	// shortLimit fits the SHA column when the revision is not a hex SHA.
	shortLimit = 12
)

const ellipsis = '…'

// sanitize returns s as one printable line of at most limit runes. It stops
// reading once it knows the value must be clipped, so a megabyte annotation costs
// no more than a short one.
func sanitize(s string, limit int) string {
	if limit < 1 {
		return ""
	}
	if plainASCII(s, limit) {
		return s // the usual value: nothing to clean, no copy to make
	}
	out := make([]rune, 0, min(len(s), limit))
	truncated := false
scan:
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		// An invalid byte decodes as utf8.RuneError, which is U+FFFD itself.
		switch {
		case r == 0x1b:
			i = skipEscape(s, i)
			continue
		case r == 0x9b:
			i = skipControlSequence(s, i)
			continue
		case startsControlString(r):
			i = skipControlString(s, i)
			continue
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				i++
			}
			r = ' '
		case r == '\t' || isLineBreak(r):
			r = ' '
		case unicode.IsControl(r) || isBidiControl(r):
			continue
		}
		if r == ' ' && len(out) == 0 {
			continue
		}
		if len(out) >= limit {
			// Trailing blanks alone do not make a value longer than it looks.
			if r == ' ' {
				continue
			}
			truncated = true
			break scan
		}
		out = append(out, r)
	}
	if truncated {
		out = out[:limit-1]
	}
	out = trimTrailingSpaces(out)
	if truncated {
		out = append(out, ellipsis)
	}
	return string(out)
}

func trimTrailingSpaces(rs []rune) []rune {
	for len(rs) > 0 && rs[len(rs)-1] == ' ' {
		rs = rs[:len(rs)-1]
	}
	return rs
}

func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\v', '\f', 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// isBidiControl reports the invisible characters that reorder what follows them
// ("Trojan Source"), which would make a value display as something it is not.
func isBidiControl(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// startsControlString reports the C1 introducers of OSC, DCS, SOS, PM and APC,
// whose payload runs until a string terminator.
func startsControlString(r rune) bool {
	switch r {
	case 0x90, 0x98, 0x9d, 0x9e, 0x9f:
		return true
	}
	return false
}

// skipEscape returns the index just past the escape sequence whose ESC ended
// right before i, following ECMA-48 so that the parameters are dropped together
// with the introducer instead of being printed as text.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipControlSequence(s, i+1)
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		return skipControlString(s, i+1)
	case c >= 0x20 && c <= 0x2f:
		j := i
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
			j++
		}
		if j < len(s) && s[j] >= 0x30 && s[j] <= 0x7e {
			j++
		}
		return j
	case c >= 0x30 && c <= 0x7e:
		return i + 1
	default:
		return i
	}
}

// skipControlSequence skips CSI parameters and intermediates and the final byte.
// A byte that cannot belong to the sequence ends it without being consumed.
func skipControlSequence(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 0x20 && c <= 0x3f:
			i++
		case c >= 0x40 && c <= 0x7e:
			return i + 1
		default:
			return i
		}
	}
	return i
}

// skipControlString skips to just past BEL, ESC \ or U+009C. An unterminated
// string swallows the rest of the value, as a terminal would.
func skipControlString(s string, i int) int {
	for j := i; j < len(s); j++ {
		switch {
		case s[j] == 0x07:
			return j + 1
		case s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\':
			return j + 2
		case s[j] == 0xc2 && j+1 < len(s) && s[j+1] == 0x9c:
			return j + 2
		}
	}
	return len(s)
}

// isHex reports whether s is non-empty and only hex digits, either case, as git
// accepts revisions in both.
func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// plainASCII reports whether s is printable ASCII, fits in limit, and has no blank at
// either end: a value sanitize would return unchanged.
func plainASCII(s string, limit int) bool {
	if len(s) > limit || (len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ')) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
