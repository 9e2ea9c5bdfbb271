package esbundle

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
)

// A real project to benchmark besides the generated ones, e.g. OpenNext's output:
//
//	go test -run '^$' -bench BenchmarkBundle ./internal/esbundle -bench.dir /path/to/nextjs \
//	  -bench.entry .open-next/worker.js -bench.flags nodejs_compat
var (
	benchDir   = flag.String("bench.dir", "", "project directory for BenchmarkBundle/project")
	benchEntry = flag.String("bench.entry", "", "entry file for -bench.dir, relative to it")
	benchDate  = flag.String("bench.date", "2025-11-30", "compatibility date for -bench.dir")
	benchFlags = flag.String("bench.flags", "", "compatibility flags for -bench.dir, comma-separated")
)

func BenchmarkBundle(b *testing.B) {
	type job struct {
		name string
		opts func(b *testing.B) Options
	}
	jobs := []job{
		{"ts-wasm-txt", func(b *testing.B) Options {
			return Options{Entry: "src/index.ts", ProjectDir: benchProject(b, "ts-wasm-txt"), CompatibilityDate: "2025-06-01", KeepNames: true}
		}},
		{"unenv", func(b *testing.B) Options {
			return Options{Entry: "src/index.js", ProjectDir: benchProject(b, "unenv"), CompatibilityDate: "2025-01-01", CompatibilityFlags: []string{"nodejs_compat"}, KeepNames: true}
		}},
		{"generated-1MB", func(b *testing.B) Options {
			return Options{Entry: "index.js", ProjectDir: bigProject(b), CompatibilityDate: "2025-06-01", KeepNames: true}
		}},
	}
	if *benchDir != "" {
		jobs = append(jobs, job{"project", func(b *testing.B) Options {
			dir, err := filepath.Abs(*benchDir)
			if err != nil {
				b.Fatal(err)
			}
			o := Options{Entry: *benchEntry, ProjectDir: dir, CompatibilityDate: *benchDate, KeepNames: true}
			if *benchFlags != "" {
				o.CompatibilityFlags = strings.Split(*benchFlags, ",")
			}
			return o
		}})
	}
	for _, j := range jobs {
		b.Run(j.name, func(b *testing.B) {
			opts := j.opts(b)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Bundle(opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchProject(b *testing.B, name string) string {
	dir, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		b.Fatal(err)
	}
	return dir
}
