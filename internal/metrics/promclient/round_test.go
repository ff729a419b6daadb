package promclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Every query of a round is evaluated at the round's time, not each at its own moment:
// errors and requests read a scrape apart can disagree (more errors than requests).
func TestEveryQueryOfARoundIsEvaluatedAtTheRoundsTime(t *testing.T) {
	var mu sync.Mutex
	var times []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		times = append(times, r.Form.Get("time"))
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": []any{}}})
	}))
	defer srv.Close()
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	round := time.Date(2026, 11, 29, 3, 12, 0, 500_000_000, time.UTC)
	if report := c.Report(context.Background(), "shop", twoRevisions(), round); report.Err != nil {
		t.Fatal(report.Err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(times) == 0 {
		t.Fatal("no query")
	}
	for _, got := range times {
		at, err := strconv.ParseFloat(got, 64)
		if err != nil || at != float64(round.UnixMilli())/1000 {
			t.Errorf("a query evaluated at %q, want the round's %s (%d.5): every query at %q", got, round, round.Unix(), times)
		}
	}
}

// Prometheus' URL may carry a password, a token in its path or its query: what the
// client says about a failure (a round's error, Ping's) names its scheme and host only.
func TestErrorsNamePrometheusByItsSchemeAndHost(t *testing.T) {
	hangUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close() // EOF, in a *url.Error naming the request's URL
		}
	}))
	defer hangUp.Close()
	failing, _ := fakePrometheus(t, nil, http.StatusInternalServerError)
	refused := httptest.NewServer(http.NotFoundHandler())
	refused.Close()
	for _, srv := range []*httptest.Server{hangUp, failing, refused} {
		host := srv.Listener.Addr().String()
		c, err := NewWithOptions(Options{URL: "http://alice:s3cret@" + host + "/XXXXSECRETTOKEN/?token=qtoken"})
		if err != nil {
			t.Fatal(err)
		}
		report := c.Report(context.Background(), "shop", twoRevisions(), time.Now())
		ping := c.Ping(context.Background())
		if report.Err == nil || ping == nil {
			t.Fatalf("%s: no error (%v, %v)", host, report.Err, ping)
		}
		for _, msg := range []string{report.Err.Error(), ping.Error()} {
			if !strings.Contains(msg, "prometheus at http://"+host+"/…") {
				t.Errorf("%q does not name Prometheus by its scheme and host", msg)
			}
			for _, secret := range []string{"alice", "s3cret", "XXXXSECRETTOKEN", "qtoken"} {
				if strings.Contains(msg, secret) {
					t.Errorf("%q carries %q", msg, secret)
				}
			}
		}
	}
}
