package wrangler

import (
	"encoding/json"
	"strings"
)

// Rule is one entry of the configuration's module `rules`.
type Rule struct {
	// Type is ESModule, CommonJS, CompiledWasm, Text, Data, PythonModule or PythonRequirement.
	Type string `json:"type"`
	// Globs are matched against module names.
	Globs []string `json:"globs"`
	// Fallthrough lets later rules of the same type apply too; nil when not set.
	Fallthrough *bool `json:"fallthrough"`
}

// uploadKeys are the keys of the upload model this package reads (upload.go).
var uploadKeys = map[string]bool{"rules": true, "upload_source_maps": true}

// buildToolKeys are keys that build tools write into generated configurations (the
// Cloudflare Vite plugin, Nitro, OpenNext) or that only steer wrangler's own bundling and
// dev server. They are never listed as "not applied": the user did not write them.
var buildToolKeys = map[string]bool{
	"configPath": true, "userConfigPath": true, "topLevelName": true, "legacy_env": true,
	"definedEnvironments": true, "targetEnvironment": true, "no_bundle": true,
	"find_additional_modules": true, "preserve_file_names": true,
	"dev": true, "build": true, "jsx_factory": true, "jsx_fragment": true, "tsconfig": true,
	"minify": true, "keep_names": true, "python_modules": true, "pages_build_output_dir": true,
	"unsafe_hello_world": true, "compliance_region": true,
}

// emptyValue reports null, "", [] and {}, and objects whose values are all empty
// (generated configurations write `"queues": {"producers": [], "consumers": []}`).
func emptyValue(v json.RawMessage) bool {
	switch strings.Join(strings.Fields(string(v)), "") {
	case "", "null", `""`, "[]", "{}":
		return true
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(v, &obj) != nil || obj == nil {
		return false
	}
	for _, sub := range obj {
		if !emptyValue(sub) {
			return false
		}
	}
	return true
}

// quietKey reports a key that the "not applied" notice leaves out.
func quietKey(k string, v json.RawMessage) bool {
	return uploadKeys[k] || buildToolKeys[k] || emptyValue(v)
}

// upload reads the keys of the upload model: `rules`, `upload_source_maps`, and `site`
// (Workers Sites, which a version upload cannot carry: the caller refuses it).
func (p *parser) upload(c *Config) {
	if v, ok := p.raw["rules"]; ok && !emptyValue(v) {
		if err := json.Unmarshal(v, &c.Rules); err != nil {
			p.fail("key %q must be a list of {type, globs, fallthrough} objects", p.prefix+"rules")
		}
	}
	c.UploadSourceMaps = p.boolean("upload_source_maps")
	if v, ok := p.raw["site"]; ok && !emptyValue(v) {
		c.Site = true
	}
}
