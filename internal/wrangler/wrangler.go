package wrangler

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/tailscale/hujson"

	"github.com/workers-deploy/workers-deploy/internal/bindings"
	"github.com/workers-deploy/workers-deploy/internal/safefile"
)

// AutoFiles are looked for, in this order, when the `config` input is empty
// (wrangler's own order of preference).
var AutoFiles = []string{"wrangler.jsonc", "wrangler.json", "wrangler.toml"}

// Config is what the action takes from a wrangler configuration, after the
// named environment (if any) was applied.
type Config struct {
	// Path is the file read.
	Path string
	// Env is the named environment applied, or "".
	Env  string
	Name string
	Main string
	// CompatibilityDate is YYYY-MM-DD, or "".
	CompatibilityDate  string
	CompatibilityFlags []string
	// HasCompatibilityFlags tells an empty list from an absent key.
	HasCompatibilityFlags bool
	// Bindings are the configuration's bindings in API form, sorted by name.
	Bindings []bindings.Binding
	// Resources are bindings whose resource has no ID in the file (KV, D1)
	// and R2 buckets, which must exist: the run looks them up (and creates
	// them with `create-resources`) before any write. A KV or D1 resource
	// is not in Bindings until resolved.
	Resources []Resource
	// Version holds the version-level settings wrangler sends with a version.
	Version VersionSettings
	// Assets is the `assets` section, nil when absent.
	Assets *Assets
	// Worker holds the Worker-level settings, applied only when the action
	// creates the Worker.
	Worker WorkerSettings
	// Build holds what bundling the entry takes from the configuration.
	Build Build
	// Ignored lists keys the action does not apply (routes, triggers, …),
	// sorted; the caller prints them in one notice.
	Ignored []string
	// Warnings are problems that do not stop the run (printed as warnings).
	Warnings []string
	// Rules are the module `rules` (upload.go).
	Rules []Rule
	// UploadSourceMaps is `upload_source_maps`, nil when not set.
	UploadSourceMaps *bool
	// Site is true when the configuration uses Workers Sites (`site`).
	Site bool
	// Previews is the `previews` block, nil when absent (previews.go).
	Previews *Previews
}

// Assets is the `assets` section (docs/workers-api.md §6.1, §8).
type Assets struct {
	// Directory is the folder of static assets, relative to the configuration file.
	Directory string
	// Binding is the name of the assets binding, or "".
	Binding string
	// HTMLHandling is auto-trailing-slash, force-trailing-slash, drop-trailing-slash or none; "" for the default.
	HTMLHandling string
	// NotFoundHandling is none, 404-page or single-page-application; "" for the default.
	NotFoundHandling string
	// RunWorkerFirst is a JSON boolean or array of route rules; nil for the default.
	RunWorkerFirst json.RawMessage
}

// WorkerSettings are Worker-level settings (docs/workers-api.md §5.1). Nil
// pointers and empty values mean "not set".
type WorkerSettings struct {
	// Observability is the observability object, in the API's format.
	Observability json.RawMessage
	Logpush       *bool
	Tags          []string
	// TailConsumers is `tail_consumers` as written (a list of {service}).
	TailConsumers json.RawMessage
	// WorkersDev is `workers_dev`: reachable at <name>.<subdomain>.workers.dev.
	WorkersDev *bool
	// PreviewURLs is `preview_urls`: version preview URLs.
	PreviewURLs *bool
}

// Resource kinds.
const (
	ResourceKV = "kv_namespace"
	ResourceD1 = "d1"
	ResourceR2 = "r2_bucket"
)

// Resource is a KV namespace or D1 database named without an ID, or an R2
// bucket (named by its bucket name) that must exist.
type Resource struct {
	// Kind is ResourceKV, ResourceD1 or ResourceR2.
	Kind string
	// Binding is the binding's name.
	Binding string
	// Name is the D1 database_name or the R2 bucket_name; "" for KV and
	// for a D1 entry without database_name (see DefaultResourceName).
	Name string
	// Jurisdiction is the R2 bucket's jurisdiction, or "".
	Jurisdiction string
	// Where is the entry in the file, e.g. d1_databases[0].
	Where string
}

// DefaultResourceName is the name wrangler gives a KV namespace (its title)
// or D1 database it provisions for a binding named without one:
// `<worker>-<binding>`, the binding lowercased with `_` as `-`.
func DefaultResourceName(worker, binding string) string {
	return worker + "-" + strings.ReplaceAll(strings.ToLower(binding), "_", "-")
}

// Migration is one step of `migrations`: its tag and the step without it.
type Migration struct {
	Tag string
	// Step is the migration object without `tag`, in the API's format.
	Step json.RawMessage
}

// VersionSettings are the settings wrangler uploads with each version
// (docs/wrangler.md). Nil and empty mean "not set".
type VersionSettings struct {
	// Migrations are the Durable Object migrations in file order; which of
	// them a version carries depends on the Worker's current tag (Pending).
	Migrations []Migration
	// Placement is the API's placement object, as wrangler derives it.
	Placement json.RawMessage
	// Limits is `limits` as written ({cpu_ms, subrequests}).
	Limits json.RawMessage
	// CacheOptions is `cache` as written, sent as `cache_options`.
	CacheOptions json.RawMessage
}

// ErrNotFound is returned by Find when no configuration file exists.
var ErrNotFound = errors.New("no wrangler configuration found")

// MaxConfigBytes caps the read of a configuration file: real ones are a few
// KiB, and a file that never ends (a link to /dev/zero) must not exhaust
// memory.
const MaxConfigBytes = 4 << 20

// Find resolves the `config` input against dir: "none" → "", nil; "" → the
// first of AutoFiles that exists, or ErrNotFound; otherwise the named file
// (relative to dir), which must exist and end in .jsonc, .json or .toml.
// The file must be a regular file that resolves inside dir (symbolic links
// are followed only when they stay inside it): a named pipe or a device
// could block the run or never end, and a link out of the repository could
// make the action read, and quote in a parse error, any file of the runner.
// These errors name the file and its target, never its content.
func Find(dir, input string) (string, error) {
	switch input {
	case "none":
		return "", nil
	case "":
		for _, name := range AutoFiles {
			p := filepath.Join(dir, name)
			if _, err := os.Lstat(p); err != nil {
				continue
			}
			if err := check(dir, p); err != nil {
				return "", fmt.Errorf("cannot read the configuration %q: %w; replace it with a regular file inside the working directory, or set input `config`", name, err)
			}
			return p, nil
		}
		return "", ErrNotFound
	}
	switch strings.ToLower(filepath.Ext(input)) {
	case ".toml", ".json", ".jsonc":
	default:
		// Parsing it as JSONC would give a baffling syntax error at line 1.
		return "", fmt.Errorf("input `config` is %q: a wrangler configuration is a .jsonc, .json or .toml file (or `none`)", input)
	}
	p := input
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	if err := check(dir, p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("failed to find the configuration %q named by input `config`: %w", input, err)
		}
		return "", fmt.Errorf("cannot read the configuration %q named by input `config`: %w; name a regular file inside the working directory", input, err)
	}
	return p, nil
}

// check refuses a configuration that is not a regular file inside dir.
func check(dir, p string) error {
	_, _, err := safefile.Check(dir, p)
	return err
}

// Reader returns the function that reads configuration files in production:
// a regular file inside dir (see Find), at most MaxConfigBytes.
func Reader(dir string) func(path string) ([]byte, error) {
	return func(path string) ([]byte, error) { return safefile.ReadFile(dir, path, MaxConfigBytes) }
}

// Load reads (with readFile, Reader in production) and parses the file at
// path for the top-level environment.
func Load(path string, readFile func(string) ([]byte, error)) (*Config, error) {
	return LoadEnv(path, "", readFile)
}

// LoadEnv is Load for the named environment env ("" for the top level).
func LoadEnv(path, env string, readFile func(string) ([]byte, error)) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read the configuration %q: %w", path, err)
	}
	c, err := ParseEnv(filepath.Base(path), data, env)
	if err != nil {
		return nil, fmt.Errorf("failed to parse the configuration %q: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// Parse parses a configuration's bytes for the top-level environment; name
// decides the format (.toml → TOML, otherwise JSON with comments and trailing
// commas). Syntax errors carry the line and column.
func Parse(name string, data []byte) (*Config, error) { return ParseEnv(name, data, "") }

// ParseEnv parses a configuration and applies the named environment env.
func ParseEnv(name string, data []byte, env string) (*Config, error) {
	top, err := toJSONMap(name, data)
	if err != nil {
		return nil, err
	}
	eff, section, warnings, err := selectEnv(top, env)
	if err != nil {
		return nil, err
	}
	c := &Config{Env: env, Warnings: warnings}
	p := &parser{raw: eff, prefix: envPrefix(env)}
	p.str("name", &c.Name)
	p.str("main", &c.Main)
	p.str("compatibility_date", &c.CompatibilityDate)
	if _, ok := eff["compatibility_flags"]; ok {
		c.HasCompatibilityFlags = true
		p.strList("compatibility_flags", &c.CompatibilityFlags)
	}
	if env != "" {
		if _, own := section["name"]; !own && c.Name != "" {
			// wrangler's "legacy environments" (the default): the Worker of
			// env.<e> is called <name>-<e> unless the environment sets name
			// (validation.ts: inheritableInLegacyEnvironments + appendEnvName).
			c.Name += "-" + env
		}
	}
	p.workerSettings(&c.Worker)
	p.upload(c)
	c.Build = p.build()
	p.versionSettings(&c.Version)
	c.Assets = p.assets()
	bs := p.bindings()
	if c.Assets != nil && c.Assets.Binding != "" {
		b, err := bindings.New(c.Assets.Binding, "assets", nil)
		if err == nil {
			bs = append(bs, b)
		}
	}
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	for _, r := range p.resources {
		if r.Kind != ResourceR2 {
			// Unresolved resources still take their name.
			if b, err := bindings.New(r.Binding, r.Kind, nil); err == nil {
				bs = append(bs, b)
			}
		}
	}
	for _, b := range bs {
		if err := bindings.CheckName(b.Name); err != nil {
			p.errs = append(p.errs, err)
		}
	}
	merged, err := bindings.Merge(bindings.Layer{Source: "the configuration", Bindings: bs})
	if err != nil {
		p.errs = append(p.errs, err)
	}
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	unresolved := map[string]bool{}
	for _, r := range p.resources {
		if r.Kind != ResourceR2 {
			unresolved[r.Binding] = true
		}
	}
	c.Bindings = slices.DeleteFunc(merged, func(b bindings.Binding) bool { return unresolved[b.Name] })
	c.Resources = p.resources
	if c.Previews, err = parsePreviews(eff, envPrefix(env), c.Version); err != nil {
		return nil, err
	}
	c.Ignored = ignoredKeys(eff)
	return c, nil
}

func envPrefix(env string) string {
	if env == "" {
		return ""
	}
	return "env." + env + "."
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
