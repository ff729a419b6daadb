package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"

	"github.com/pyroll/kubectl-pyroll/assets"
)

// Container logs: kwok serves the kubelet API (`kubectl logs`, with --previous) from files
// named per pod by a kwok Logs object (kwok.x-k8s.io/v1alpha1, enabled with
// --enable-crds=Logs). The pod runner writes each sample pod's real output there, in the
// CRI logging format container runtimes write and kwok reads back:
//
//	logs/pods/<namespace>_<pod>_<container>.log           the current container's output
//	logs/pods/<namespace>_<pod>_<container>.previous.log  the previous container's output

var (
	crdResource      = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	kwokLogsResource = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}
)

// containerLogPaths are the files that hold a container's current and previous output.
func containerLogPaths(logDir, namespace, pod, container string) (current, previous string) {
	base := filepath.Join(logDir, namespace+"_"+pod+"_"+container)
	return base + ".log", base + ".previous.log"
}

// kwokLogsObject is the kwok Logs object that points kwok's kubelet API at the pod's
// container log files. The pod owns it, so the garbage collector deletes it with the pod.
func kwokLogsObject(pod *corev1.Pod, logDir string) *unstructured.Unstructured {
	var logs []any
	for _, c := range pod.Spec.Containers {
		current, previous := containerLogPaths(logDir, pod.Namespace, pod.Name, c.Name)
		logs = append(logs, map[string]any{
			"containers":       []any{c.Name},
			"logsFile":         current,
			"previousLogsFile": previous,
		})
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1",
		"kind":       "Logs",
		"metadata": map[string]any{
			"name":      pod.Name,
			"namespace": pod.Namespace,
			"labels":    map[string]any{"app.kubernetes.io/managed-by": "pyroll-sandbox"},
			"ownerReferences": []any{map[string]any{
				"apiVersion": "v1",
				"kind":       "Pod",
				"name":       pod.Name,
				"uid":        string(pod.UID),
			}},
		},
		"spec": map[string]any{"logs": logs},
	}}
}

// installKwokLogsCRD creates kwok's Logs CRD and waits until it is established: kwok, started
// with --enable-crds=Logs, watches those objects.
func installKwokLogsCRD(ctx context.Context, client dynamic.Interface) error {
	crd := &unstructured.Unstructured{}
	if err := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(assets.KwokLogsCRD()), 4096).Decode(&crd.Object); err != nil {
		return fmt.Errorf("kwok Logs CRD: %w", err)
	}
	_, err := client.Resource(crdResource).Create(ctx, crd, metav1.CreateOptions{FieldManager: "pyroll-sandbox"})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create kwok Logs CRD: %w", err)
	}
	return waitFor(ctx, "kwok Logs CRD established", nil, 30*time.Second, func(ctx context.Context) error {
		got, err := client.Resource(crdResource).Get(ctx, crd.GetName(), metav1.GetOptions{})
		if err != nil {
			return err
		}
		conditions, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, c := range conditions {
			if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				return nil
			}
		}
		return fmt.Errorf("%s not Established yet", crd.GetName())
	})
}

// containerLog writes a container's stdout and stderr to one file in the CRI logging format
// ("2026-01-02T15:04:05.123456789Z stdout F <line>"), one entry per line, as container
// runtimes do; kwok's kubelet API reads it back for `kubectl logs`.
type containerLog struct {
	mu      sync.Mutex
	f       *os.File
	streams []*logStream
	now     func() time.Time
}

// maxLogLine is where a line without end is cut into partial ("P") entries, as the
// runtimes do at 16 KiB.
const maxLogLine = 16 * 1024

func openContainerLog(path string) (*containerLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &containerLog{f: f, now: time.Now}, nil
}

// stream returns the writer for one stream, "stdout" or "stderr".
func (l *containerLog) stream(name string) io.Writer {
	s := &logStream{log: l, name: name}
	l.mu.Lock()
	l.streams = append(l.streams, s)
	l.mu.Unlock()
	return s
}

// Close writes what is left of unfinished lines and closes the file.
func (l *containerLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.streams {
		if len(s.buf) > 0 {
			l.writeEntry(s.name, "F", s.buf)
			s.buf = nil
		}
	}
	return l.f.Close()
}

// writeEntry writes one CRI log entry; the caller holds l.mu.
func (l *containerLog) writeEntry(stream, tag string, line []byte) {
	entry := make([]byte, 0, len(line)+48)
	entry = l.now().UTC().AppendFormat(entry, time.RFC3339Nano)
	entry = append(entry, ' ')
	entry = append(entry, stream...)
	entry = append(entry, ' ')
	entry = append(entry, tag...)
	entry = append(entry, ' ')
	entry = append(entry, line...)
	entry = append(entry, '\n')
	_, _ = l.f.Write(entry)
}

type logStream struct {
	log  *containerLog
	name string
	buf  []byte
}

func (s *logStream) Write(p []byte) (int, error) {
	l := s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		switch {
		case i >= 0 && i <= maxLogLine:
			l.writeEntry(s.name, "F", bytes.TrimSuffix(s.buf[:i], []byte("\r")))
			s.buf = s.buf[i+1:]
		case len(s.buf) > maxLogLine:
			l.writeEntry(s.name, "P", s.buf[:maxLogLine])
			s.buf = s.buf[maxLogLine:]
		default:
			if cap(s.buf) > 4*maxLogLine {
				s.buf = append([]byte(nil), s.buf...) // do not pin a large backing array
			}
			return len(p), nil
		}
	}
}
