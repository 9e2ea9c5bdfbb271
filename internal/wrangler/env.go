package wrangler

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// notInheritable are the keys that a named environment does NOT take from the
// top level: every binding and vars. This follows wrangler's
// packages/wrangler/src/config/validation.ts (normalizeAndValidateEnvironment),
// where these fields are read with notInheritable(…) and all others
// (main, compatibility_date, compatibility_flags, workers_dev, preview_urls,
// routes, observability, logpush, assets, limits, placement, …) with
// inheritable(…). Keys not listed here inherit, which is wrangler's rule for
// every settings key; `tags` is not in that file's lists (inferred: inherits).
var notInheritable = map[string]bool{
	"define": true, "vars": true, "durable_objects": true, "workflows": true, "migrations": true,
	"kv_namespaces": true, "cloudchamber": true, "containers": true, "send_email": true, "queues": true,
	"r2_buckets": true, "d1_databases": true, "vectorize": true, "hyperdrive": true, "services": true,
	"analytics_engine_datasets": true, "dispatch_namespaces": true, "mtls_certificates": true,
	"tail_consumers": true, "unsafe": true, "browser": true, "ai": true, "images": true, "pipelines": true,
	"secrets_store_secrets": true, "version_metadata": true, "ratelimits": true, "unsafe_hello_world": true,
	"worker_loaders": true, "vpc_services": true, "media": true,
}

// topLevelOnly are keys wrangler reads from the top level only; they are
// never taken from an environment section.
var topLevelOnly = map[string]bool{"env": true, "$schema": true}

// UnknownEnvError is input `wrangler-env` naming an environment that a
// configuration with environments does not define. Callers attribute it to
// the `wrangler-env` input rather than to the file.
type UnknownEnvError struct {
	// Env is the requested environment.
	Env string
	// Defined are the environments the configuration has, sorted.
	Defined []string
}

// Error names the environment and the ones the configuration defines.
func (e *UnknownEnvError) Error() string {
	return fmt.Sprintf("input `wrangler-env` is %q but the configuration has no env.%s; it defines: %s",
		e.Env, e.Env, strings.Join(e.Defined, ", "))
}

// selectEnv returns the effective keys for environment env, and env.<env>'s
// own keys (nil when the file does not define it). Without env it is the top
// level. With env, it is the top level's inheritable keys overlaid by
// env.<env>'s keys; non-inheritable keys come from the section only. As in
// wrangler, naming an environment that the file does not define is an error
// when the file defines others, and a warning (top level used) when it
// defines none.
func selectEnv(top map[string]json.RawMessage, env string) (eff, section map[string]json.RawMessage, warnings []string, err error) {
	eff = make(map[string]json.RawMessage, len(top))
	for k, v := range top {
		if !topLevelOnly[k] {
			eff[k] = v
		}
	}
	if env == "" {
		return eff, nil, nil, nil
	}
	envs, err := envSections(top)
	if err != nil {
		return nil, nil, nil, err
	}
	section, ok := envs[env]
	if !ok {
		if len(envs) > 0 {
			return nil, nil, nil, &UnknownEnvError{Env: env, Defined: slices.Sorted(maps.Keys(envs))}
		}
		return eff, nil, []string{fmt.Sprintf("the configuration defines no environments, so `wrangler-env: %s` only changes the Worker's name (as wrangler does)", env)}, nil
	}
	for k := range eff {
		if notInheritable[k] {
			delete(eff, k)
		}
	}
	for k, v := range section {
		if !topLevelOnly[k] {
			eff[k] = v
		}
	}
	return eff, section, nil, nil
}

// envSections decodes the `env` key.
func envSections(top map[string]json.RawMessage) (map[string]map[string]json.RawMessage, error) {
	raw, ok := top["env"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var envs map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &envs); err != nil {
		return nil, fmt.Errorf("key %q must be an object of environments, each an object", "env")
	}
	return envs, nil
}

// applied are the top-level keys this package turns into settings, bindings
// or Worker settings.
var applied = map[string]bool{
	"name": true, "main": true, "compatibility_date": true, "compatibility_flags": true,
	"assets": true, "observability": true, "logpush": true, "tags": true, "workers_dev": true, "preview_urls": true,
	"migrations": true, "placement": true, "limits": true, "cache": true, "tail_consumers": true,
	"previews": true,
}

func init() {
	for _, k := range buildKeys {
		applied[k] = true
	}
}

// ignoredKeys lists the effective keys the action does not apply, sorted.
func ignoredKeys(eff map[string]json.RawMessage) []string {
	var out []string
	for k, v := range eff {
		switch {
		case applied[k], bindingKeys[k], quietKey(k, v):
		case k == "queues":
			var q map[string]json.RawMessage
			_ = json.Unmarshal(v, &q)
			for sub, sv := range q {
				if sub != "producers" && !emptyValue(sv) {
					out = append(out, "queues."+sub)
				}
			}
		case k == "unsafe":
			var u map[string]json.RawMessage
			_ = json.Unmarshal(v, &u)
			for sub := range u {
				if sub != "bindings" {
					out = append(out, "unsafe."+sub)
				}
			}
		case k == "logfwdr":
		case k == "durable_objects":
			var d map[string]json.RawMessage
			_ = json.Unmarshal(v, &d)
			for sub, sv := range d {
				if sub != "bindings" && !emptyValue(sv) {
					out = append(out, "durable_objects."+sub)
				}
			}
		default:
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
