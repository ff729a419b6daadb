package argo

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// A measured value as argo stores it is Go's shortest float text ("0.045454545454545456"):
// eighteen digits that say nothing more to a person than three, and long enough to push the
// condition it is judged by onto another line. The console shows three significant digits;
// `status -o json` keeps the value as argo wrote it.

// significantDigits is how precise a shown value is.
const significantDigits = 3

// readableValue is one measured value for a person: a number with three significant digits
// (integers up to 10^15 in full), each element of a vector likewise, and anything else as it
// is. With ratio, a number in [0,1] also reads as a percentage: "0.0455 (4.55%)".
func readableValue(raw string, ratio bool) string {
	if len(raw) > 2 && raw[0] == '[' && raw[len(raw)-1] == ']' {
		parts := strings.Split(raw[1:len(raw)-1], ",")
		for i, p := range parts {
			parts[i] = readableNumber(strings.TrimSpace(p))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	shown := readableNumber(raw)
	if f, err := strconv.ParseFloat(raw, 64); err == nil && ratio && f >= 0 && f <= 1 {
		shown += " (" + readableNumber(strconv.FormatFloat(f*100, 'g', -1, 64)) + "%)"
	}
	return shown
}

// readableNumber is s with three significant digits when it is a number, else s.
func readableNumber(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		return strconv.FormatFloat(f, 'f', 0, 64) // a count reads in full: 1234, not 1.23e+03
	case math.Abs(f) >= 1e15 || (f != 0 && math.Abs(f) < 1e-4):
		return strconv.FormatFloat(f, 'g', significantDigits, 64)
	}
	shown := strconv.FormatFloat(f, 'g', significantDigits, 64)
	if strings.ContainsAny(shown, "e") { // 'g' switches to an exponent from 1000 up
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return shown
}

// fractionLiteral is a number below one written in a condition: "0.01", ".05".
var fractionLiteral = regexp.MustCompile(`(^|[^0-9.])0?\.[0-9]+`)

// ratioWords and timeWords tell a ratio's metric name ("error-rate", "success-ratio") from a
// duration's ("p99-latency"): both are compared with fractions, only one is a share.
var (
	ratioWords = regexp.MustCompile(`(?i)error|success|fail|rate|ratio|percent|share|availab`)
	timeWords  = regexp.MustCompile(`(?i)latenc|duration|second|time|p[0-9]{2}`)
)

// isRatio: the metric names a share and its condition judges the result against a fraction
// ("error-rate", "result[0] < 0.01"), so the value reads better as a percentage too.
func isRatio(name string, conditions ...string) bool {
	return ratioWords.MatchString(name) && !timeWords.MatchString(name) && comparesWithFraction(conditions...)
}

// comparesWithFraction: a condition judges the result against a number below one.
func comparesWithFraction(conditions ...string) bool {
	for _, c := range conditions {
		if strings.Contains(c, "result") && fractionLiteral.MatchString(c) {
			return true
		}
	}
	return false
}
