package provenance

import (
	"net/url"
	"strings"
)

// CompareURL links to the forge's view of the commits between fromSHA and
// toSHA in the repository source, given as an https URL (optionally ending in
// .git or a slash), an ssh:// URL or scp-like git@host:owner/repo.git. It is ""
// for a forge it does not know, or when either SHA is missing or not hex.
func CompareURL(source, fromSHA, toSHA string) string {
	from, to := strings.TrimSpace(fromSHA), strings.TrimSpace(toSHA)
	if !isRevision(from) || !isRevision(to) {
		return ""
	}
	repo, ok := parseRepo(source)
	if !ok {
		return ""
	}
	switch {
	case repo.host == "github.com" || repo.host == "codeberg.org":
		if owner, name, ok := repo.ownerAndName(); ok {
			return "https://" + repo.host + "/" + owner + "/" + name + "/compare/" + from + "..." + to
		}
	case repo.host == "bitbucket.org":
		// Bitbucket puts the newer revision first, joined by an encoded CR.
		if owner, name, ok := repo.ownerAndName(); ok {
			return "https://bitbucket.org/" + owner + "/" + name + "/branches/compare/" + to + "%0D" + from
		}
	case repo.host == "gitlab.com" || strings.HasPrefix(repo.host, "gitlab."):
		// GitLab nests groups, so the whole path is the project.
		if len(repo.path) >= 2 {
			return "https://" + repo.hostPort() + "/" + strings.Join(repo.path, "/") + "/-/compare/" + from + "..." + to
		}
	}
	return ""
}

// isRevision accepts abbreviated SHAs down to git's minimum of 4 digits, and
// SHA-256 object names.
func isRevision(s string) bool {
	return len(s) >= 4 && len(s) <= 64 && isHex(s)
}

type repoLocation struct {
	host string
	// port is kept only from a web URL: an ssh port is no use in a link.
	port string
	path []string
}

func (r repoLocation) hostPort() string {
	if r.port == "" {
		return r.host
	}
	return r.host + ":" + r.port
}

// ownerAndName reads owner/repo from a path that may go on into a page of the
// repository, such as /tree/main.
func (r repoLocation) ownerAndName() (owner, name string, ok bool) {
	if len(r.path) < 2 {
		return "", "", false
	}
	name = strings.TrimSuffix(r.path[1], ".git")
	if !isPathSegment(name) {
		return "", "", false
	}
	return r.path[0], name, true
}

func parseRepo(source string) (repoLocation, bool) {
	s := strings.TrimPrefix(strings.TrimSpace(source), "git+")
	var loc repoLocation
	var path string
	switch {
	case strings.Contains(s, "://"):
		u, err := url.Parse(s)
		if err != nil {
			return repoLocation{}, false
		}
		switch strings.ToLower(u.Scheme) {
		case "https", "http":
			loc.port = u.Port()
		case "ssh", "git":
		default:
			return repoLocation{}, false
		}
		// u.User is deliberately dropped: a token in the source URL must not
		// end up in a link on screen.
		loc.host, path = u.Hostname(), u.Path
	case isSCPLike(s):
		hostPart, p, _ := strings.Cut(s, ":")
		if at := strings.LastIndexByte(hostPart, '@'); at >= 0 {
			hostPart = hostPart[at+1:]
		}
		loc.host, path = hostPart, p
	default:
		loc.host, path, _ = strings.Cut(s, "/")
	}
	loc.host = strings.TrimPrefix(strings.ToLower(loc.host), "www.")
	if !isHostName(loc.host) || !isPort(loc.port) {
		return repoLocation{}, false
	}
	path = strings.Trim(path, "/")
	path = strings.TrimSuffix(path, ".git")
	if project, _, found := strings.Cut(path, "/-/"); found {
		path = project
	}
	if path == "" {
		return repoLocation{}, false
	}
	loc.path = strings.Split(path, "/")
	for _, segment := range loc.path {
		if !isPathSegment(segment) {
			return repoLocation{}, false
		}
	}
	return loc, true
}

// isSCPLike recognises git's host:path shorthand, which has a colon before any slash.
func isSCPLike(s string) bool {
	colon := strings.IndexByte(s, ':')
	slash := strings.IndexByte(s, '/')
	return colon > 0 && (slash < 0 || colon < slash)
}

func isHostName(h string) bool {
	if h == "" || strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") || strings.Contains(h, "..") {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func isPort(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return len(p) <= 5
}

// isPathSegment keeps to the characters forges allow in owner and project
// names, so nothing from the annotation can alter the link's meaning.
func isPathSegment(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
