package sandbox

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// httpExpect GETs url and succeeds when the answer is 200 and its body contains want.
func httpExpect(ctx context.Context, client *http.Client, url, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s: %s: %.200s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
