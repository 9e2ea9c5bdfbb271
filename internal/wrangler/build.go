package wrangler

import "encoding/json"

// Build holds the keys wrangler applies when it bundles the entry. Nil pointers mean "not set".
type Build struct {
	// Define replaces global identifiers with JavaScript expressions (`define`).
	Define map[string]string
	// Alias replaces import specifiers (`alias`).
	Alias map[string]string
	// Minify is `minify`; wrangler's default is false.
	Minify *bool
	// KeepNames is `keep_names`; wrangler's default is true.
	KeepNames *bool
	// Tsconfig is `tsconfig`, relative to the configuration file.
	Tsconfig string
}

// buildKeys are the configuration keys Build reads.
var buildKeys = []string{"define", "alias", "minify", "keep_names", "tsconfig"}

func (p *parser) build() Build {
	var b Build
	strMap := func(key string) map[string]string {
		v, ok := p.raw[key]
		if !ok {
			return nil
		}
		var m map[string]string
		if json.Unmarshal(v, &m) != nil {
			p.fail("key %q must be a table of strings", key)
		}
		return m
	}
	b.Define = strMap("define")
	b.Alias = strMap("alias")
	b.Minify = p.boolean("minify")
	b.KeepNames = p.boolean("keep_names")
	p.str("tsconfig", &b.Tsconfig)
	return b
}
