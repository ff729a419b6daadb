// Package redact keeps credentials out of log lines and error messages. A URL the guard
// or the console sends requests to may carry its secret: in the userinfo
// (http://user:password@prometheus), in the path (a Slack or Mattermost incoming webhook's
// URL is the credential: /services/T000/B000/XXXX) or in the query (?token=...). Such a URL
// is named by its scheme and host only, and every error about it is rewritten around that
// name. Guard logs are shipped to log stores that many people read.
package redact

import (
	"cmp"
	"errors"
	"net/url"
	"slices"
	"strings"
)

// Elided stands for what was left out.
const Elided = "…"

// URL is how raw may be named in a log line or a message: scheme://host, then "/…" when a
// path, query, fragment or userinfo was left out, then "#id" when id is not empty (a short
// name that tells several URLs apart, e.g. the URL's position in a list of flags). A URL
// that does not parse is named by id alone: what fails to parse cannot be split into the
// parts that are safe to show.
func URL(raw, id string) string {
	suffix := ""
	if id != "" {
		suffix = "#" + id
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Scheme == "" {
		return "(URL" + strings.ReplaceAll(suffix, "#", " #") + ", not shown: it does not read as scheme://host)"
	}
	name := u.Scheme + "://" + u.Host
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		name += "/" + Elided
	}
	return name + suffix
}

// Target is a URL requests are sent to, with the name it goes by in messages, and the
// parts of it that are secret. Its zero value names nothing and removes nothing.
type Target struct {
	// Name is URL(raw, id): the only way the URL may appear in a message.
	Name    string
	id      string
	secrets []string
}

// minSecret is the length below which a part of a URL is not looked for in a message: a
// token, a password or a query value worth stealing is longer, and shorter ones ("v1",
// "api") would mangle ordinary words of the message.
const minSecret = 4

// NewTarget is the target raw, named with id (see URL).
func NewTarget(raw, id string) Target {
	t := Target{Name: URL(raw, id), id: id}
	u, err := url.Parse(raw)
	if err != nil {
		t.secrets = []string{raw}
		return t
	}
	parts := []string{u.Fragment, u.EscapedFragment(), u.RawQuery, u.EscapedPath(), u.Path, u.Opaque}
	if u.User != nil {
		password, _ := u.User.Password()
		parts = append(parts, u.User.String(), u.User.Username(), password, url.QueryEscape(password), url.PathEscape(password))
	}
	for _, segment := range strings.Split(u.Path, "/") {
		parts = append(parts, segment, url.PathEscape(segment))
	}
	for _, values := range u.Query() {
		for _, v := range values {
			parts = append(parts, v, url.QueryEscape(v))
		}
	}
	for _, p := range parts {
		if len(p) >= minSecret && !slices.Contains(t.secrets, p) {
			t.secrets = append(t.secrets, p)
		}
	}
	// Longest first: a path goes as a whole before its segments are looked for.
	slices.SortFunc(t.secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return t
}

// Text is s with every secret part of the target's URL replaced by "…": for what a
// server answered, which may quote the URL it was asked for.
func (t Target) Text(s string) string {
	for _, secret := range t.secrets {
		s = strings.ReplaceAll(s, secret, Elided)
	}
	return s
}

// Error is err as it may be logged. The *url.Error that net/http returns for every failed
// request (and url.Parse for a URL that does not parse) names the whole URL, path, query
// and user name included (net/http masks only the password): it is rebuilt around the
// URL's name (its scheme and host, whichever URL it is: the target's, an endpoint under
// it, or where a redirect pointed), and any secret part left in the message becomes "…".
// errors.Is and errors.As still see what the *url.Error wrapped (a timeout, a refused
// connection), never the URL. Nil stays nil.
func (t Target) Error(err error) error {
	if err == nil {
		return nil
	}
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		if msg := t.Text(err.Error()); msg != err.Error() {
			return errors.New(msg) // a message that quoted the URL: no way back to it
		}
		return err
	}
	named := &url.Error{Op: uerr.Op, URL: URL(uerr.URL, t.id), Err: t.Error(uerr.Err)}
	if err == error(uerr) {
		return named
	}
	// uerr is wrapped: the message around it stays, the *url.Error's part is rebuilt.
	msg := strings.Replace(err.Error(), uerr.Error(), named.Error(), 1)
	return &rewritten{msg: t.Text(msg), err: named}
}

// rewritten is an error whose message was rewritten; it unwraps to the rebuilt *url.Error.
type rewritten struct {
	msg string
	err error
}

func (e *rewritten) Error() string { return e.msg }
func (e *rewritten) Unwrap() error { return e.err }
