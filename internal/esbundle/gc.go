package esbundle

import (
	"runtime/debug"
	"sync"
)

// BuildMemoryLimit is the Go memory limit while a bundle runs with the garbage collector off:
// the collector stays off until the process's Go memory reaches it, then runs as needed to stay
// under it. Bundling OpenNext's output (3.7 MB of JavaScript in 57 files) peaks near 150 MiB of
// RSS with the collector off, so this leaves room for outputs several times larger before any
// collection, and stays well inside a 7 GiB GitHub-hosted runner. A lower limit the process
// already has (GOMEMLIMIT) is kept.
const BuildMemoryLimit = 1 << 30

// gcPause turns the garbage collector off for the duration of one build, as esbuild's own CLI
// does for one-shot builds (cmd/esbuild sets GOGC to off when there is at most one entry
// point): a build allocates a great deal that stays live until it ends, so collections during
// it mostly rescan live memory and cost a quarter of its CPU time. Builds may overlap (the
// process may bundle several entries concurrently, tests do): the first build in turns the
// collector off and saves the settings, the last one out restores them.
var gcPause = struct {
	mu           sync.Mutex
	active       int
	savedPercent int
	savedLimit   int64
}{}

// pauseGC turns the collector off (with BuildMemoryLimit as a safety net) and returns the
// function that undoes it; call it exactly once, when the build is over.
func pauseGC() (resume func()) {
	g := &gcPause
	g.mu.Lock()
	if g.active == 0 {
		g.savedPercent = debug.SetGCPercent(-1)
		g.savedLimit = debug.SetMemoryLimit(-1) // a negative value reads the limit
		debug.SetMemoryLimit(min(g.savedLimit, BuildMemoryLimit))
	}
	g.active++
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.active--
			if g.active == 0 {
				debug.SetMemoryLimit(g.savedLimit)
				debug.SetGCPercent(g.savedPercent)
			}
		})
	}
}
