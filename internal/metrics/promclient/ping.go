package promclient

import (
	"context"
	"fmt"
	"time"
)

// Ping asks Prometheus the cheapest question there is, so that a command that cannot
// work without it (guard) says so at start rather than after its first interval.
func (c *Client) Ping(ctx context.Context) error {
	if _, _, err := c.query(ctx, "vector(1)", time.Now()); err != nil {
		return fmt.Errorf("prometheus at %s: %w", c.target.Name, err)
	}
	return nil
}
