package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunUnknownAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"nonsense"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Errorf("unknown command: code %d, stderr %q", code, errb.String())
	}
	out.Reset()
	if code := run([]string{"help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "Commands:") {
		t.Errorf("help: code %d, out %q", code, out.String())
	}
}
