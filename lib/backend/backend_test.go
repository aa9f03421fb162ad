package backend

import (
	"strings"
	"testing"
)

func TestNewSelectsFromEnv(t *testing.T) {
	tests := []struct {
		env      string
		wantName string // "" means an error is expected
		errHas   []string
	}{
		{env: "", wantName: "go"},
		{env: "go", wantName: "go"},
		{env: "  go  ", wantName: "go"},
		{env: "nosuch", errHas: []string{"GOMLX_BACKEND", `"nosuch"`, "available: go"}},
		{env: "nosuch:cfg", errHas: []string{"GOMLX_BACKEND", `"nosuch"`}},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(EnvVar, tc.env)
			b, err := New()
			if tc.wantName == "" {
				if err == nil {
					t.Fatalf("New() with %s=%q: want error, got backend %v", EnvVar, tc.env, b.Name())
				}
				for _, s := range tc.errHas {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("New() with %s=%q: %v", EnvVar, tc.env, err)
			}
			defer b.Finalize()
			if !strings.Contains(strings.ToLower(b.Name()), tc.wantName) {
				t.Errorf("backend name %q, want %q", b.Name(), tc.wantName)
			}
		})
	}
}

func TestXLAWithoutTagNamesTheTag(t *testing.T) {
	for _, n := range Available() {
		if n == "xla" {
			t.Skip("built with -tags xla")
		}
	}
	_, err := NewWithConfig("xla:cpu")
	if err == nil || !strings.Contains(err.Error(), "-tags xla") {
		t.Fatalf("want an error naming the xla build tag, got %v", err)
	}
}

func TestConfigDefault(t *testing.T) {
	t.Setenv(EnvVar, "")
	if got := Config(); got != Default {
		t.Errorf("Config() = %q, want %q", got, Default)
	}
}
