// Command dump bundles a Worker project with internal/esbundle, with the options the action
// uses (keep_names on, as wrangler's default), and writes the modules to a folder, so that
// bench/bundle-vs-wrangler.sh can start them in workerd next to wrangler's output.
//
// usage: dump <project-dir> <entry> <out-dir> <compatibility-date> [flags,comma-separated]
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/esbundle"
)

func main() {
	if len(os.Args) < 5 {
		fmt.Fprintln(os.Stderr, "usage: dump <project-dir> <entry> <out-dir> <compatibility-date> [flags]")
		os.Exit(2)
	}
	dir, err := filepath.Abs(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	opts := esbundle.Options{Entry: os.Args[2], ProjectDir: dir, CompatibilityDate: os.Args[4], KeepNames: true}
	if len(os.Args) > 5 && os.Args[5] != "" {
		opts.CompatibilityFlags = strings.Split(os.Args[5], ",")
	}
	r, err := esbundle.Bundle(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := os.Args[3]
	if err := os.MkdirAll(out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, m := range r.Modules {
		if err := os.WriteFile(filepath.Join(out, m.Name), m.Content, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	fmt.Printf("%s: %d modules, %d inputs, %s\n", r.Summary.Entry, len(r.Modules), r.Summary.Inputs, r.Summary.Duration)
}
