package provenance

import (
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Values are made safe where they are read, escapes shown rather than obeyed.
func TestMetadataIsReadSafely(t *testing.T) {
	template := podTemplate(map[string]string{
		keyVersion: "2.0\x1b]52;c;ZXZpbA==\x07",
		keyPython:  "3.12\u202e",
	}, nil, appContainer("ghcr.io/acme/evil:1.9\x1b[5m"))
	got := FromTemplate(template, nil)
	if want := safetext.Text(`2.0\x1b]52;c;ZXZpbA==\x07`); got.Version != want {
		t.Errorf("Version = %q, want %q", got.Version, want)
	}
	if want := safetext.Text(`3.12\u202e`); got.Python != want {
		t.Errorf("Python = %q, want %q", got.Python, want)
	}
	if want := safetext.Text(`ghcr.io/acme/evil:1.9\x1b[5m`); got.Images[0].Ref != want {
		t.Errorf("image = %q, want %q", got.Images[0].Ref, want)
	}
}

func TestCleanValueGivesLinksMoreRoom(t *testing.T) {
	long := strings.Repeat("a", 200)
	if got := cleanValue("https://ci.acme.dev/" + long); string(got) != "https://ci.acme.dev/"+long {
		t.Errorf("a 220-rune URL was clipped to %d bytes", len(got))
	}
	if got := cleanValue(long); len([]rune(got)) != valueLimit {
		t.Errorf("a 200-rune value kept %d runes, want %d", len([]rune(got)), valueLimit)
	}
}
