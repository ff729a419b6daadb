package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestContainerLogWritesCRIEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo_api-1_app.log")
	l, err := openContainerLog(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.FixedZone("CET", 3600))
	l.now = func() time.Time { return at }
	stdout, stderr := l.stream("stdout"), l.stream("stderr")
	fmt.Fprint(stderr, "Traceback (most recent call last):\n  File \"app.py\"")
	fmt.Fprint(stdout, "booted\r\n")
	fmt.Fprint(stderr, ", line 3\nModuleNotFoundError: No module named 'orjson'\nno newline")
	fmt.Fprint(stdout, strings.Repeat("x", maxLogLine+10)+"\n")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const ts = "2026-01-02T14:04:05.123456789Z"
	want := strings.Join([]string{
		ts + " stderr F Traceback (most recent call last):",
		ts + " stdout F booted",
		ts + " stderr F   File \"app.py\", line 3",
		ts + " stderr F ModuleNotFoundError: No module named 'orjson'",
		ts + " stdout P " + strings.Repeat("x", maxLogLine),
		ts + " stdout F " + strings.Repeat("x", 10),
		ts + " stderr F no newline",
	}, "\n") + "\n"
	if string(data) != want {
		t.Errorf("log file:\n%s\nwant:\n%s", data, want)
	}
}

func TestKwokLogsObjectNamesThePodsFiles(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "search-api-7d9f-abcde", Namespace: "demo", UID: "uid-1"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
	}
	obj := kwokLogsObject(pod, "/sb/logs/pods")
	if obj.GetName() != pod.Name || obj.GetNamespace() != "demo" || obj.GetKind() != "Logs" || obj.GetAPIVersion() != "kwok.x-k8s.io/v1alpha1" {
		t.Fatalf("object %s %s %s/%s", obj.GetAPIVersion(), obj.GetKind(), obj.GetNamespace(), obj.GetName())
	}
	if refs := obj.GetOwnerReferences(); len(refs) != 1 || refs[0].Kind != "Pod" || refs[0].UID != "uid-1" {
		t.Errorf("owner references %+v; want the pod", refs)
	}
	logs, _, _ := unstructured.NestedSlice(obj.Object, "spec", "logs")
	if len(logs) != 1 {
		t.Fatalf("spec.logs %v", logs)
	}
	entry := logs[0].(map[string]any)
	if entry["logsFile"] != "/sb/logs/pods/demo_search-api-7d9f-abcde_app.log" ||
		entry["previousLogsFile"] != "/sb/logs/pods/demo_search-api-7d9f-abcde_app.previous.log" ||
		fmt.Sprint(entry["containers"]) != "[app]" {
		t.Errorf("spec.logs[0] = %v", entry)
	}
}
