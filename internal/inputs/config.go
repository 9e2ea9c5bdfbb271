package inputs

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/loopback"
)

// DefaultAPIURL is Cloudflare's API base URL.
const DefaultAPIURL = "https://api.cloudflare.com/client/v4"

// LocalAPIURL is the api-url value that starts the embedded emulator.
const LocalAPIURL = "local"

// MaxTagBytes is the limit on `workers/tag` (docs/workers-api.md §6.2: 100 bytes in
// SDK v6.10 and the current reference; an older schema said 25).
const MaxTagBytes = 100

// MaxMessageBytes is where `workers/message` is cut (§6.2: the API truncates at
// 1000 bytes; we cut first, at a UTF-8 boundary, so the stored text is valid).
const MaxMessageBytes = 1000

// Config is every input, read once and validated.
type Config struct {
	APIToken  string
	AccountID string
	// APIURL is the API base URL without a trailing slash; empty when Local.
	APIURL string
	// Local is true for `api-url: local`: run against an in-process emulator.
	Local bool

	Worker       string
	CreateWorker bool
	// WorkingDirectory is absolute.
	WorkingDirectory string
	// Workspace is the absolute base a relative working-directory was resolved
	// against: GITHUB_WORKSPACE in Actions, the current directory elsewhere.
	Workspace string
	// ConfigFile is the `config` input as given: "" (auto), "none", or a path.
	ConfigFile  string
	WranglerEnv string

	Modules string
	// UploadSourceMaps is the `upload-source-maps` input, nil when not set (the
	// configuration\'s `upload_source_maps` decides, else false).
	UploadSourceMaps   *bool
	MainModule         string
	CompatibilityDate  string
	CompatibilityFlags []string
	// CompatibilityFlagsSet tells an explicit empty list from "not given".
	CompatibilityFlagsSet bool

	Tag     string
	Message string

	Deploy bool
	DryRun bool
	// JSON prints the run record instead of the log lines outside Actions.
	JSON bool

	Rollout RolloutConfig
	GitHub  GitHubConfig
	Project ProjectConfig
	// Bundle is the `bundle` input.
	Bundle  BundleMode
	Preview PreviewConfig
}

// loader gives the field functions what they need besides the Config.
type loader struct {
	src     *Source
	opts    LoadOptions
	str     func(name string) string
	boolean func(name string) bool
	fail    func(input string, format string, args ...any)
	// errs collects the problems, each naming its input.
	errs []error
	// stagesOK tells the rollout check that `stages` parsed.
	stagesOK bool
}

// LoadOptions carries what Load needs besides the inputs.
type LoadOptions struct {
	// Workspace is the base of a relative working-directory: GITHUB_WORKSPACE in
	// Actions, the current directory elsewhere. Must be absolute.
	Workspace string
	// Now is used to refuse compatibility dates in the future.
	Now func() time.Time
}

// field reads the input name into c and reports its own problems through l.
// Each input has one (fields); Load calls them in the order of specs.
type field func(c *Config, l *loader, name string)

// check validates what depends on more than one input, after every field.
type check func(c *Config, l *loader)

// boolField stores a boolean input (true or false, any case) at the place
// into returns.
func boolField(into func(c *Config) *bool) field {
	return func(c *Config, l *loader, name string) { *into(c) = l.boolean(name) }
}

// stringField stores an input as given (its default when not set).
func stringField(into func(c *Config) *string) field {
	return func(c *Config, l *loader, name string) { *into(c) = l.str(name) }
}

// fields maps every input to its field function: the core inputs below and
// the feature groups' (rollout.go, github.go, project.go, bundling.go,
// previews.go). A test checks that it covers specs exactly.
var fields = mergeFields(coreFields, rolloutFields, gitHubFields, projectFields, bundleFields, previewFields)

// checks run after every field, in this order.
var checks = []check{checkCredentials, checkRollout, checkPreviews}

func mergeFields(groups ...map[string]field) map[string]field {
	out := map[string]field{}
	for _, g := range groups {
		for name, f := range g {
			if _, dup := out[name]; dup {
				panic("inputs: two field functions for input " + name)
			}
			out[name] = f
		}
	}
	return out
}

// Load reads and validates every input: each with its field function, in
// the order of specs, then the checks across inputs. All problems are
// returned together (errors.Join of *Error values, each naming its input).
func Load(src *Source, opts LoadOptions) (*Config, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &loader{src: src, opts: opts}
	l.fail = func(input string, format string, args ...any) {
		l.errs = append(l.errs, &Error{Input: input, Err: fmt.Errorf(format, args...)})
	}
	l.str = func(name string) string {
		v, ok := src.Lookup(name)
		if !ok {
			return specByName[name].def
		}
		return v
	}
	l.boolean = func(name string) bool {
		v := strings.ToLower(l.str(name))
		switch v {
		case "true":
			return true
		case "false":
			return false
		}
		l.fail(name, "%q is not a boolean: use true or false", v)
		return false
	}

	c := &Config{Workspace: filepath.Clean(opts.Workspace)}
	for _, s := range specs {
		fields[s.name](c, l, s.name)
	}
	for _, check := range checks {
		check(c, l)
	}
	return c, errors.Join(l.errs...)
}

// coreFields are the inputs of the Worker, its version and the run.
var coreFields = map[string]field{
	"api-token": func(c *Config, l *loader, name string) {
		c.APIToken = l.str(name)
		if c.APIToken == "" {
			c.APIToken = strings.TrimSpace(l.src.Env("CLOUDFLARE_API_TOKEN"))
		}
	},
	"account-id": func(c *Config, l *loader, name string) {
		c.AccountID = l.str(name)
		if c.AccountID == "" {
			c.AccountID = strings.TrimSpace(l.src.Env("CLOUDFLARE_ACCOUNT_ID"))
		}
	},
	"api-url": func(c *Config, l *loader, name string) {
		apiURL := l.str(name)
		if apiURL == "" {
			apiURL = strings.TrimSpace(l.src.Env("CLOUDFLARE_API_BASE_URL"))
		}
		if apiURL == "" {
			apiURL = DefaultAPIURL
		}
		if strings.EqualFold(apiURL, LocalAPIURL) {
			c.Local = true
		} else if u, err := CheckAPIURL(apiURL); err != nil {
			l.errs = append(l.errs, &Error{Input: name, Err: err})
		} else {
			c.APIURL = u
		}
	},
	"worker": func(c *Config, l *loader, name string) {
		c.Worker = l.str(name)
		if c.Worker != "" {
			if err := CheckWorkerName(c.Worker); err != nil {
				l.errs = append(l.errs, &Error{Input: name, Err: err})
			}
		}
	},
	"create-worker": boolField(func(c *Config) *bool { return &c.CreateWorker }),
	"working-directory": func(c *Config, l *loader, name string) {
		wd := l.str(name)
		if wd == "" {
			wd = "."
		}
		if !filepath.IsAbs(wd) {
			wd = filepath.Join(l.opts.Workspace, wd)
		}
		c.WorkingDirectory = filepath.Clean(wd)
	},
	"config": stringField(func(c *Config) *string { return &c.ConfigFile }),
	"wrangler-env": func(c *Config, l *loader, name string) {
		// Its form only: whether the configuration defines it is known when
		// the configuration is read.
		c.WranglerEnv = l.str(name)
		if c.WranglerEnv != "" && !wranglerEnvName.MatchString(c.WranglerEnv) {
			l.fail(name, "%q is not an environment name: use the name of an env.<name> section (letters, digits, `-`, `_`)", c.WranglerEnv)
		}
	},
	"modules": func(c *Config, l *loader, name string) {
		// Not set (or only separators): the upload model decides (the entry's folder, or dist/**).
		c.Modules = l.str(name)
		if strings.TrimSpace(strings.NewReplacer(",", "", "\n", "").Replace(c.Modules)) == "" {
			c.Modules = ""
		}
	},
	"upload-source-maps": func(c *Config, l *loader, name string) {
		if v, ok := l.src.Lookup(name); ok {
			switch strings.ToLower(v) {
			case "true", "false":
				b := strings.EqualFold(v, "true")
				c.UploadSourceMaps = &b
			default:
				l.fail(name, "%q is not a boolean: use true or false", v)
			}
		}
	},
	"main-module": stringField(func(c *Config) *string { return &c.MainModule }),
	"compatibility-date": func(c *Config, l *loader, name string) {
		c.CompatibilityDate = l.str(name)
		if c.CompatibilityDate != "" {
			if err := CheckCompatibilityDate(c.CompatibilityDate, l.opts.Now()); err != nil {
				l.errs = append(l.errs, &Error{Input: name, Err: err})
			}
		}
	},
	"compatibility-flags": func(c *Config, l *loader, name string) {
		if v, ok := l.src.Lookup(name); ok {
			c.CompatibilityFlags, c.CompatibilityFlagsSet = SplitList(v), true
			for _, f := range c.CompatibilityFlags {
				if !flagName.MatchString(f) {
					l.fail(name, "%q is not a compatibility flag name (lower-case letters, digits and underscores)", f)
				}
			}
		}
	},
	"tag": func(c *Config, l *loader, name string) {
		c.Tag = l.str(name)
		if err := CheckTag(c.Tag); err != nil {
			l.errs = append(l.errs, &Error{Input: name, Err: err})
		}
	},
	"message": func(c *Config, l *loader, name string) { c.Message = TruncateUTF8(l.str(name), MaxMessageBytes) },
	"deploy":  boolField(func(c *Config) *bool { return &c.Deploy }),
	"dry-run": boolField(func(c *Config) *bool { return &c.DryRun }),
	"json":    boolField(func(c *Config) *bool { return &c.JSON }),
}

// checkCredentials asks for a token and an account, unless the run uses the
// embedded emulator or is a dry run (a plan made offline needs none), and
// checks the account ID's form.
func checkCredentials(c *Config, l *loader) {
	if !c.Local && !strings.EqualFold(l.str("dry-run"), "true") {
		if c.APIToken == "" {
			l.errs = append(l.errs, &Error{Input: "api-token", Err: cloudflare.ErrNoToken})
		} else if strings.ContainsAny(c.APIToken, " \t\r\n") {
			l.fail("api-token", "the API token contains white space; check the secret's value")
		}
		if c.AccountID == "" {
			l.fail("account-id", "no Cloudflare account ID: set the `account-id` input or CLOUDFLARE_ACCOUNT_ID (32 hex characters, shown in the dashboard's sidebar)")
		}
	}
	if c.AccountID != "" && !hex32.MatchString(c.AccountID) {
		l.fail("account-id", "%q is not a Cloudflare account ID (32 lower-case hex characters)", c.AccountID)
	}
}

var (
	hex32    = regexp.MustCompile(`^[0-9a-f]{32}$`)
	flagName = regexp.MustCompile(`^[a-z0-9_]+$`)
	// workerName is the OpenAPI rule (docs/workers-api.md §5.2, conflict): the
	// error-code docs are stricter (no `_`, must start with a letter). We follow
	// the API's own schema and wrangler's check, and add the 63-character DNS
	// label limit both sources agree on.
	workerName = regexp.MustCompile(`^[a-z0-9_][a-z0-9_-]*$`)
)

// IsWorkerID reports whether s is a 32-hex Worker ID rather than a name.
func IsWorkerID(s string) bool { return hex32.MatchString(s) }

// CheckWorkerName validates a Worker name or 32-hex ID.
func CheckWorkerName(s string) error {
	if IsWorkerID(s) {
		return nil
	}
	switch {
	case len(s) > 63:
		return fmt.Errorf("Worker name %q is %d characters; the limit is 63", s, len(s))
	case !workerName.MatchString(s):
		return fmt.Errorf("Worker name %q is invalid: use lower-case letters, digits, `-` and `_`, not starting with `-`", s)
	case strings.HasSuffix(s, "-"):
		return fmt.Errorf("Worker name %q must not end with `-`", s)
	}
	return nil
}

// CheckCompatibilityDate validates a YYYY-MM-DD date that exists and is not
// after today (Cloudflare refuses future dates; one day of slack for time zones).
func CheckCompatibilityDate(s string, now time.Time) error {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return fmt.Errorf("%q is not a date of the form YYYY-MM-DD that exists", s)
	}
	if d.After(now.UTC().Add(24 * time.Hour)) {
		return fmt.Errorf("%q is in the future; Cloudflare accepts dates up to today", s)
	}
	if d.Year() < 2021 {
		// Workers compatibility dates start in 2021 (earliest flags: 2021-11-03).
		return fmt.Errorf("%q is before Workers compatibility dates existed (2021)", s)
	}
	return nil
}

// CheckTag validates a version tag against the API's limit.
func CheckTag(s string) error {
	if len(s) > MaxTagBytes {
		return fmt.Errorf("tag is %d bytes; Cloudflare's `workers/tag` takes at most %d", len(s), MaxTagBytes)
	}
	if strings.ContainsAny(s, "\r\n") {
		return fmt.Errorf("tag must be one line")
	}
	return nil
}

// CheckAPIURL validates an API base URL: https, or plain http only to a
// loopback host (an emulator). It returns the URL without a trailing slash.
func CheckAPIURL(raw string) (string, error) {
	u, err := checkURL(raw, urlRules{
		example:     DefaultAPIURL + " (or `local` for the embedded emulator)",
		credentials: "the API URL must not contain credentials",
		plainHTTP:   "plain http:// is only allowed to a loopback host (an emulator); %q would send the API token unencrypted: use https://",
	})
	if err != nil {
		return "", err
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", fmt.Errorf("the API URL must not have a query or fragment")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// urlRules are the messages of checkURL that differ between the URL inputs.
type urlRules struct {
	// example follows "is not an absolute URL such as".
	example string
	// credentials is the error for a URL with a user name or password.
	credentials string
	// plainHTTP is the error format for http:// to another host; %q is the host.
	plainHTTP string
}

// checkURL is the check every URL input gets: absolute, no credentials, and
// https, or plain http only to a loopback host. Errors never echo a user name
// or password (see redactUserinfo).
func checkURL(raw string, r urlRules) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%q is not an absolute URL such as %s", redactUserinfo(raw), r.example)
	}
	if u.User != nil {
		return nil, errors.New(r.credentials)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf(r.plainHTTP, u.Host)
		}
	default:
		return nil, fmt.Errorf("scheme %q is not supported: use https://", u.Scheme)
	}
	return u, nil
}

// redactUserinfo hides what may be a user name and password (anything before
// an `@`) in a URL that did not parse, so that an error can still show it.
func redactUserinfo(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	if i := strings.Index(raw, "://"); i >= 0 && i < at {
		return raw[:i+3] + "***" + raw[at:]
	}
	return "***" + raw[at:]
}

// IsLoopbackHost reports whether host is localhost or a loopback IP
// (loopback.IsHost: the one rule for plain HTTP).
func IsLoopbackHost(host string) bool { return loopback.IsHost(host) }

// SplitList splits a comma- or newline-separated list, trimming items and
// dropping empty ones.
func SplitList(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for _, item := range strings.Split(line, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// TruncateUTF8 cuts s to at most n bytes without splitting a UTF-8 sequence.
func TruncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	// Drop a rune cut in half: its bytes decode as RuneError of size 1.
	for len(s) > 0 {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}
