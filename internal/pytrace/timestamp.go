package pytrace

// stripKubeTimestamp drops the RFC 3339 timestamp that `kubectl logs --timestamps` (the
// kubelet, really) puts before every line, such as "2026-11-23T10:00:00.123456789Z ". Left in,
// it would make every frame of a traceback look like an unindented exception line.
func stripKubeTimestamp(s string) string {
	// 2026-11-23T10:00:00
	const layout = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(layout)+1 {
		return s
	}
	for i := 0; i < len(layout); i++ {
		if layout[i] == 'd' && !isDigit(s[i]) || layout[i] != 'd' && s[i] != layout[i] {
			return s
		}
	}
	i := len(layout)
	if s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	switch {
	case i < len(s) && s[i] == 'Z':
		i++
	case i+6 <= len(s) && (s[i] == '+' || s[i] == '-') && isDigit(s[i+1]) && isDigit(s[i+2]) && s[i+3] == ':' && isDigit(s[i+4]) && isDigit(s[i+5]):
		i += 6
	default:
		return s
	}
	switch {
	case i == len(s): // an empty line, its separating space trimmed somewhere on the way
		return ""
	case s[i] == ' ':
		return s[i+1:]
	}
	return s
}

func isDigit(c byte) bool {
	return c >= '0' && c <= '9'
}
