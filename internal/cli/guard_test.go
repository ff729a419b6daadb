package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/incident"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// The secret parts of every URL the guard is given below: none may be in a log line.
var urlSecrets = []string{"alice", "s3cretpw", "XXXXSECRETTOKEN", "T000", "B000", "qtoken"}

// withSecrets is a URL to host carrying a user and password, a token in its path and one
// in its query.
func withSecrets(host string) string {
	return "http://alice:s3cretpw@" + host + "/services/T000/B000/XXXXSECRETTOKEN?token=qtoken"
}

// lineLog is the guard's stderr, whole lines only, telling when a line holding a word is
// written.
type lineLog struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	waitFor string
	seen    chan struct{}
	once    sync.Once
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if bytes.Contains(p, []byte(l.waitFor)) {
		l.once.Do(func() { close(l.seen) })
	}
	return l.buf.Write(p)
}

func (l *lineLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.buf.String()), "\n")
}

// haltActor halts (in its answer only) and says when it was first asked.
type haltActor struct {
	once  sync.Once
	acted chan struct{}
}

func (a *haltActor) Do(_ context.Context, req intent.Request) (intent.Result, error) {
	a.once.Do(func() { close(a.acted) })
	return intent.Result{Message: safetext.Line("halted " + req.Target.Name)}, nil
}

// The guard's whole loop in process (the watch's snapshots fed by hand): Prometheus with
// a password, a path token and a query token first answers a breaching canary, then hangs
// up on every query; the halt is told to a webhook that answers 500 quoting the URL it was
// asked, one where nothing listens, and one that redirects. No log line, in either format,
// carries any secret part of those URLs.
func TestGuardLogsNoSecret(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) { guardLogsNoSecret(t, format) })
	}
}

func guardLogsNoSecret(t *testing.T, format string) {
	var hangUp atomic.Bool
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hangUp.Load() {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		}
		_ = r.ParseForm()
		q := r.Form.Get("query")
		sample := func(name, pod, value string) map[string]any {
			return map[string]any{"metric": map[string]string{"__name__": name, "namespace": "shop", "pod": pod}, "value": []any{1.0, value}}
		}
		var result []map[string]any
		switch {
		case strings.Contains(q, "count by (__name__)"):
			result = append(result, sample("http_requests_total", "", "1"))
		case strings.Contains(q, `status=~"5.."`):
			result = append(result, sample("", "orders-new", "0.5"), sample("", "orders-old", "0"))
		case strings.Contains(q, "http_requests_total"):
			result = append(result, sample("", "orders-new", "10"), sample("", "orders-old", "10"))
		}
		if result == nil {
			result = []map[string]any{}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": result}})
	}))
	defer prom.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no_service: "+r.URL.RequestURI(), http.StatusInternalServerError)
	}))
	defer failing.Close()
	refused := httptest.NewServer(http.NotFoundHandler())
	refused.Close()
	sink := httptest.NewServer(http.NotFoundHandler())
	defer sink.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, withSecrets(sink.Listener.Addr().String()), http.StatusFound)
	}))
	defer redirecting.Close()

	stderr := &lineLog{waitFor: "Prometheus unreachable", seen: make(chan struct{})}
	o := &GuardOptions{
		Options: &Options{IOStreams: genericiooptions.IOStreams{ErrOut: stderr}, PrometheusURL: withSecrets(prom.Listener.Addr().String()), MetricsInterval: 10 * time.Millisecond},
		After:   1, Action: "halt", Output: format,
		Notify: []string{withSecrets(failing.Listener.Addr().String()), withSecrets(refused.Listener.Addr().String()), withSecrets(redirecting.Listener.Addr().String())},
	}
	client, err := o.prometheus(nil)
	if err != nil {
		t.Fatal(err)
	}
	log := o.logger()
	deliverer := o.deliverer(log)
	deliverer.Attempts, deliverer.FirstDelay = 2, time.Millisecond
	actor := &haltActor{acted: make(chan struct{})}
	rail := o.guardrail(log, o.policy(""), actor, deliverer, func(_ context.Context, r ref.Rollout, report metrics.Report) (incident.Evidence, error) {
		return incident.Evidence{Rollout: rollout.Rollout{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}, Metrics: report}, nil
	})
	orders := rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "orders", CanaryRevision: 2, StableRevision: 1,
		Settings: map[string]string{guard.MaxErrorRateAnnotation: "0.01"},
		Revisions: []rollout.Revision{
			{Number: 2, Role: rollout.RoleCanary, Pods: []*rollout.Pod{{Name: "orders-new"}}},
			{Number: 1, Role: rollout.RoleStable, Pods: []*rollout.Pod{{Name: "orders-old"}}},
		}}
	snapshots := make(chan rollout.Snapshot, 1)
	snapshots <- rollout.Snapshot{Rollouts: []rollout.Rollout{orders}, Synced: true, Conn: rollout.Connection{State: rollout.ConnLive}}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.guardLoop(ctx, snapshots, client, rail, "shop")
	}()
	// Each wait ends when the guard did it (go test's -timeout ends a guard that never does).
	<-actor.acted // the canary breached: halted, and told
	hangUp.Store(true)
	<-stderr.seen // a round's error said
	cancel()
	<-done
	deliverer.Wait(context.Background())

	lines := stderr.lines()
	for _, want := range []string{"first round judged", "halted orders", "Prometheus unreachable",
		"/…#1: given up after 2 attempts: HTTP 500", "/…#2: given up after 2 attempts", "/…#3: given up after 2 attempts: HTTP 302"} {
		if !strings.Contains(strings.Join(lines, "\n"), want) {
			t.Errorf("the log does not say %q", want)
		}
	}
	for _, line := range lines {
		for _, secret := range urlSecrets {
			if strings.Contains(line, secret) {
				t.Errorf("a log line carries %q: %s", secret, line)
			}
		}
	}
	if t.Failed() {
		t.Logf("the guard's log:\n%s", strings.Join(lines, "\n"))
	}
}

// --prometheus-url's default comes from the environment: --help does not print it.
func TestHelpDoesNotPrintThePrometheusURL(t *testing.T) {
	t.Setenv("PYROLL_PROMETHEUS_URL", withSecrets("prometheus:9090"))
	out, errOut, code := run("guard", "--help")
	if code != 0 || !strings.Contains(out, "$PYROLL_PROMETHEUS_URL") {
		t.Fatalf("guard --help: exit %d\n%s%s", code, out, errOut)
	}
	for _, secret := range urlSecrets {
		if strings.Contains(out+errOut, secret) {
			t.Errorf("guard --help prints %q", secret)
		}
	}
}
