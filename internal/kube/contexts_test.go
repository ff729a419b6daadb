package kube

import (
	"slices"
	"strings"
	"testing"
)

func TestSelectContexts(t *testing.T) {
	available := []string{"prod-us", "prod-eu", "staging", "prod-ap"}
	for _, tc := range []struct {
		name    string
		spec    []string
		all     bool
		want    []string
		wantErr string
	}{
		{name: "names keep their order", spec: []string{"prod-us", "prod-eu"}, want: []string{"prod-us", "prod-eu"}},
		{name: "a name twice is one", spec: []string{"staging", " staging "}, want: []string{"staging"}},
		{name: "a pattern, sorted", spec: []string{"/^prod-/"}, want: []string{"prod-ap", "prod-eu", "prod-us"}},
		{name: "a name then a pattern", spec: []string{"staging", "/eu|us/"}, want: []string{"staging", "prod-eu", "prod-us"}},
		{name: "all, sorted", all: true, want: []string{"prod-ap", "prod-eu", "prod-us", "staging"}},
		{name: "unknown name", spec: []string{"prod-eu", "prod-mars"}, wantErr: `no context "prod-mars" in the kubeconfig (it has: prod-ap, prod-eu, prod-us, staging)`},
		{name: "pattern matches nothing", spec: []string{"/^dev/"}, wantErr: "/^dev/ matches no context"},
		{name: "bad pattern", spec: []string{"/(/"}, wantErr: "not a regular expression"},
		{name: "nothing named", spec: []string{" "}, wantErr: "name at least one context"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SelectContexts(available, tc.spec, tc.all)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, err := SelectContexts(nil, nil, true); err == nil {
		t.Fatal("--all-contexts over no context is not an error")
	}
}
