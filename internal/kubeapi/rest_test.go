package kubeapi

import (
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestReadinessAnswer(t *testing.T) {
	etcdDown := "[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n[-]etcd-readiness failed: reason withheld\n[+]informer-sync ok\nreadyz check failed"
	starting := "[-]a failed: x\n[-]b failed: x\n[-]c failed: x\n[-]d failed: x\n[-]e failed: x\n"
	for _, c := range []struct {
		name string
		body string
		err  error
		want string
	}{
		{"ready", "ok", nil, ""},
		{"etcd down", etcdDown, apierrors.NewInternalError(errors.New("readyz")), "the API server is not ready (etcd, etcd-readiness failed)"},
		{"starting", starting, apierrors.NewInternalError(errors.New("readyz")), "the API server is not ready (a, b, c and 2 more failed)"},
		{"forbidden: no word on readiness", "", apierrors.NewForbidden(schema.GroupResource{}, "", errors.New("no")), "forbidden"},
	} {
		err := ReadinessAnswer([]byte(c.body), c.err)
		var got string
		if err != nil {
			got = err.Error()
		}
		if c.want == "forbidden" {
			if !apierrors.IsForbidden(err) {
				t.Errorf("%s: %v, want the error as it was", c.name, err)
			}
			continue
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
