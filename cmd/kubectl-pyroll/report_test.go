package main

import (
	"errors"
	"strings"
	"testing"
)

// An error's own lines stay lines (a crash report's request, a usage line); what the API
// server wrote in it is still made safe.
func TestReportKeepsTheErrorsLinesAndEscapesTheRest(t *testing.T) {
	var out strings.Builder
	code := reportTo(&out, errors.New("internal error in the console (View): boom \x1b]0;title\x07\nplease report it at https://example.com"))
	want := "error: internal error in the console (View): boom \\x1b]0;title\\x07\nplease report it at https://example.com\n"
	if out.String() != want || code == 0 {
		t.Errorf("printed %q (exit %d), want %q and a failure", out.String(), code, want)
	}
}
