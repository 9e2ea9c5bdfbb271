package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMigrationsAndResourcesLikeWrangler: a configuration with Durable
// Object migrations and resources named without IDs deploys with
// create-resources; the second run finds the resources by name and sends only
// the migration step after the live tag.
func TestMigrationsAndResourcesLikeWrangler(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	conf := `{
  "name": "chat", "compatibility_date": "2025-09-01",
  "durable_objects": {"bindings": [{"name": "ROOM", "class_name": "Room"}]},
  "migrations": [{"tag": "v1", "new_sqlite_classes": ["Room"]}],
  "d1_databases": [{"binding": "DB", "database_name": "chat-db", "database_id": ""}],
  "kv_namespaces": [{"binding": "CACHE"}],
  "r2_buckets": [{"binding": "FILES", "bucket_name": "chat-files"}],
  "placement": {"mode": "smart"}, "limits": {"cpu_ms": 100}
}`
	write(t, ws, "wrangler.jsonc", []byte(conf))
	in := map[string]string{"worker": "", "create-resources": "true", "deploy": "true"}
	r := pushJob(t, cf, ws, in).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	vs := cf.Versions("chat")
	require.Len(t, vs, 1)
	byName := map[string]map[string]any{}
	for _, b := range vs[0].Bindings {
		byName[b["name"].(string)] = b
	}
	assert.NotEmpty(t, byName["DB"]["database_id"])
	assert.NotEmpty(t, byName["CACHE"]["namespace_id"])
	assert.Equal(t, "chat-files", byName["FILES"]["bucket_name"])
	assert.Contains(t, r.Stdout, "Durable Object migrations: 1 step(s) from tag none to v1")

	// Second run: one more migration; resources are found, not created again.
	conf2 := `{
  "name": "chat", "compatibility_date": "2025-09-01",
  "durable_objects": {"bindings": [{"name": "ROOM", "class_name": "Room"}]},
  "migrations": [{"tag": "v1", "new_sqlite_classes": ["Room"]}, {"tag": "v2", "new_sqlite_classes": ["Lobby"]}],
  "d1_databases": [{"binding": "DB", "database_name": "chat-db"}],
  "kv_namespaces": [{"binding": "CACHE"}],
  "r2_buckets": [{"binding": "FILES", "bucket_name": "chat-files"}]
}`
	write(t, ws, "wrangler.jsonc", []byte(conf2))
	in2 := map[string]string{"worker": "", "deploy": "true", "tag": "second"}
	r2 := pushJob(t, cf, ws, in2).exec(t, ctxFor(t))
	require.Equal(t, 0, r2.Code, r2.Stdout)
	assert.Contains(t, r2.Stdout, "Durable Object migrations: 1 step(s) from tag v1 to v2")
	vs = cf.Versions("chat")
	require.Len(t, vs, 2)
	second := map[string]map[string]any{}
	for _, b := range vs[1].Bindings {
		second[b["name"].(string)] = b
	}
	assert.Equal(t, byName["DB"]["database_id"], second["DB"]["database_id"], "found by name, not created again")
	assert.Equal(t, byName["CACHE"]["namespace_id"], second["CACHE"]["namespace_id"])
}
