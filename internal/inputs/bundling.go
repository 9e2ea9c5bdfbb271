package inputs

import "strings"

// BundleMode is the `bundle` input: whether the entry is bundled with esbuild before upload.
type BundleMode string

// Bundle modes.
const (
	// BundleAuto bundles when `modules` is not set and the entry is a source file, or its
	// static import graph reaches a bare specifier.
	BundleAuto BundleMode = "auto"
	// BundleAlways bundles the entry; globs only add additional modules.
	BundleAlways BundleMode = "true"
	// BundleNever never bundles.
	BundleNever BundleMode = "false"
)

// bundleFields is the `bundle` input.
var bundleFields = map[string]field{
	"bundle": func(c *Config, l *loader, name string) {
		switch v := BundleMode(strings.ToLower(strings.TrimSpace(l.str(name)))); v {
		case BundleAuto, BundleAlways, BundleNever:
			c.Bundle = v
		default:
			l.fail(name, "%q is not a bundle mode: use auto, true or false", string(v))
			c.Bundle = BundleAuto
		}
	},
}
