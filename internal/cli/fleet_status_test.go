package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// Several contexts: the table has a CONTEXT column first and one row per cluster; the JSON
// names the contexts read and each item's own.
func TestStatusOfSeveralContexts(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	rows := []rollout.Rollout{
		{Cluster: "prod-eu", Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseComplete, StartedAt: at},
		{Cluster: "prod-us", Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseProgressing, StartedAt: at},
	}
	var table, errOut bytes.Buffer
	p := newStatusPrinter(&table, &errOut, "table", false, "", "shop")
	p.contexts = []string{"prod-eu", "prod-us"}
	if err := p.all(rows, at); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "CONTEXT") || !strings.HasPrefix(lines[1], "prod-eu") || !strings.HasPrefix(lines[2], "prod-us") {
		t.Fatalf("table:\n%s", table.String())
	}
	for _, l := range lines {
		if len(l) > tableWidth {
			t.Errorf("wider than %d columns: %q", tableWidth, l)
		}
	}

	var doc bytes.Buffer
	p = newStatusPrinter(&doc, &errOut, "json", false, "", "shop")
	p.contexts = []string{"prod-eu", "prod-us"}
	if err := p.all(rows, at); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Context  *string  `json:"context"`
		Contexts []string `json:"contexts"`
		Items    []struct {
			Context string `json:"context"`
			Name    string `json:"name"`
		} `json:"items"`
	}
	if err := json.Unmarshal(doc.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if list.Context != nil || strings.Join(list.Contexts, ",") != "prod-eu,prod-us" || len(list.Items) != 2 || list.Items[0].Context != "prod-eu" || list.Items[1].Context != "prod-us" {
		t.Errorf("json:\n%s", doc.String())
	}
}
