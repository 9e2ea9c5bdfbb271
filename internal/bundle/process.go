package bundle

import (
	"bytes"
	"os"
	"slices"
)

// processTypeTag is what Object.prototype.toString returns for Node.js's `process`. Code that
// compares against it (Astro's `isNode`, and other libraries) takes Node.js-only paths where it
// matches: under workerd's own `process` (process v2) it does, under the unenv polyfill a
// wrangler bundle installs it does not (docs/bundling.md).
var processTypeTag = []byte("[object process]")

// globalProcess starts the assignment a bundle with its own `process` polyfill makes.
var globalProcess = []byte("globalThis.process")

// noteProcess records whether a JavaScript module holds the process type tag: one byte search
// over a file already in memory ("[" is rare in code, so it runs at memchr speed).
func (c *collector) noteProcess(name string, data []byte) {
	if bytes.Contains(data, processTypeTag) {
		if c.tagsProcess == nil {
			c.tagsProcess = map[string]bool{}
		}
		c.tagsProcess[name] = true
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
// type tag, sorted; nil when none does, or when a reachable module assigns globalThis.process
// (only then are the reachable modules read again, to look for that assignment).
func (c *collector) processDetection(b *Bundle) []string {
	if len(c.tagsProcess) == 0 || b.MainModule == "" {
		return nil
	}
	paths := make(map[string]string, len(b.Modules))
	for _, m := range b.Modules {
		if isScanned(m.ContentType) {
			paths[m.Name] = m.Path
		}
	}
	seen := map[string]bool{b.MainModule: true}
	reach := []string{b.MainModule}
	var found []string
	for i := 0; i < len(reach); i++ {
		name := reach[i]
		if c.tagsProcess[name] {
			found = append(found, name)
		}
		for _, im := range c.imports[name] {
			if !isRelative(im.Specifier) {
				continue
			}
			target, escapes := resolveSpecifier(name, im.Specifier)
			if _, ok := paths[target]; escapes || !ok || seen[target] {
				continue
			}
			seen[target] = true
			reach = append(reach, target)
		}
	}
	if len(found) == 0 {
		return nil
	}
	for _, name := range reach {
		if data, err := os.ReadFile(paths[name]); err == nil && assignsGlobalProcess(data) {
			return nil
		}
	}
	slices.Sort(found)
	return found
}
