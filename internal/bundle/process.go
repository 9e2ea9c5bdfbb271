package bundle

import (
	"bytes"
	"slices"
)

// processTypeTag is what Object.prototype.toString returns for Node.js's `process`. Code that
// compares against it (Astro's `isNode`, and other libraries) takes Node.js-only paths where it
// matches: under workerd's own `process` (process v2) it does, under the unenv polyfill a
// wrangler bundle installs it does not (docs/bundling.md).
var processTypeTag = []byte("[object process]")

var globalProcess = []byte("globalThis.process")

// noteProcess records whether a JavaScript module holds the process type tag, and whether it
// assigns globalThis.process (as the polyfill wrangler injects into its bundles does). Two
// byte searches over a file already in memory.
func (c *collector) noteProcess(name string, data []byte) {
	if bytes.Contains(data, processTypeTag) {
		if c.tagsProcess == nil {
			c.tagsProcess = map[string]bool{}
		}
		c.tagsProcess[name] = true
	}
	if assignsGlobalProcess(data) {
		if c.setsProcess == nil {
			c.setsProcess = map[string]bool{}
		}
		c.setsProcess[name] = true
	}
}

// assignsGlobalProcess reports a plain assignment `globalThis.process = …` (not `??=`, not a
// comparison, not a property such as globalThis.process.env).
func assignsGlobalProcess(data []byte) bool {
	for i := 0; ; {
		j := bytes.Index(data[i:], globalProcess)
		if j < 0 {
			return false
		}
		k := i + j + len(globalProcess)
		for k < len(data) && (data[k] == ' ' || data[k] == '\t') {
			k++
		}
		if k < len(data) && data[k] == '=' && (k+1 == len(data) || data[k+1] != '=') {
			return true
		}
		i += j + len(globalProcess)
	}
}

// processDetection returns the modules reachable from the main module (through static
// imports and import() of a literal path that name uploaded modules) that hold the process
// type tag, sorted; nil when none does, or when a reachable module assigns globalThis.process.
func (c *collector) processDetection(b *Bundle) []string {
	if len(c.tagsProcess) == 0 || b.MainModule == "" {
		return nil
	}
	names := make(map[string]bool, len(b.Modules))
	for _, m := range b.Modules {
		names[m.Name] = true
	}
	seen := map[string]bool{b.MainModule: true}
	queue := []string{b.MainModule}
	var found []string
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if c.setsProcess[name] {
			return nil
		}
		if c.tagsProcess[name] {
			found = append(found, name)
		}
		for _, im := range c.imports[name] {
			if !isRelative(im.Specifier) {
				continue
			}
			target, escapes := resolveSpecifier(name, im.Specifier)
			if escapes || !names[target] || seen[target] {
				continue
			}
			seen[target] = true
			queue = append(queue, target)
		}
	}
	slices.Sort(found)
	return found
}
