//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/testkit/hostile"
)

// The Deployment on a real API server: its first release's image ends in a blink,
// its second's in an OSC 52 that would set the clipboard; its pod template and an Event
// about it carry window titles, a right-to-left override and a 64 KiB annotation. Through
// the real binary: history, diff, snapshot and status print the text escaped, and the
// console in tmux writes none of it to the terminal (everything the terminal receives is
// piped out of tmux and read).
func TestHostileDeploymentAndEvent(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	const name = "evil-api"
	ctx := context.Background()
	deployments := sb.Client().AppsV1().Deployments(ns)

	replicas := int32(1)
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels,
			Annotations: map[string]string{"pyroll.dev/notes": hostile.Title0 + "notes" + hostile.RLO}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
					"org.opencontainers.image.version": "1.9" + hostile.Title2,
					"pyroll.dev/python-version":        "3.12" + hostile.RLO,
					"team.acme.dev/huge":               hostile.Huge,
				}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: hostile.StableImage,
					Env: []corev1.EnvVar{{Name: "GREETING", Value: "hello" + hostile.DCS}}}}},
			},
		},
	}
	created, err := deployments.Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the API server refused the hostile Deployment: %v", err)
	}
	waitRevision(t, ns, name, 1)
	version, _ := json.Marshal("2.0" + hostile.APC)
	image, _ := json.Marshal(hostile.CanaryImage)
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"org.opencontainers.image.version":%s}},"spec":{"containers":[{"name":"app","image":%s}]}}}}`, version, image)
	if _, err := deployments.Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRevision(t, ns, name, 2)
	now := metav1.NewTime(time.Now())
	_, err = sb.Client().CoreV1().Events(ns).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name + ".hostile", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: name, Namespace: ns, UID: created.UID, APIVersion: "apps/v1"},
		Type:           corev1.EventTypeWarning, Reason: "Pulled" + hostile.Blink,
		Message:        "Back-off pulling image " + hostile.CanaryImage + "\n" + hostile.Title0 + hostile.RLO + "gnp.exe" + hostile.C1CSI,
		FirstTimestamp: now, LastTimestamp: now, Count: 1, Source: corev1.EventSource{Component: "e2e"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the API server refused the hostile Event: %v", err)
	}

	t.Run("commands", func(t *testing.T) {
		escapedCanary, escapedStable := `ghcr.io/acme/evil:2.0\x1b]52;c;ZWNobyBwd25lZA==\x07`, `ghcr.io/acme/evil:1.9\x1b[5m`
		dir := t.TempDir()
		for _, args := range [][]string{
			{"history", name}, {"history", name, "-o", "json"}, {"diff", name}, {"diff", name, "-o", "json"},
			{"status", name}, {"status", name, "-o", "json"}, {"snapshot", name, "--dir", dir},
		} {
			out, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, append([]string{"-n", ns}, args...)...)
			if args[0] == "snapshot" && code == 0 {
				report, err := os.ReadFile(strings.TrimSpace(out))
				if err != nil {
					t.Fatalf("snapshot printed %q: %v", out, err)
				}
				out = string(report)
			}
			what := strings.Join(args, " ")
			if code != 0 && args[0] != "status" {
				t.Errorf("%s: exit %d: %s", what, code, stderr)
			}
			for stream, text := range map[string]string{"stdout": out, "stderr": stderr} {
				if found, at, bad := safetext.Unsafe(text); bad {
					t.Errorf("%s: %s holds %s at byte %d: %q", what, stream, found, at, text[max(0, at-60):min(len(text), at+40)])
				}
			}
			if (args[0] == "history" && len(args) == 2) || args[0] == "snapshot" {
				for _, image := range []string{escapedCanary, escapedStable} {
					if !strings.Contains(out, image) {
						t.Errorf("%s lacks %s:\n%s", what, image, out)
					}
				}
			}
			// In the report, the Event's message is Markdown text: its escapes escaped again.
			if args[0] == "snapshot" && !strings.Contains(out, `\\x1b\]0;pwned\\x1b\\`) {
				t.Errorf("the report lacks the Event's escaped title:\n%s", out)
			}
		}
	})

	t.Run("console", func(t *testing.T) {
		pane := startTmux(t, 160, 70)
		raw := filepath.Join(t.TempDir(), "terminal.raw")
		pane.pipeTo(raw)
		pane.keys(pyrollBinary() + " --kubeconfig " + sb.Kubeconfig + " -n " + ns)
		pane.key("Enter")
		pane.waitScreen("the hostile rollout in the list", func(s string) bool { return rowOf(s, name) != "" && strings.Contains(s, "live") })
		pane.key("Enter")
		detail := pane.waitScreen("its detail with the image and the event", containsAll("evil:2.0", "EVENTS", "Pulled"))
		if !containsAll(`evil:2.0\x1b]52;c;ZWNobyBwd25lZA==\x07`, `Pulled\x1b[5m`)(detail) {
			t.Errorf("the detail does not show the escapes:\n%s", detail)
		}
		pane.key("d")
		// The diff page's own title: the detail names "what changed" in its help too, and
		// an Escape sent before the page opens would leave the detail under it.
		pane.waitScreen("what changed", containsAll("what changed from rev 1 to rev 2", "evil:1.9"))
		pane.key("Escape")
		pane.waitScreen("the detail again", func(s string) bool {
			return strings.Contains(s, "EVENTS") && !strings.Contains(s, "what changed from rev")
		})
		pane.key("Escape")
		pane.waitScreen("the list again", func(s string) bool { return rowOf(s, name) != "" })
		pane.key("q")
		time.Sleep(time.Second) // the console's last frame and the terminal's restore reach the pipe
		data, err := os.ReadFile(raw)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) == 0 {
			t.Fatal("nothing was piped out of tmux")
		}
		// The console's own title is the one OSC it writes; no other title, no clipboard.
		for _, m := range osc.FindAllStringSubmatch(string(data), -1) {
			if m[0] != "\x1b]2;kubectl pyroll\a" {
				t.Errorf("the terminal received an OSC the console does not write: %q", m[0])
			}
		}
		for what, seq := range map[string]string{
			"OSC 52 (clipboard)": "\x1b]52", "OSC 0 (title)": "\x1b]0;", "OSC 1 (icon)": "\x1b]1;",
			"DCS": "\x1bP", "APC": "\x1b_", "C1 CSI": "\u009b", "C1 OSC": "\u009d", "the right-to-left override": hostile.RLO,
		} {
			if i := strings.Index(string(data), seq); i >= 0 {
				t.Errorf("the terminal received %s at byte %d: %q", what, i, data[max(0, i-40):min(len(data), i+60)])
			}
		}
		if attrs := blinkingSGR(string(data)); len(attrs) > 0 {
			t.Errorf("the terminal was told to blink: %q", attrs)
		}
	})
}

func waitRevision(t *testing.T, ns, name string, revision int) {
	t.Helper()
	want := strconv.Itoa(revision)
	eventually(t, 2*time.Minute, "revision "+want+" of "+name, func(ctx context.Context) error {
		list, err := sandboxtest.Get(t).Client().AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, rs := range list.Items {
			if rs.Annotations["deployment.kubernetes.io/revision"] == want {
				return nil
			}
		}
		return errorf("%d ReplicaSets, none of revision %s", len(list.Items), want)
	})
}

var (
	sgr = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)
	osc = regexp.MustCompile(`\x1b\][^\x07\x1b]*(\x07|\x1b\\)?`)
)

// blinkingSGR are the SGR sequences that turn on blinking (5 or 6), reading past the
// colour parameters that carry a 5 of their own (38;5;n, 48;5;n, 58;5;n).
func blinkingSGR(s string) []string {
	var out []string
	for _, m := range sgr.FindAllStringSubmatch(s, -1) {
		params := strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' })
		for i := 0; i < len(params); i++ {
			switch params[i] {
			case "38", "48", "58":
				if i+1 < len(params) && params[i+1] == "5" {
					i += 2
				} else if i+1 < len(params) && params[i+1] == "2" {
					i += 4
				}
			case "5", "6":
				out = append(out, m[0])
			}
		}
	}
	return out
}
