package provenance

import (
	"regexp"
	"strings"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// masked stands for a value that must not be shown. A diff still says that
// it changed, which is what the on-call engineer needs to know.
const masked = "••••"

// secretNameParts are matched against upper-cased names with - . / turned
// into _, so "api-key" and "db.password" are caught like API_KEY and DB_PASSWORD.
// Masking a harmless value costs a glance; showing a password on a shared
// screen costs a rotation.
var secretNameParts = []string{
	"PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "API_KEY",
	"PRIVATE", "CREDENTIAL", "AUTH", "DSN",
}

var nameSeparators = strings.NewReplacer("-", "_", ".", "_", "/", "_")

func looksSecret(name string) bool {
	n := nameSeparators.Replace(strings.ToUpper(name))
	for _, part := range secretNameParts {
		if strings.Contains(n, part) {
			return true
		}
	}
	return strings.HasSuffix(n, "_KEY")
}

// credentialsInURL matches scheme://user:password@ anywhere in a value, the
// user possibly empty as in redis://:password@host.
var credentialsInURL = regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://[^/\s@]*:[^/\s]*@`)

func hasCredentials(value string) bool {
	return credentialsInURL.MatchString(value)
}

// displayValue is a literal value as the diff may show it.
func displayValue(name, value string) safetext.Text {
	if looksSecret(name) || hasCredentials(value) {
		return masked
	}
	if value == "" {
		// Quoted so that "set to empty" reads differently from "absent".
		return `""`
	}
	shown := cleanValue(value)
	// Removing escapes can join a URL together again; check what is shown too.
	if hasCredentials(string(shown)) {
		return masked
	}
	return shown
}

// maskArgs hides secrets passed on a command line: URLs with credentials,
// --password=value and --password value.
func maskArgs(args []string) []string {
	out := make([]string, len(args))
	for i, arg := range args {
		switch {
		case hasCredentials(arg):
			out[i] = masked
		case strings.HasPrefix(arg, "-") && strings.Contains(arg, "="):
			flag, _, _ := strings.Cut(arg, "=")
			if looksSecret(strings.TrimLeft(flag, "-")) {
				out[i] = flag + "=" + masked
			} else {
				out[i] = arg
			}
		case i > 0 && isSecretFlag(args[i-1]) && !strings.HasPrefix(arg, "-"):
			out[i] = masked
		default:
			out[i] = arg
		}
	}
	return out
}

func isSecretFlag(arg string) bool {
	return strings.HasPrefix(arg, "-") && !strings.Contains(arg, "=") && looksSecret(strings.TrimLeft(arg, "-"))
}
