package metrics

import (
	"math"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		buckets map[float64]float64
		want    time.Duration
	}{
		{map[float64]float64{0.1: 50, 0.2: 100, inf: 100}, 190 * time.Millisecond},
		{map[float64]float64{0.1: 0, inf: 0}, 0},
		{map[float64]float64{}, 0},
		{map[float64]float64{0.5: 10}, 0}, // no +Inf bucket: not a histogram
	}
	for _, c := range cases {
		if got := quantile(0.95, c.buckets); got.Round(time.Millisecond) != c.want {
			t.Errorf("quantile(%v) = %s, want %s", c.buckets, got, c.want)
		}
	}
}
