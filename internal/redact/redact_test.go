package redact

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
)

// The secret parts of the URLs below: none may be left in a name or an error.
var secrets = []string{"s3cret", "XXXXSECRETTOKEN", "T000/B000", "qtoken", "alice"}

func TestURLKeepsSchemeAndHostOnly(t *testing.T) {
	cases := []struct{ raw, id, want string }{
		{"https://hooks.slack.com/services/T000/B000/XXXXSECRETTOKEN", "1", "https://hooks.slack.com/…#1"},
		{"http://alice:s3cret@prometheus.monitoring:9090", "", "http://prometheus.monitoring:9090/…"},
		{"http://prometheus:9090/?token=qtoken", "", "http://prometheus:9090/…"},
		{"http://prometheus:9090", "", "http://prometheus:9090"},
		{"http://prometheus:9090/", "", "http://prometheus:9090"},
		{"https://h.example/x#frag", "2", "https://h.example/…#2"},
		{"http://alice:s3cret@h:%zz/XXXXSECRETTOKEN", "3", "(URL #3, not shown: it does not read as scheme://host)"},
		{"hooks.slack.com/services/T000/B000/XXXXSECRETTOKEN", "", "(URL, not shown: it does not read as scheme://host)"},
	}
	for _, c := range cases {
		if got := URL(c.raw, c.id); got != c.want {
			t.Errorf("URL(%q, %q) = %q, want %q", c.raw, c.id, got, c.want)
		}
	}
}

// A failed request's error names the URL with its path, query and user name: rebuilt
// around the name, it keeps what went wrong (and what errors.Is sees) and loses the rest.
func TestErrorRebuildsTheURLError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close() // nothing listens there any more: connection refused
	raw := "http://alice:s3cret@" + addr + "/services/T000/B000/XXXXSECRETTOKEN?token=qtoken"
	target := NewTarget(raw, "1")
	_, err := http.Post(raw, "application/json", strings.NewReader("{}"))
	if err == nil {
		t.Fatal("a request to a closed port succeeded")
	}
	for _, e := range []error{err, fmt.Errorf("notify: %w", err)} {
		got := target.Error(e)
		msg := got.Error()
		for _, s := range secrets {
			if strings.Contains(msg, s) {
				t.Errorf("%q keeps %q", msg, s)
			}
		}
		if !strings.Contains(msg, `Post "http://`+addr+`/…#1"`) || !strings.Contains(msg, "connection refused") {
			t.Errorf("%q: want the operation, the URL's name and the cause", msg)
		}
		if !errors.Is(got, syscall.ECONNREFUSED) {
			t.Errorf("errors.Is(%q, ECONNREFUSED) is false: the cause must stay", msg)
		}
		var opErr *net.OpError
		if !errors.As(got, &opErr) {
			t.Errorf("errors.As(%q, *net.OpError) is false", msg)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	_, err = http.DefaultClient.Do(req)
	if got := target.Error(err); !errors.Is(got, context.Canceled) || strings.Contains(got.Error(), "XXXXSECRETTOKEN") {
		t.Errorf("a cancelled request: %v", got)
	}
}

// A URL that does not parse is named by its id; url.Parse's error quoted it whole.
func TestErrorOfAURLThatDoesNotParse(t *testing.T) {
	raw := "http://alice:s3cret@h:%zz/services/T000/B000/XXXXSECRETTOKEN"
	_, err := http.NewRequest(http.MethodPost, raw, nil)
	if err == nil {
		t.Fatal("the URL parsed")
	}
	msg := NewTarget(raw, "2").Error(err).Error()
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("%q keeps %q", msg, s)
		}
	}
	if !strings.Contains(msg, "#2") {
		t.Errorf("%q does not say which URL", msg)
	}
}

// What a server answered may quote the URL: its secret parts go, its words stay.
func TestTextScrubsSecretPartsOfAnAnswer(t *testing.T) {
	target := NewTarget("https://alice:s3cret@hooks.example/services/T000/B000/XXXXSECRETTOKEN?token=qtoken", "1")
	for _, answer := range []string{
		"no_service: /services/T000/B000/XXXXSECRETTOKEN?token=qtoken",
		"token XXXXSECRETTOKEN revoked", "bad token=qtoken", "user alice:s3cret", "T000%2FB000",
	} {
		got := target.Text(answer)
		for _, s := range append(secrets, "T000%2FB000") {
			if strings.Contains(got, s) {
				t.Errorf("Text(%q) = %q keeps %q", answer, got, s)
			}
		}
	}
	if got := target.Text("no_service: invalid token"); got != "no_service: invalid token" {
		t.Errorf("an answer without a secret changed: %q", got)
	}
	if err := errors.New("HTTP 500: token XXXXSECRETTOKEN revoked"); strings.Contains(target.Error(err).Error(), "XXXXSECRETTOKEN") {
		t.Errorf("an error quoting the token: %v", target.Error(err))
	}
}
