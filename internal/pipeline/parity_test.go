package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/wrangler"
)

// realConfigs holds real wrangler configurations and, per configuration and
// environment, the metadata wrangler 4.85 uploaded for it
// (testdata/wrangler-real/README.md; regen.mjs records them).
const realConfigs = "../../testdata/wrangler-real"

// parityFields are the metadata fields compared: the version-level ones this
// action sends. Worker-level settings (observability, logpush,
// tail_consumers, tags) go to the Worker, only when the action creates it;
// modules and assets are compared by the bundle and assets tests.
var parityFields = []string{"bindings", "compatibility_date", "compatibility_flags", "migrations", "placement", "limits", "cache_options"}

// knownDifferences are the pairs where the action deliberately uploads
// something else than wrangler, with the reason.
var knownDifferences = map[string]string{}

// normalizeWrangler keeps parityFields of wrangler's metadata in the form the
// Workers API takes: d1's `id` is `database_id` there, secret_text bindings
// come from the `secrets` input (not the configuration), an empty flag list
// is no list, bindings are sorted by name.
func normalizeWrangler(t *testing.T, raw []byte) map[string]json.RawMessage {
	t.Helper()
	var meta map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &meta))
	out := map[string]json.RawMessage{}
	for _, k := range parityFields {
		if v, ok := meta[k]; ok {
			out[k] = v
		}
	}
	var bs []map[string]any
	if v, ok := out["bindings"]; ok {
		require.NoError(t, json.Unmarshal(v, &bs))
	}
	kept := []map[string]any{}
	for _, b := range bs {
		if b["type"] == "secret_text" {
			continue
		}
		if b["type"] == "d1" {
			if id, ok := b["id"]; ok {
				b["database_id"] = id
				delete(b, "id")
			}
		}
		kept = append(kept, b)
	}
	out["bindings"] = sortedBindings(t, kept)
	if string(out["compatibility_flags"]) == "[]" {
		delete(out, "compatibility_flags")
	}
	return canonical(t, out)
}

func sortedBindings(t *testing.T, bs []map[string]any) json.RawMessage {
	t.Helper()
	sort.Slice(bs, func(i, j int) bool { return fmt.Sprint(bs[i]["name"]) < fmt.Sprint(bs[j]["name"]) })
	raw, err := json.Marshal(bs)
	require.NoError(t, err)
	return raw
}

// canonical re-encodes every value with sorted keys.
func canonical(t *testing.T, m map[string]json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for k, v := range m {
		var x any
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&x))
		raw, err := json.Marshal(x)
		require.NoError(t, err)
		out[k] = raw
	}
	return out
}

// actionMetadata is what the action uploads for the configuration and
// environment, for a Worker that does not exist yet (as the goldens were
// recorded), with resources resolved to the IDs the recording gave them.
func actionMetadata(t *testing.T, path, env string) (map[string]json.RawMessage, error) {
	t.Helper()
	c, err := wrangler.LoadEnv(path, env, os.ReadFile)
	if err != nil {
		return nil, err
	}
	var bs []map[string]any
	for _, b := range c.Bindings {
		var m map[string]any
		require.NoError(t, json.Unmarshal(b.JSON, &m))
		bs = append(bs, m)
	}
	for _, r := range c.Resources {
		switch r.Kind {
		case wrangler.ResourceD1:
			name := r.Name
			if name == "" {
				name = wrangler.DefaultResourceName(c.Name, r.Binding)
			}
			bs = append(bs, map[string]any{"name": r.Binding, "type": "d1", "database_id": "d1-" + name})
		case wrangler.ResourceKV:
			title := wrangler.DefaultResourceName(c.Name, r.Binding)
			bs = append(bs, map[string]any{"name": r.Binding, "type": "kv_namespace", "namespace_id": "kv-" + title})
		}
	}
	if bs == nil {
		bs = []map[string]any{}
	}
	out := map[string]json.RawMessage{"bindings": sortedBindings(t, bs)}
	if c.CompatibilityDate != "" {
		out["compatibility_date"], _ = json.Marshal(c.CompatibilityDate)
	}
	if len(c.CompatibilityFlags) > 0 {
		out["compatibility_flags"], _ = json.Marshal(c.CompatibilityFlags)
	}
	if m, _ := pendingMigrations(c.Version.Migrations, ""); m != nil {
		out["migrations"] = m
	}
	for k, v := range map[string]json.RawMessage{"placement": c.Version.Placement, "limits": c.Version.Limits, "cache_options": c.Version.CacheOptions} {
		if v != nil {
			out[k] = v
		}
	}
	return canonical(t, out), nil
}

// TestWranglerParity compares, for every real configuration and environment,
// the metadata fields the action uploads with what wrangler 4.85 uploaded.
// `go test -run TestWranglerParity -v ./internal/pipeline` prints the ratio.
func TestWranglerParity(t *testing.T) {
	t.Parallel()
	goldens, err := filepath.Glob(filepath.Join(realConfigs, "*", "golden", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, goldens, "no goldens in %s", realConfigs)
	matched := 0
	for _, g := range goldens {
		dir := filepath.Dir(filepath.Dir(g))
		env := strings.TrimSuffix(filepath.Base(g), ".json")
		if env == "_top" {
			env = ""
		}
		var cfgPath string
		for _, f := range wrangler.AutoFiles {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				cfgPath = filepath.Join(dir, f)
				break
			}
		}
		key := filepath.Base(dir) + "/" + strings.TrimSuffix(filepath.Base(g), ".json")
		raw, err := os.ReadFile(g)
		require.NoError(t, err)
		want := normalizeWrangler(t, raw)
		got, err := actionMetadata(t, cfgPath, env)
		same := err == nil && assert.ObjectsAreEqual(want, got)
		if same {
			matched++
		}
		if reason, known := knownDifferences[key]; known {
			assert.False(t, same, "%s is listed as a known difference (%s) but now matches: remove it from the list", key, reason)
			continue
		}
		if err != nil {
			t.Errorf("%s: the action refuses the configuration wrangler uploads: %v", key, err)
			continue
		}
		if !same {
			for _, k := range parityFields {
				if !bytes.Equal(want[k], got[k]) {
					t.Errorf("%s: %s differs:\n wrangler: %s\n action:   %s", key, k, want[k], got[k])
				}
			}
		}
	}
	t.Logf("wrangler parity: %d of %d configuration/environment pairs upload the same %s", matched, len(goldens), strings.Join(parityFields, ", "))
}
