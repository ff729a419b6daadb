package argo

import "testing"

func TestReadableValue(t *testing.T) {
	for _, c := range []struct {
		raw   string
		ratio bool
		want  string
	}{
		{"0.045454545454545456", false, "0.0455"},
		{"0.045454545454545456", true, "0.0455 (4.55%)"},
		{"0.05", true, "0.05 (5%)"},
		{"1", true, "1 (100%)"},
		{"0", true, "0 (0%)"},
		{"1.5", true, "1.5"}, // not a ratio: no percentage
		{"-0.2", true, "-0.2"},
		{"0.000012345", false, "1.23e-05"},
		{"123456.789", false, "123457"},
		{"1234", false, "1234"},
		{"12.3456", false, "12.3"},
		{"3e20", false, "3e+20"},
		{"NaN", true, "NaN"},
		{"+Inf", false, "+Inf"},
		{"[0.1111111,0.22222222]", true, "[0.111,0.222]"},
		{"[]", false, "[]"},
		{"not a number", true, "not a number"},
		{"", false, ""},
	} {
		if got := readableValue(c.raw, c.ratio); got != c.want {
			t.Errorf("readableValue(%q, %v) = %q; want %q", c.raw, c.ratio, got, c.want)
		}
	}
}

func TestComparesWithFraction(t *testing.T) {
	for cond, want := range map[string]bool{
		"result[0] < 0.01":                    true,
		"len(result) == 0 || result[0] < .05": true,
		"result[0] >= 0.95":                   true,
		"result[0] < 300":                     false,
		"result < 10.5":                       false,
		"":                                    false,
		"true":                                false,
	} {
		if got := comparesWithFraction(cond); got != want {
			t.Errorf("comparesWithFraction(%q) = %v; want %v", cond, got, want)
		}
	}
}

func TestIsRatio(t *testing.T) {
	for _, c := range []struct {
		name, cond string
		want       bool
	}{
		{"error-rate", "result[0] < 0.01", true},
		{"success-rate", "result[0] >= 0.99", true},
		{"p99-latency", "result[0] <= 0.25", false},
		{"request-duration", "result[0] < 0.5", false},
		{"error-rate", "result[0] < 5", false},
		{"queue-depth", "result[0] < 0.5", false},
	} {
		if got := isRatio(c.name, c.cond); got != c.want {
			t.Errorf("isRatio(%q, %q) = %v; want %v", c.name, c.cond, got, c.want)
		}
	}
}
