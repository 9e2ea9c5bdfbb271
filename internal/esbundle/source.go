package esbundle

import (
	"path/filepath"
	"strings"
)

// sourceExts are the entry extensions that always need bundling: workerd runs JavaScript only.
var sourceExts = []string{".ts", ".tsx", ".jsx", ".mts", ".cts"}

// IsSourceFile reports whether an entry path is TypeScript or JSX source.
func IsSourceFile(entry string) bool {
	ext := strings.ToLower(filepath.Ext(entry))
	for _, e := range sourceExts {
		if ext == e {
			return true
		}
	}
	return false
}
