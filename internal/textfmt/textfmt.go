// Package textfmt formats durations and clips text the same way in the console and in
// the commands' plain output.
package textfmt

import (
	"fmt"
	"time"
)

// Age formats a duration like kubectl: 45s, 12m, 5h, 3d. With minutes set, anything under a
// minute is "<1m", so a screen that shows ages changes once a minute at most.
func Age(d time.Duration, minutes bool) string {
	switch {
	case d < time.Minute && minutes:
		return "<1m"
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// Clip cuts s to at most n runes, ending with an ellipsis when it cut.
func Clip(s string, n int) string {
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
