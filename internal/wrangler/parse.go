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
	w.WorkersDev = p.boolean("workers_dev")
	w.PreviewURLs = p.boolean("preview_urls")
}

// Assets config values (cloudflare-api.md §6.1).
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

// arrayKinds map wrangler's binding lists to the API's binding objects
// (cloudflare-api.md §6.3; wrangler's src/deployment-bundle/create-worker-upload-form.ts
// does the same mapping for the legacy upload).
var arrayKinds = []arrayKind{
	{key: "kv_namespaces", typ: "kv_namespace", nameKey: "binding", fields: []fieldMap{{from: "id", to: "namespace_id", required: true}}},
	{key: "r2_buckets", typ: "r2_bucket", nameKey: "binding", fields: []fieldMap{{from: "bucket_name", to: "bucket_name", required: true}, {from: "jurisdiction", to: "jurisdiction"}}},
	{key: "d1_databases", typ: "d1", nameKey: "binding", fields: []fieldMap{{from: "database_id", to: "database_id", required: true}}},
	{key: "services", typ: "service", nameKey: "binding", fields: []fieldMap{{from: "service", to: "service", required: true}, {from: "environment", to: "environment"}, {from: "entrypoint", to: "entrypoint"}}},
	{key: "queues", sub: "producers", typ: "queue", nameKey: "binding", fields: []fieldMap{{from: "queue", to: "queue_name", required: true}}},
	{key: "durable_objects", sub: "bindings", typ: "durable_object_namespace", nameKey: "name", fields: []fieldMap{{from: "class_name", to: "class_name", required: true}, {from: "script_name", to: "script_name"}, {from: "environment", to: "environment"}}},
	// wrangler uses the binding name as the dataset when none is given (inferred from its docs).
	{key: "analytics_engine_datasets", typ: "analytics_engine", nameKey: "binding", fields: []fieldMap{{from: "dataset", to: "dataset", defaultName: true}}},
	{key: "hyperdrive", typ: "hyperdrive", nameKey: "binding", fields: []fieldMap{{from: "id", to: "id", required: true}}},
	{key: "vectorize", typ: "vectorize", nameKey: "binding", fields: []fieldMap{{from: "index_name", to: "index_name", required: true}}},
	{key: "send_email", typ: "send_email", nameKey: "name", fields: []fieldMap{{from: "destination_address", to: "destination_address"}, {from: "allowed_destination_addresses", to: "allowed_destination_addresses"}, {from: "allowed_sender_addresses", to: "allowed_sender_addresses"}}},
	{key: "workflows", typ: "workflow", nameKey: "binding", fields: []fieldMap{{from: "name", to: "workflow_name", required: true}, {from: "class_name", to: "class_name"}, {from: "script_name", to: "script_name"}}},
	{key: "dispatch_namespaces", typ: "dispatch_namespace", nameKey: "binding", fields: []fieldMap{{from: "namespace", to: "namespace", required: true}}, convert: dispatchOutbound},
	{key: "mtls_certificates", typ: "mtls_certificate", nameKey: "binding", fields: []fieldMap{{from: "certificate_id", to: "certificate_id", required: true}}},
	{key: "pipelines", typ: "pipelines", nameKey: "binding", fields: []fieldMap{{from: "pipeline", to: "pipeline", required: true}}},
	{key: "secrets_store_secrets", typ: "secrets_store_secret", nameKey: "binding", fields: []fieldMap{{from: "store_id", to: "store_id", required: true}, {from: "secret_name", to: "secret_name", required: true}}},
	{key: "ratelimits", typ: "ratelimit", nameKey: "name", fields: []fieldMap{{from: "namespace_id", to: "namespace_id", required: true}, {from: "simple", to: "simple", required: true}}},
}

// objectKinds are keys holding one binding, `{binding = "NAME"}`.
var objectKinds = map[string]string{"ai": "ai", "browser": "browser", "version_metadata": "version_metadata", "images": "images"}

// bindingKeys are every key that defines bindings.
var bindingKeys = func() map[string]bool {
	m := map[string]bool{"vars": true}
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
			add(kind.build(e, fmt.Sprintf("%s[%d]", path, i)))
		}
	}
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
		var e struct {
			Binding string `json:"binding"`
		}
		if json.Unmarshal(v, &e) != nil || e.Binding == "" {
			p.fail("key %q must be an object with a `binding` name, e.g. {\"binding\": \"AI\"}", p.prefix+k)
			continue
		}
		add(bindings.New(e.Binding, objectKinds[k], nil))
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
