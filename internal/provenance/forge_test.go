package provenance

import "testing"

func TestCompareURL(t *testing.T) {
	const (
		from = "1111111111111111111111111111111111111111"
		to   = "2222222222222222222222222222222222222222"
	)
	github := "https://github.com/acme/orders/compare/" + from + "..." + to
	gitlab := "https://gitlab.com/acme/orders/-/compare/" + from + "..." + to
	tests := []struct {
		name, source, from, to, want string
	}{
		{"github https", "https://github.com/acme/orders", from, to, github},
		{"github .git", "https://github.com/acme/orders.git", from, to, github},
		{"github trailing slash", "https://github.com/acme/orders/", from, to, github},
		{"github .git and slash", "https://github.com/acme/orders.git/", from, to, github},
		{"github scp-like", "git@github.com:acme/orders.git", from, to, github},
		{"github ssh URL", "ssh://git@github.com/acme/orders.git", from, to, github},
		{"github git+https", "git+https://github.com/acme/orders.git", from, to, github},
		{"github without scheme", "github.com/acme/orders", from, to, github},
		{"github www and case", "https://WWW.GitHub.com/acme/orders", from, to, github},
		{"github page inside the repo", "https://github.com/acme/orders/tree/main", from, to, github},
		{"github credentials dropped", "https://x-access-token:ghs_abc@github.com/acme/orders.git", from, to, github},
		{"github short SHAs", "https://github.com/acme/orders", "1111111", "2222222", "https://github.com/acme/orders/compare/1111111...2222222"},
		{"gitlab.com", "https://gitlab.com/acme/orders", from, to, gitlab},
		{"gitlab.com scp-like", "git@gitlab.com:acme/orders.git", from, to, gitlab},
		{"gitlab nested groups", "https://gitlab.com/acme/python/orders.git", from, to,
			"https://gitlab.com/acme/python/orders/-/compare/" + from + "..." + to},
		{"gitlab page inside the project", "https://gitlab.com/acme/orders/-/tree/main", from, to, gitlab},
		{"gitlab self-hosted", "https://gitlab.acme.internal/team/orders", from, to,
			"https://gitlab.acme.internal/team/orders/-/compare/" + from + "..." + to},
		{"gitlab self-hosted web port kept", "https://gitlab.acme.internal:8443/team/orders", from, to,
			"https://gitlab.acme.internal:8443/team/orders/-/compare/" + from + "..." + to},
		{"gitlab self-hosted ssh port dropped", "ssh://git@gitlab.acme.internal:2222/team/orders.git", from, to,
			"https://gitlab.acme.internal/team/orders/-/compare/" + from + "..." + to},
		{"gitlab self-hosted scp-like", "git@gitlab.acme.internal:team/orders.git", from, to,
			"https://gitlab.acme.internal/team/orders/-/compare/" + from + "..." + to},
		{"bitbucket", "https://bitbucket.org/acme/orders", from, to,
			"https://bitbucket.org/acme/orders/branches/compare/" + to + "%0D" + from},
		{"bitbucket scp-like", "git@bitbucket.org:acme/orders.git", from, to,
			"https://bitbucket.org/acme/orders/branches/compare/" + to + "%0D" + from},
		{"codeberg", "https://codeberg.org/acme/orders.git", from, to,
			"https://codeberg.org/acme/orders/compare/" + from + "..." + to},
		{"codeberg scp-like", "git@codeberg.org:acme/orders.git", from, to,
			"https://codeberg.org/acme/orders/compare/" + from + "..." + to},

		{"unknown host", "https://git.acme.internal/acme/orders", from, to, ""},
		{"lookalike host", "https://github.com.evil.example/acme/orders", from, to, ""},
		{"gitlab in the path only", "https://evil.example/gitlab.com/acme/orders", from, to, ""},
		{"not a URL", "orders", from, to, ""},
		{"empty source", "", from, to, ""},
		{"owner only", "https://github.com/acme", from, to, ""},
		{"unsupported scheme", "file:///srv/git/orders", from, to, ""},
		{"path escapes", "https://github.com/acme/orders\"><script>", from, to, ""},
		{"empty from SHA", "https://github.com/acme/orders", "", to, ""},
		{"empty to SHA", "https://github.com/acme/orders", from, "", ""},
		{"non-hex SHA", "https://github.com/acme/orders", "v1.7.3", to, ""},
		{"SHA with a path", "https://github.com/acme/orders", from, "../../evil", ""},
		{"SHA too short", "https://github.com/acme/orders", "abc", to, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CompareURL(tt.source, tt.from, tt.to); got != tt.want {
				t.Errorf("CompareURL(%q, %q, %q)\n got %q\nwant %q", tt.source, tt.from, tt.to, got, tt.want)
			}
		})
	}
}
