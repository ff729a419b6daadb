package provenance

import (
	"strings"
	"testing"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		name, in string
		limit    int
		want     string
	}{
		{"plain", "1.8.0", 10, "1.8.0"},
		{"SGR colour", "\x1b[1;31mred\x1b[0m", 10, "red"},
		{"cursor movement", "a\x1b[2Jb\x1b[10;10Hc", 10, "abc"},
		{"OSC title with BEL", "\x1b]0;title\x07ok", 10, "ok"},
		{"OSC hyperlink with ST", "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", 10, "link"},
		{"unterminated OSC swallows the rest", "ok\x1b]0;title", 10, "ok"},
		{"C1 CSI", "a\u009b31mb", 10, "ab"},
		{"C1 OSC", "a\u009d0;t\u009cb", 10, "ab"},
		{"two-byte escape", "a\x1bcb", 10, "ab"},
		{"charset escape", "a\x1b(Bb", 10, "ab"},
		{"lone escape at end", "ab\x1b", 10, "ab"},
		{"C0 and DEL", "a\x00b\x08c\x7f", 10, "abc"},
		{"newlines and tabs", "a\nb\r\nc\rd\te\u2028f", 20, "a b c d e f"},
		{"blank edges trimmed", "\n  a b  \n", 10, "a b"},
		{"invalid UTF-8", "a\xff\xfeb", 10, "a\uFFFD\uFFFDb"},
		{"bidi override", "abc\u202edcba\u202c", 10, "abcdcba"},
		{"exactly at limit", "abcde", 5, "abcde"},
		{"clipped", "abcdef", 5, "abcd…"},
		{"no blank before the ellipsis", "abc defgh", 5, "abc…"},
		{"trailing blanks past the limit do not clip", "abcde   \n", 5, "abcde"},
		{"multibyte counts as runes", "ééééééé", 5, "éééé…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sanitize(tt.in, tt.limit); got != tt.want {
				t.Errorf("sanitize(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
		})
	}
}

func TestCleanValueGivesLinksMoreRoom(t *testing.T) {
	long := strings.Repeat("a", 200)
	if got := cleanValue("https://ci.acme.dev/" + long); got != "https://ci.acme.dev/"+long {
		t.Errorf("a 220-rune URL was clipped to %d bytes", len(got))
	}
	if got := cleanValue(long); len([]rune(got)) != valueLimit {
		t.Errorf("a 200-rune value kept %d runes, want %d", len([]rune(got)), valueLimit)
	}
}
