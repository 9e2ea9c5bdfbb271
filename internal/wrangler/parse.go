package wrangler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/workers-deploy/workers-deploy/internal/bindings"
)

// parser decodes the effective keys, collecting every problem.
type parser struct {
	raw    map[string]json.RawMessage
	prefix string // "env.<e>." for messages, or ""
	errs   []error
	// resources are KV and D1 entries without an ID, and R2 buckets.
	resources []Resource
}

func (p *parser) fail(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *parser) str(key string, dst *string) {
	if v, ok := p.raw[key]; ok && json.Unmarshal(v, dst) != nil {
		p.fail("key %q must be a string", key)
	}
}

func (p *parser) strList(key string, dst *[]string) {
	if v, ok := p.raw[key]; ok && json.Unmarshal(v, dst) != nil {
		p.fail("key %q must be a list of strings", key)
	}
}

func (p *parser) boolean(key string) *bool {
	v, ok := p.raw[key]
	if !ok {
		return nil
	}
	var b bool
	if json.Unmarshal(v, &b) != nil {
		p.fail("key %q must be true or false", key)
		return nil
	}
	return &b
}

func (p *parser) workerSettings(w *WorkerSettings) {
	if v, ok := p.raw["observability"]; ok {
		var obj map[string]json.RawMessage
		if json.Unmarshal(v, &obj) != nil || obj == nil {
			p.fail("key %q must be an object such as {\"enabled\": true}", "observability")
		} else {
			// wrangler's observability keys are the API's (enabled,
			// head_sampling_rate, logs, traces); sent as written.
			w.Observability = compact(v)
		}
	}
	w.Logpush = p.boolean("logpush")
	p.strList("tags", &w.Tags)
	if v, ok := p.raw["tail_consumers"]; ok && string(v) != "null" {
		var list []map[string]json.RawMessage
		if json.Unmarshal(v, &list) != nil {
			p.fail("key %q must be a list of objects such as {\"service\": \"my-tail-worker\"}", "tail_consumers")
		} else {
			w.TailConsumers = compact(v)
		}
	}
	w.WorkersDev = p.boolean("workers_dev")
	w.PreviewURLs = p.boolean("preview_urls")
}

// Assets config values (docs/workers-api.md §6.1).
var (
	htmlHandling     = []string{"auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"}
	notFoundHandling = []string{"none", "404-page", "single-page-application"}
)

func (p *parser) assets() *Assets {
	v, ok := p.raw["assets"]
	if !ok {
		return nil
	}
	var in struct {
		Directory        *string         `json:"directory"`
		Binding          *string         `json:"binding"`
		HTMLHandling     *string         `json:"html_handling"`
		NotFoundHandling *string         `json:"not_found_handling"`
		RunWorkerFirst   json.RawMessage `json:"run_worker_first"`
	}
	if err := json.Unmarshal(v, &in); err != nil {
		p.fail("key %q must be an object with directory, binding, html_handling, not_found_handling, run_worker_first: %v", "assets", err)
		return nil
	}
	a := &Assets{}
	if in.Directory != nil {
		a.Directory = *in.Directory
	}
	if in.Binding != nil {
		a.Binding = *in.Binding
	}
	if in.HTMLHandling != nil {
		a.HTMLHandling = *in.HTMLHandling
		if !slices.Contains(htmlHandling, a.HTMLHandling) {
			p.fail("assets.html_handling %q must be one of %v", a.HTMLHandling, htmlHandling)
		}
	}
	if in.NotFoundHandling != nil {
		a.NotFoundHandling = *in.NotFoundHandling
		if !slices.Contains(notFoundHandling, a.NotFoundHandling) {
			p.fail("assets.not_found_handling %q must be one of %v", a.NotFoundHandling, notFoundHandling)
		}
	}
	if len(in.RunWorkerFirst) > 0 && string(in.RunWorkerFirst) != "null" {
		var b bool
		var rules []string
		if json.Unmarshal(in.RunWorkerFirst, &b) != nil && json.Unmarshal(in.RunWorkerFirst, &rules) != nil {
			p.fail("assets.run_worker_first must be true, false or a list of route rules such as [\"/api/*\"]")
		}
		a.RunWorkerFirst = compact(in.RunWorkerFirst)
	}
	return a
}

// compact returns v without insignificant white space.
func compact(v json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, v) != nil {
		return v
	}
	return buf.Bytes()
}

// fieldMap maps one wrangler key of a binding entry to an API key.
type fieldMap struct {
	from, to string
	required bool
	// defaultName uses the binding's name when the key is absent.
	defaultName bool
}

// arrayKind is a configuration key holding a list of bindings of one type.
type arrayKind struct {
	key, sub string // sub: the list inside an object key (queues.producers)
	typ      string
	nameKey  string // the entry key holding the binding name
	fields   []fieldMap
	// convert handles keys the field list cannot (dispatch outbound).
	convert func(entry map[string]json.RawMessage, out map[string]any) error
}

// arrayKinds map wrangler's binding lists to the API's binding objects the
// way wrangler 4.85 builds them (packages/wrangler/src/deployment-bundle/
// create-worker-upload-form.ts in cloudflare/workers-sdk); docs/wrangler.md
// lists the mapping. D1 and KV entries without an ID become Resources.
var arrayKinds = []arrayKind{
	{key: "kv_namespaces", typ: "kv_namespace", nameKey: "binding", fields: []fieldMap{{from: "id", to: "namespace_id", required: true}}},
	{key: "r2_buckets", typ: "r2_bucket", nameKey: "binding", fields: []fieldMap{{from: "bucket_name", to: "bucket_name", required: true}, {from: "jurisdiction", to: "jurisdiction"}}},
	{key: "d1_databases", typ: "d1", nameKey: "binding", fields: []fieldMap{{from: "database_id", to: "database_id", required: true}}},
	{key: "services", typ: "service", nameKey: "binding", fields: []fieldMap{{from: "service", to: "service", required: true}, {from: "environment", to: "environment"}, {from: "entrypoint", to: "entrypoint"}, {from: "props", to: "props"}, {from: "cross_account_grant", to: "cross_account_grant"}}},
	{key: "queues", sub: "producers", typ: "queue", nameKey: "binding", fields: []fieldMap{{from: "queue", to: "queue_name", required: true}, {from: "delivery_delay", to: "delivery_delay"}}},
	{key: "durable_objects", sub: "bindings", typ: "durable_object_namespace", nameKey: "name", fields: []fieldMap{{from: "class_name", to: "class_name", required: true}, {from: "script_name", to: "script_name"}, {from: "environment", to: "environment"}}},
	{key: "analytics_engine_datasets", typ: "analytics_engine", nameKey: "binding", fields: []fieldMap{{from: "dataset", to: "dataset"}}},
	{key: "hyperdrive", typ: "hyperdrive", nameKey: "binding", fields: []fieldMap{{from: "id", to: "id", required: true}}},
	{key: "vectorize", typ: "vectorize", nameKey: "binding", fields: []fieldMap{{from: "index_name", to: "index_name", required: true}}},
	{key: "send_email", typ: "send_email", nameKey: "name", fields: []fieldMap{{from: "destination_address", to: "destination_address"}, {from: "allowed_destination_addresses", to: "allowed_destination_addresses"}, {from: "allowed_sender_addresses", to: "allowed_sender_addresses"}}},
	{key: "workflows", typ: "workflow", nameKey: "binding", fields: []fieldMap{{from: "name", to: "workflow_name", required: true}, {from: "class_name", to: "class_name"}, {from: "script_name", to: "script_name"}}},
	{key: "dispatch_namespaces", typ: "dispatch_namespace", nameKey: "binding", fields: []fieldMap{{from: "namespace", to: "namespace", required: true}}, convert: dispatchOutbound},
	{key: "mtls_certificates", typ: "mtls_certificate", nameKey: "binding", fields: []fieldMap{{from: "certificate_id", to: "certificate_id", required: true}}},
	{key: "pipelines", typ: "pipelines", nameKey: "binding", fields: []fieldMap{{from: "pipeline", to: "pipeline", required: true}}},
	{key: "secrets_store_secrets", typ: "secrets_store_secret", nameKey: "binding", fields: []fieldMap{{from: "store_id", to: "store_id", required: true}, {from: "secret_name", to: "secret_name", required: true}}},
	{key: "ratelimits", typ: "ratelimit", nameKey: "name", fields: []fieldMap{{from: "namespace_id", to: "namespace_id", required: true}, {from: "simple", to: "simple", required: true}}},
	{key: "ai_search_namespaces", typ: "ai_search_namespace", nameKey: "binding", fields: []fieldMap{{from: "namespace", to: "namespace", required: true}}},
	{key: "ai_search", typ: "ai_search", nameKey: "binding", fields: []fieldMap{{from: "instance_name", to: "instance_name", required: true}}},
	{key: "worker_loaders", typ: "worker_loader", nameKey: "binding"},
	{key: "vpc_services", typ: "vpc_service", nameKey: "binding", fields: []fieldMap{{from: "service_id", to: "service_id", required: true}}},
	{key: "vpc_networks", typ: "vpc_network", nameKey: "binding", fields: []fieldMap{{from: "tunnel_id", to: "tunnel_id"}, {from: "network_id", to: "network_id"}}},
	{key: "artifacts", typ: "artifacts", nameKey: "binding", fields: []fieldMap{{from: "namespace", to: "namespace", required: true}}},
	{key: "flagship", typ: "flagship", nameKey: "binding", fields: []fieldMap{{from: "app_id", to: "app_id", required: true}}},
	{key: "unsafe_hello_world", typ: "unsafe_hello_world", nameKey: "binding", fields: []fieldMap{{from: "enable_timer", to: "enable_timer"}}},
	{key: "logfwdr", sub: "bindings", typ: "logfwdr", nameKey: "name", fields: []fieldMap{{from: "destination", to: "destination", required: true}}},
}

// objectKinds are keys holding one binding, `{binding = "NAME"}`; extra are
// the further keys wrangler sends (ai's staging).
var objectKinds = map[string]struct {
	typ   string
	extra []string
}{
	"ai": {"ai", []string{"staging"}}, "browser": {"browser", nil}, "version_metadata": {"version_metadata", nil},
	"images": {"images", nil}, "stream": {"stream", nil}, "media": {"media", nil},
}

// bindingKeys are every key that defines bindings.
var bindingKeys = func() map[string]bool {
	m := map[string]bool{"vars": true, "unsafe": true}
	for _, k := range arrayKinds {
		if k.sub == "" {
			m[k.key] = true
		}
	}
	for k := range objectKinds {
		m[k] = true
	}
	return m
}()

// dispatchOutbound maps wrangler's outbound {service, environment, parameters}
// to the API's {worker: {service, environment}, params: [{name}]}.
func dispatchOutbound(entry map[string]json.RawMessage, out map[string]any) error {
	raw, ok := entry["outbound"]
	if !ok {
		return nil
	}
	var ob struct {
		Service     string   `json:"service"`
		Environment string   `json:"environment"`
		Parameters  []string `json:"parameters"`
	}
	if err := json.Unmarshal(raw, &ob); err != nil || ob.Service == "" {
		return fmt.Errorf("outbound must be an object with a service name and optional environment and parameters")
	}
	worker := map[string]any{"service": ob.Service}
	if ob.Environment != "" {
		worker["environment"] = ob.Environment
	}
	o := map[string]any{"worker": worker}
	if len(ob.Parameters) > 0 {
		params := make([]map[string]string, 0, len(ob.Parameters))
		for _, p := range ob.Parameters {
			params = append(params, map[string]string{"name": p})
		}
		o["params"] = params
	}
	out["outbound"] = o
	return nil
}

// bindings maps every binding key of the effective configuration.
func (p *parser) bindings() []bindings.Binding {
	var out []bindings.Binding
	add := func(b bindings.Binding, err error) {
		if err != nil {
			p.errs = append(p.errs, err)
			return
		}
		out = append(out, b)
	}
	if v, ok := p.raw["vars"]; ok {
		var vars map[string]json.RawMessage
		if json.Unmarshal(v, &vars) != nil {
			p.fail("key %q must be an object of names to values", p.prefix+"vars")
		}
		names := make([]string, 0, len(vars))
		for k := range vars {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			var s string
			if json.Unmarshal(vars[k], &s) == nil {
				add(bindings.New(k, "plain_text", map[string]any{"text": s}))
			} else {
				add(bindings.New(k, "json", map[string]any{"json": compact(vars[k])}))
			}
		}
	}
	for _, kind := range arrayKinds {
		v, ok := p.raw[kind.key]
		path := p.prefix + kind.key
		if !ok {
			continue
		}
		if kind.sub != "" {
			var obj map[string]json.RawMessage
			if json.Unmarshal(v, &obj) != nil {
				p.fail("key %q must be an object", path)
				continue
			}
			v, ok = obj[kind.sub]
			path += "." + kind.sub
			if !ok {
				continue
			}
		}
		var entries []map[string]json.RawMessage
		if json.Unmarshal(v, &entries) != nil {
			p.fail("key %q must be a list of objects", path)
			continue
		}
		for i, e := range entries {
			where := fmt.Sprintf("%s[%d]", path, i)
			if p.resource(kind, e, where) {
				continue
			}
			add(kind.build(e, where))
		}
	}
	p.unsafeBindings(add)
	keys := make([]string, 0, len(objectKinds))
	for k := range objectKinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, ok := p.raw[k]
		if !ok {
			continue
		}
		var e map[string]json.RawMessage
		var name string
		if json.Unmarshal(v, &e) != nil || json.Unmarshal(e["binding"], &name) != nil || name == "" {
			p.fail("key %q must be an object with a `binding` name, e.g. {\"binding\": \"AI\"}", p.prefix+k)
			continue
		}
		fields := map[string]any{}
		for _, x := range objectKinds[k].extra {
			if raw, ok := e[x]; ok && string(raw) != "null" {
				fields[x] = compact(raw)
			}
		}
		add(bindings.New(name, objectKinds[k].typ, fields))
	}
	return out
}

// build maps one entry of a binding list.
func (k arrayKind) build(e map[string]json.RawMessage, path string) (bindings.Binding, error) {
	var name string
	if json.Unmarshal(e[k.nameKey], &name) != nil || name == "" {
		return bindings.Binding{}, fmt.Errorf("%s: `%s` must be the binding's name (a string)", path, k.nameKey)
	}
	out := map[string]any{}
	for _, f := range k.fields {
		v, ok := e[f.from]
		switch {
		case ok && string(v) != "null":
			out[f.to] = compact(v)
		case f.defaultName:
			out[f.to] = name
		case f.required:
			return bindings.Binding{}, fmt.Errorf("%s (%s): `%s` is required", path, name, f.from)
		}
	}
	if k.convert != nil {
		if err := k.convert(e, out); err != nil {
			return bindings.Binding{}, fmt.Errorf("%s (%s): %w", path, name, err)
		}
	}
	return bindings.New(name, k.typ, out)
}

// missing reports whether a key is absent, null or the empty string: an
// empty ID is never sent.
func missing(e map[string]json.RawMessage, key string) bool {
	v, ok := e[key]
	if !ok || string(v) == "null" {
		return true
	}
	var s string
	return json.Unmarshal(v, &s) == nil && s == ""
}

// resource records KV and D1 entries without an ID (and returns true: the
// binding is built once the resource is resolved) and R2 buckets, which are
// checked to exist (false: the binding is built now).
func (p *parser) resource(kind arrayKind, e map[string]json.RawMessage, where string) bool {
	var name string
	if json.Unmarshal(e[kind.nameKey], &name) != nil || name == "" {
		return false // build reports it
	}
	str := func(key string) string {
		var s string
		_ = json.Unmarshal(e[key], &s)
		return s
	}
	switch kind.key {
	case "kv_namespaces":
		if missing(e, "id") {
			p.resources = append(p.resources, Resource{Kind: ResourceKV, Binding: name, Where: where})
			return true
		}
	case "d1_databases":
		if missing(e, "database_id") {
			// Without database_name the database has wrangler's default
			// name (Resource.Name "": the caller derives it).
			p.resources = append(p.resources, Resource{Kind: ResourceD1, Binding: name, Name: str("database_name"), Where: where})
			return true
		}
	case "r2_buckets":
		if b := str("bucket_name"); b != "" {
			p.resources = append(p.resources, Resource{Kind: ResourceR2, Binding: name, Name: b, Jurisdiction: str("jurisdiction"), Where: where})
		}
	}
	return false
}

// unsafeBindings passes `unsafe.bindings` through as written: each entry is a
// binding object in the API's format (name, type and its own fields).
func (p *parser) unsafeBindings(add func(bindings.Binding, error)) {
	v, ok := p.raw["unsafe"]
	if !ok {
		return
	}
	var u struct {
		Bindings []json.RawMessage `json:"bindings"`
	}
	if json.Unmarshal(v, &u) != nil {
		p.fail("key %q must be an object with `bindings` (a list of binding objects)", p.prefix+"unsafe")
		return
	}
	for i, raw := range u.Bindings {
		b, err := bindings.FromJSON(raw)
		if err != nil {
			err = fmt.Errorf("%sunsafe.bindings[%d]: %w", p.prefix, i, err)
		}
		add(b, err)
	}
}

// versionSettings reads migrations, placement, limits and cache.
func (p *parser) versionSettings(vs *VersionSettings) {
	if v, ok := p.raw["migrations"]; ok && string(v) != "null" {
		var steps []map[string]json.RawMessage
		if json.Unmarshal(v, &steps) != nil {
			p.fail("key %q must be a list of migration steps such as {\"tag\": \"v1\", \"new_sqlite_classes\": [\"Counter\"]}", p.prefix+"migrations")
		}
		seen := map[string]bool{}
		for i, st := range steps {
			var tag string
			if json.Unmarshal(st["tag"], &tag) != nil || tag == "" {
				p.fail("%smigrations[%d]: `tag` must be a non-empty string", p.prefix, i)
				continue
			}
			if seen[tag] {
				p.fail("%smigrations[%d]: tag %q is used twice; each migration needs its own tag", p.prefix, i, tag)
				continue
			}
			seen[tag] = true
			delete(st, "tag")
			raw, _ := json.Marshal(st)
			vs.Migrations = append(vs.Migrations, Migration{Tag: tag, Step: raw})
		}
	}
	p.runtimeObjects(&vs.Limits, &vs.Placement, &vs.CacheOptions)
}

// runtimeObjects reads `limits`, `placement` (in the API's form) and `cache`
// (sent as cache_options); an absent key leaves its destination as it is.
func (p *parser) runtimeObjects(limits, placement, cache *json.RawMessage) {
	if pl := p.placement(); pl != nil {
		*placement = pl
	}
	for key, dst := range map[string]*json.RawMessage{"limits": limits, "cache": cache} {
		if v, ok := p.raw[key]; ok && string(v) != "null" {
			var obj map[string]json.RawMessage
			if json.Unmarshal(v, &obj) != nil {
				p.fail("key %q must be an object", p.prefix+key)
				continue
			}
			*dst = compact(v)
		}
	}
}

// placement derives the API's placement object as wrangler does
// (packages/wrangler/src/utils/placement.ts): mode "off" without a hint is
// no placement; a hint or mode "smart" is {mode: smart} (the hint is not
// sent); otherwise the first of region, host, hostname as a targeted
// placement.
func (p *parser) placement() json.RawMessage {
	v, ok := p.raw["placement"]
	if !ok || string(v) == "null" {
		return nil
	}
	var pl struct {
		Mode     string `json:"mode"`
		Hint     string `json:"hint"`
		Region   string `json:"region"`
		Host     string `json:"host"`
		Hostname string `json:"hostname"`
	}
	if json.Unmarshal(v, &pl) != nil {
		p.fail("key %q must be an object such as {\"mode\": \"smart\"}", p.prefix+"placement")
		return nil
	}
	var out map[string]string
	switch {
	case pl.Hint == "" && pl.Mode == "off":
	case pl.Hint != "" || pl.Mode == "smart":
		out = map[string]string{"mode": "smart"}
	case pl.Region != "":
		out = map[string]string{"mode": "targeted", "region": pl.Region}
	case pl.Host != "":
		out = map[string]string{"mode": "targeted", "host": pl.Host}
	case pl.Hostname != "":
		out = map[string]string{"mode": "targeted", "hostname": pl.Hostname}
	}
	if out == nil {
		return nil
	}
	raw, _ := json.Marshal(out)
	return raw
}
