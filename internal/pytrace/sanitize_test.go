package pytrace

import "testing"

func TestSanitize(t *testing.T) {
	tests := map[string]string{
		"plain":                "plain",
		"\x1b[1;31mred\x1b[0m": "red",
		"\x1b]0;title\x07text": "text",
		"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\": "link",
		"\x1b(Bx":                 "x",
		"\x1b[":                   "",
		"\x1b]unterminated\nkept": "kept",
		"\u009b31mC1 CSI":         "C1 CSI",
		"a\tb":                    "a b",
		"a\r\n":                   "a",
		"nul\x00del\x7fbell\x07":  "nuldelbell",
		"bad \xff\xfe":            "bad \uFFFD\uFFFD",
		"\u202eevil\u202c":        "evil",
		"line\u2028sep":           "line sep",
		"café 😀":                  "café 😀",
	}
	for in, want := range tests {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	if got := clip("abcdef", 4); got != "abc…" {
		t.Errorf("clip = %q", got)
	}
	if got := clip("abcd", 4); got != "abcd" {
		t.Errorf("clip = %q", got)
	}
}
