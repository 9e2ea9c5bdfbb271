package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// keyKind is the JSON type a binding key must have.
type keyKind int

const (
	kStr    keyKind = iota // a non-empty string
	kText                  // a string, possibly empty
	kAny                   // any JSON value, including null
	kObject                // a JSON object
	kStrArr                // an array of strings
)

// bindingSpec describes one binding type of docs/workers-api.md §6.3.
type bindingSpec struct {
	required map[string]keyKind
	optional map[string]keyKind
	// writeOnly keys are stored but never returned (secret values and key material).
	writeOnly []string
	// check, when set, validates what the key kinds cannot express; it returns a problem
	// description or "".
	check func(b map[string]any) string
}

func req(kv ...any) map[string]keyKind {
	m := map[string]keyKind{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(keyKind)
	}
	return m
}

// bindingSpecs are the 35 binding types of SDK v6.10 and the 2026 API reference.
var bindingSpecs = map[string]bindingSpec{
	"plain_text":  {required: req("text", kText)},
	"secret_text": {required: req("text", kText), writeOnly: []string{"text"}},
	"json":        {required: req("json", kAny)},
	"kv_namespace": {
		required: req("namespace_id", kStr),
	},
	"r2_bucket": {
		required: req("bucket_name", kStr),
		optional: req("jurisdiction", kStr),
		check:    enumKey("jurisdiction", "eu", "fedramp", "fedramp-high"),
	},
	"d1": {
		optional: req("database_id", kStr, "id", kStr), // id is the deprecated alias
		check: func(b map[string]any) string {
			if b["database_id"] == nil && b["id"] == nil {
				return "database_id is required"
			}
			return ""
		},
	},
	"service": {required: req("service", kStr), optional: req("entrypoint", kStr, "environment", kStr)},
	"durable_object_namespace": {
		optional: req("class_name", kStr, "script_name", kStr, "environment", kStr, "namespace_id", kStr, "dispatch_namespace", kStr),
	},
	"queue":            {required: req("queue_name", kStr)},
	"ai":               {},
	"assets":           {},
	"version_metadata": {},
	"inherit":          {optional: req("old_name", kStr, "version_id", kStr)},
	"analytics_engine": {required: req("dataset", kStr)},
	"browser":          {},
	"hyperdrive":       {required: req("id", kStr)},
	"images":           {},
	"media":            {},
	"mtls_certificate": {required: req("certificate_id", kStr)},
	"pipelines":        {required: req("pipeline", kStr)},
	"ratelimit": {
		required: req("namespace_id", kStr, "simple", kObject),
		check: func(b map[string]any) string {
			simple, _ := b["simple"].(map[string]any)
			if _, ok := jsonNumber(simple["limit"]); !ok {
				return "simple.limit must be a number"
			}
			if p, ok := jsonNumber(simple["period"]); !ok || p <= 0 || p != float64(int64(p)) {
				return "simple.period must be a positive integer (seconds)"
			}
			return ""
		},
	},
	"secrets_store_secret": {required: req("store_id", kStr, "secret_name", kStr)},
	"secret_key": {
		required:  req("algorithm", kObject, "format", kStr, "usages", kStrArr),
		optional:  req("key_base64", kStr, "key_jwk", kAny),
		writeOnly: []string{"key_base64", "key_jwk"},
		check: func(b map[string]any) string {
			if msg := enumKey("format", "raw", "pkcs8", "spki", "jwk")(b); msg != "" {
				return msg
			}
			valid := []string{"encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"}
			for _, u := range b["usages"].([]any) {
				if !slices.Contains(valid, u.(string)) {
					return fmt.Sprintf("usages contains unknown usage %q", u)
				}
			}
			if b["format"] == "jwk" {
				if b["key_jwk"] == nil {
					return "key_jwk is required with format jwk"
				}
			} else if b["key_base64"] == nil {
				return fmt.Sprintf("key_base64 is required with format %v", b["format"])
			}
			return ""
		},
	},
	"send_email": {
		optional: req("destination_address", kStr, "allowed_destination_addresses", kStrArr, "allowed_sender_addresses", kStrArr),
	},
	"vectorize":          {required: req("index_name", kStr)},
	"workflow":           {required: req("workflow_name", kStr), optional: req("class_name", kStr, "script_name", kStr)},
	"dispatch_namespace": {required: req("namespace", kStr), optional: req("outbound", kObject)},
	"flagship":           {required: req("app_id", kStr)},
	"ai_search":          {required: req("instance_name", kStr), optional: req("namespace", kStr)},
	"ai_search_namespace": {
		required: req("namespace", kStr),
	},
	"vpc_service": {required: req("service_id", kStr)},
	"vpc_network": {
		optional: req("network_id", kStr, "tunnel_id", kStr),
		check: func(b map[string]any) string {
			if (b["network_id"] == nil) == (b["tunnel_id"] == nil) {
				return "exactly one of network_id and tunnel_id is required"
			}
			return ""
		},
	},
	"wasm_module": {required: req("part", kStr)},
	"text_blob":   {required: req("part", kStr)},
	"data_blob":   {required: req("part", kStr)},
}

func enumKey(key string, values ...string) func(map[string]any) string {
	return func(b map[string]any) string {
		v, present := b[key]
		if !present || v == nil {
			return ""
		}
		if !slices.Contains(values, v.(string)) {
			return fmt.Sprintf("%s must be one of %s", key, strings.Join(values, ", "))
		}
		return ""
	}
}

func jsonNumber(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// jsIdentifierRe is the ASCII subset of JavaScript identifiers. Binding names become
// JavaScript variables (error docs for 10021); non-ASCII identifiers are legal JavaScript but
// rejected here (inferred: no real Worker uses them).
var jsIdentifierRe = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// Text binding limits (docs/workers-api.md §6.3, §9): each plain_text/secret_text value at most
// 5 KB, at most 128 of them (the paid-plan number).
const (
	maxTextBindingBytes = 5 * 1024
	maxTextBindings     = 128
)

// decodeBindings decodes and validates the bindings of a version upload. Inherit bindings are
// returned as given; the caller resolves them.
func decodeBindings(raw []json.RawMessage, hasAssets bool) ([]map[string]any, *reply) {
	out := make([]map[string]any, 0, len(raw))
	names := map[string]bool{}
	texts := 0
	for i, r := range raw {
		var b map[string]any
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.UseNumber()
		if err := dec.Decode(&b); err != nil || b == nil {
			return nil, validationError("bindings[%d] must be an object", i)
		}
		typ, _ := b["type"].(string)
		if typ == "" {
			return nil, validationError("bindings[%d].type is required", i)
		}
		spec, known := bindingSpecs[typ]
		if !known {
			return nil, fail(http.StatusBadRequest, 100153, "Invalid binding type %q in bindings[%d]", typ, i)
		}
		name, _ := b["name"].(string)
		if name == "" {
			return nil, fail(http.StatusBadRequest, 10052, "bindings[%d] (type %s) has no name", i, typ)
		}
		if !jsIdentifierRe.MatchString(name) {
			return nil, validationError("Binding name %q is not a valid JavaScript identifier", name)
		}
		if names[name] {
			return nil, fail(http.StatusBadRequest, 10053, "Binding name %q is already in use", name)
		}
		names[name] = true
		if msg := checkBindingKeys(b, spec); msg != "" {
			return nil, validationError("Binding %q (type %s): %s", name, typ, msg)
		}
		switch typ {
		case "plain_text", "secret_text":
			texts++
			// The value is never quoted: it may be a secret.
			if t := b["text"].(string); len(t) > maxTextBindingBytes {
				return nil, fail(http.StatusBadRequest, 10054, "Text binding %q is too large: %d bytes, at most %d allowed", name, len(t), maxTextBindingBytes)
			}
		case "assets":
			if !hasAssets {
				return nil, fail(http.StatusBadRequest, 10305, "Binding %q of type assets needs the version to have assets (assets.jwt)", name)
			}
		}
		out = append(out, b)
	}
	if texts > maxTextBindings {
		return nil, fail(http.StatusBadRequest, 10055, "Too many text and secret bindings: %d, at most %d allowed", texts, maxTextBindings)
	}
	return out, nil
}

func checkBindingKeys(b map[string]any, spec bindingSpec) string {
	for _, k := range slices.Sorted(maps.Keys(spec.required)) {
		v, present := b[k]
		if !present {
			return k + " is required"
		}
		if msg := checkKind(k, v, spec.required[k]); msg != "" {
			return msg
		}
	}
	for _, k := range slices.Sorted(maps.Keys(spec.optional)) {
		if v, present := b[k]; present && v != nil {
			if msg := checkKind(k, v, spec.optional[k]); msg != "" {
				return msg
			}
		}
	}
	if spec.check != nil {
		return spec.check(b)
	}
	return ""
}

func checkKind(k string, v any, kind keyKind) string {
	switch kind {
	case kStr:
		if s, ok := v.(string); !ok || s == "" {
			return k + " must be a non-empty string"
		}
	case kText:
		if _, ok := v.(string); !ok {
			return k + " must be a string"
		}
	case kObject:
		if _, ok := v.(map[string]any); !ok {
			return k + " must be an object"
		}
	case kStrArr:
		arr, ok := v.([]any)
		if !ok {
			return k + " must be an array of strings"
		}
		for _, e := range arr {
			if _, ok := e.(string); !ok {
				return k + " must be an array of strings"
			}
		}
	}
	return ""
}

// publicBinding returns b without its write-only keys, as the API returns it.
func publicBinding(b map[string]any) map[string]any {
	out := maps.Clone(b)
	typ, _ := b["type"].(string)
	for _, k := range bindingSpecs[typ].writeOnly {
		delete(out, k)
	}
	return out
}
