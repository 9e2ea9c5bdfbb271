package esbundle

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestNativeProcessReplaced follows workerd (process v2 from 2025-09-15 under nodejs_compat v2,
// its enable and disable flags) and @cloudflare/unenv-preset (which keeps workerd's process only
// with iterable-body support: 2026-02-19, or fetch_iterable_type_support with its adjustment).
func TestNativeProcessReplaced(t *testing.T) {
	t.Parallel()
	tests := []struct {
		date  string
		flags []string
		want  bool
	}{
		{"2025-11-30", []string{"nodejs_compat"}, true},
		{"2025-09-15", []string{"nodejs_compat"}, true},
		{"2025-09-14", []string{"nodejs_compat"}, false},
		{"2025-09-01", []string{"nodejs_compat", "enable_nodejs_process_v2"}, true},
		{"2025-11-30", []string{"nodejs_compat", "disable_nodejs_process_v2"}, false},
		{"2025-11-30", nil, false},
		{"2025-11-30", []string{"nodejs_als"}, false},
		{"2025-11-30", []string{"nodejs_compat", "no_nodejs_compat_v2"}, false},
		{"2024-01-01", []string{"nodejs_compat_v2", "enable_nodejs_process_v2"}, true},
		{"2026-02-18", []string{"nodejs_compat"}, true},
		{"2026-02-19", []string{"nodejs_compat"}, false},
		{"2026-02-19", []string{"nodejs_compat", "no_fetch_iterable_type_support"}, true},
		{"2025-11-30", []string{"nodejs_compat", "fetch_iterable_type_support"}, true},
		{"2025-11-30", []string{"nodejs_compat", "fetch_iterable_type_support", "fetch_iterable_type_support_override_adjustment"}, false},
		{"2026-01-15", []string{"nodejs_compat", "fetch_iterable_type_support"}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.date, tt.flags), func(t *testing.T) {
			assert.Equal(t, tt.want, NativeProcessReplaced(tt.date, tt.flags))
		})
	}
}

func TestUnenvPresetInstalled(t *testing.T) {
	t.Parallel()
	assert.True(t, UnenvPresetInstalled(project(t, "unenv")))
	assert.True(t, UnenvPresetInstalled(project(t, "unenv")+"/src"), "node_modules of a folder above")
	assert.False(t, UnenvPresetInstalled(project(t, "bare-package")))
}
