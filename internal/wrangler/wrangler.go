package wrangler

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/tailscale/hujson"
)

// AutoFiles are looked for, in this order, when the `config` input is empty
// (wrangler's own order of preference).
var AutoFiles = []string{"wrangler.jsonc", "wrangler.json", "wrangler.toml"}

// Config is what the action takes from a wrangler configuration.
type Config struct {
	// Path is the file read.
	Path               string
	Name               string
	Main               string
	CompatibilityDate  string
	CompatibilityFlags []string
	// HasCompatibilityFlags tells an empty list from an absent key.
	HasCompatibilityFlags bool
	// Ignored lists top-level keys the action does not apply (routes,
	// triggers, …), sorted; the caller prints them in one notice.
	Ignored []string
	// Unsupported lists keys this build cannot apply yet but that change what
	// the Worker does (bindings, assets); uploading without them would ship a
	// broken Worker, so the caller must refuse them.
	Unsupported []string
}

// applied are the keys this package turns into version settings.
var applied = map[string]bool{
	"name": true, "main": true, "compatibility_date": true, "compatibility_flags": true,
	// Tooling keys that only matter to wrangler itself.
	"$schema": true, "env": true,
}

// unsupported are keys that define bindings or assets (product.md
// "Configuration sources"); they are planned and must not be silently dropped.
var unsupported = map[string]bool{
	"vars": true, "kv_namespaces": true, "r2_buckets": true, "d1_databases": true, "services": true,
	"queues": true, "durable_objects": true, "analytics_engine_datasets": true, "hyperdrive": true,
	"vectorize": true, "ai": true, "browser": true, "version_metadata": true, "send_email": true,
	"workflows": true, "dispatch_namespaces": true, "mtls_certificates": true, "assets": true,
}

// ErrNotFound is returned by Find when no configuration file exists.
var ErrNotFound = errors.New("no wrangler configuration found")

// Find resolves the `config` input against dir: "none" → "", nil; "" → the
// first of AutoFiles that exists, or ErrNotFound; otherwise the named file
// (relative to dir), which must exist.
func Find(dir, input string) (string, error) {
	switch input {
	case "none":
		return "", nil
	case "":
		for _, name := range AutoFiles {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
		return "", ErrNotFound
	}
	p := input
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("failed to find the configuration %q named by input `config`: %w", input, err)
	}
	return p, nil
}

// Load reads (with readFile, os.ReadFile in production) and parses the file at path.
func Load(path string, readFile func(string) ([]byte, error)) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read the configuration %q: %w", path, err)
	}
	c, err := Parse(filepath.Base(path), data)
	if err != nil {
		return nil, fmt.Errorf("failed to parse the configuration %q: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// Parse parses a configuration's bytes; name decides the format (.toml → TOML,
// otherwise JSON with comments and trailing commas). Syntax errors carry the
// line and column.
func Parse(name string, data []byte) (*Config, error) {
	raw, err := toJSONMap(name, data)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	str := func(key string, dst *string) error {
		v, ok := raw[key]
		if !ok {
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("key %q must be a string", key)
		}
		return nil
	}
	var errs []error
	errs = append(errs, str("name", &c.Name), str("main", &c.Main), str("compatibility_date", &c.CompatibilityDate))
	if v, ok := raw["compatibility_flags"]; ok {
		c.HasCompatibilityFlags = true
		if err := json.Unmarshal(v, &c.CompatibilityFlags); err != nil {
			errs = append(errs, fmt.Errorf("key %q must be a list of strings", "compatibility_flags"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for k := range raw {
		switch {
		case applied[k]:
		case unsupported[k]:
			c.Unsupported = append(c.Unsupported, k)
		default:
			c.Ignored = append(c.Ignored, k)
		}
	}
	sort.Strings(c.Ignored)
	sort.Strings(c.Unsupported)
	return c, nil
}

// toJSONMap turns JSONC or TOML into a map of top-level keys to JSON values.
func toJSONMap(name string, data []byte) (map[string]json.RawMessage, error) {
	var std []byte
	if strings.HasSuffix(strings.ToLower(name), ".toml") {
		var m map[string]any
		if _, err := toml.Decode(string(data), &m); err != nil {
			var pe toml.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("line %d, column %d: %s", pe.Position.Line, pe.Position.Col, pe.Message)
			}
			return nil, err
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		std = b
	} else {
		b, err := hujson.Standardize(data)
		if err != nil {
			// hujson's message already has "line L, column C".
			return nil, errors.New(strings.TrimPrefix(err.Error(), "hujson: "))
		}
		std = b
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(std, &raw); err != nil {
		return nil, fmt.Errorf("the top level must be an object: %w", err)
	}
	if raw == nil {
		raw = map[string]json.RawMessage{}
	}
	return raw, nil
}
