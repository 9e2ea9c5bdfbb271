package pipeline

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/bindings"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
)

func mustBinding(t *testing.T, name, typ string, fields map[string]any) bindings.Binding {
	t.Helper()
	b, err := bindings.New(name, typ, fields)
	require.NoError(t, err)
	return b
}

func rawBindings(s ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(s))
	for i, v := range s {
		out[i] = json.RawMessage(v)
	}
	return out
}

func TestDiffBindings(t *testing.T) {
	secret, err := bindings.Secret("TOKEN", "s3cr3t-value")
	require.NoError(t, err)
	otherSecret, err := bindings.Secret("TOKEN", "another-value")
	require.NoError(t, err)
	for _, tc := range []struct {
		name        string
		stored      []json.RawMessage
		next        []bindings.Binding
		keepSecrets bool
		want        []BindingChange
	}{
		{
			name:   "nothing changed, the API adds keys",
			stored: rawBindings(`{"name":"KV","type":"kv_namespace","namespace_id":"abc","extra":1}`, `{"name":"MODE","type":"plain_text","text":"prod"}`),
			next:   []bindings.Binding{mustBinding(t, "KV", "kv_namespace", map[string]any{"namespace_id": "abc"}), mustBinding(t, "MODE", "plain_text", map[string]any{"text": "prod"})},
		},
		{
			name:   "added, removed, type changed, value changed",
			stored: rawBindings(`{"name":"OLD","type":"d1","id":"x"}`, `{"name":"STORE","type":"kv_namespace","namespace_id":"abc"}`, `{"name":"MODE","type":"plain_text","text":"prod"}`, `{"name":"KV","type":"kv_namespace","namespace_id":"abc"}`),
			next: []bindings.Binding{
				mustBinding(t, "NEW", "r2_bucket", map[string]any{"bucket_name": "b"}),
				mustBinding(t, "STORE", "r2_bucket", map[string]any{"bucket_name": "b"}),
				mustBinding(t, "MODE", "plain_text", map[string]any{"text": "staging"}),
				mustBinding(t, "KV", "kv_namespace", map[string]any{"namespace_id": "def"}),
			},
			want: []BindingChange{
				{Name: "KV", Change: "changed", Type: "kv_namespace", Fields: []string{"namespace_id"}},
				{Name: "MODE", Change: "changed", Type: "plain_text", Fields: []string{"text"}},
				{Name: "NEW", Change: "added", Type: "r2_bucket"},
				{Name: "OLD", Change: "removed", OldType: "d1"},
				{Name: "STORE", Change: "changed", Type: "r2_bucket", OldType: "kv_namespace"},
			},
		},
		{
			name:   "a secret sent again compares by name only",
			stored: rawBindings(`{"name":"TOKEN","type":"secret_text"}`),
			next:   []bindings.Binding{otherSecret},
		},
		{
			name:   "a new secret is added by name",
			next:   []bindings.Binding{secret},
			want:   []BindingChange{{Name: "TOKEN", Change: "added", Type: "secret_text"}},
			stored: nil,
		},
		{
			name:   "a secret not sent is removed without keep-secrets",
			stored: rawBindings(`{"name":"TOKEN","type":"secret_text"}`),
			want:   []BindingChange{{Name: "TOKEN", Change: "removed", OldType: "secret_text"}},
		},
		{
			name:        "a secret not sent is carried with keep-secrets",
			stored:      rawBindings(`{"name":"TOKEN","type":"secret_text"}`),
			keepSecrets: true,
		},
		{
			name:   "a secret carried with inherit is unchanged",
			stored: rawBindings(`{"name":"TOKEN","type":"secret_text"}`),
			next:   []bindings.Binding{bindings.Inherit("TOKEN", "v1")},
		},
		{
			name:   "a binding that is not JSON is skipped",
			stored: rawBindings(`not json`, `{"name":"A","type":"plain_text","text":"x"}`),
			next:   []bindings.Binding{mustBinding(t, "A", "plain_text", map[string]any{"text": "x"})},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := diffBindings(tc.stored, tc.next, tc.keepSecrets)
			assert.Equal(t, tc.want, got)
			for _, c := range got {
				assert.NotContains(t, strings.Join(c.Fields, ","), "s3cr3t")
			}
		})
	}
}

func TestDiffChanges(t *testing.T) {
	migrations, _ := pendingMigrations(nil, "")
	require.Nil(t, migrations)
	for _, tc := range []struct {
		name string
		live *cloudflare.Version
		next nextBuild
		want *Changes
	}{
		{
			name: "compatibility and sizes",
			live: &cloudflare.Version{ID: "v1", Number: 3, CompatibilityDate: "2025-01-01", CompatibilityFlags: []string{"nodejs_compat", "old_flag"},
				Modules: []cloudflare.ModuleContent{{Name: "index.js", Content: make([]byte, 2048)}, {Name: "lib.js", Content: make([]byte, 1024)}}},
			next: nextBuild{compatDate: "2026-01-01", compatFlags: []string{"nodejs_compat", "new_flag"}, modules: 3, bytes: 4096,
				assets: &AssetChanges{Files: 10, NewOrChanged: 2}},
			want: &Changes{ProductionVersionID: "v1", ProductionVersionNumber: 3, CompatibilityDateFrom: "2025-01-01", CompatibilityDateTo: "2026-01-01",
				FlagsAdded: []string{"new_flag"}, FlagsRemoved: []string{"old_flag"},
				ModulesFrom: 2, ModulesTo: 3, BytesFrom: 3072, BytesTo: 4096, SizesKnown: true, Assets: &AssetChanges{Files: 10, NewOrChanged: 2}},
		},
		{
			name: "unchanged, production read without modules",
			live: &cloudflare.Version{ID: "v1", Number: 1, CompatibilityDate: "2025-01-01"},
			next: nextBuild{compatDate: "2025-01-01", modules: 1, bytes: 10},
			want: &Changes{ProductionVersionID: "v1", ProductionVersionNumber: 1, ModulesTo: 1, BytesTo: 10},
		},
		{
			name: "pending migrations",
			live: &cloudflare.Version{ID: "v1", Number: 1, CompatibilityDate: "2025-01-01"},
			next: nextBuild{compatDate: "2025-01-01", migrations: json.RawMessage(`{"old_tag":"v1","new_tag":"v3","steps":[{"new_classes":["A"]},{"deleted_classes":["B"]}]}`)},
			want: &Changes{ProductionVersionID: "v1", ProductionVersionNumber: 1, Migrations: &PendingMigrations{FromTag: "v1", ToTag: "v3", Steps: 2}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, diffChanges(tc.live, tc.next))
		})
	}
}

// FuzzDiffBindings feeds production bindings as the API could return them:
// the comparison never panics, and what it reports holds names and keys,
// never a value this run sends.
func FuzzDiffBindings(f *testing.F) {
	f.Add(`{"name":"KV","type":"kv_namespace","namespace_id":"abc"}`, "KV", "kv_namespace", "namespace_id", "zzz-value")
	f.Add(`{"name":"MODE","type":"plain_text","text":"prod"}`, "MODE", "plain_text", "text", "staging")
	f.Add(`not json`, "A", "secret_text", "text", "s3cr3t")
	f.Add(`{"name":1,"type":null}`, "B", "json", "json", "{}")
	f.Fuzz(func(t *testing.T, stored, name, typ, key, value string) {
		b, err := bindings.New(name, typ, map[string]any{key: value})
		if err != nil {
			return
		}
		for _, c := range diffBindings([]json.RawMessage{json.RawMessage(stored)}, []bindings.Binding{b}, true) {
			if value == "" || len(value) < 4 {
				continue
			}
			for _, f := range c.Fields {
				if strings.Contains(f, value) && f != key {
					t.Fatalf("a value leaked into the change: %+v", c)
				}
			}
		}
	})
}
