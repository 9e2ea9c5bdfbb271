package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/rollout"
	"github.com/workers-deploy/workers-deploy/internal/wrangler"
)

const migrationsConfig = `{
  "name": "chat", "compatibility_date": "2025-09-01",
  "durable_objects": {"bindings": [{"name": "ROOM", "class_name": "Room"}]},
  "migrations": [
    {"tag": "v1", "new_sqlite_classes": ["Chat"]},
    {"tag": "v2", "renamed_classes": [{"from": "Chat", "to": "Room"}]}
  ],
  "placement": {"mode": "smart"}, "limits": {"cpu_ms": 50}, "cache": {"enabled": true}
}`

func TestPendingMigrations(t *testing.T) {
	t.Parallel()
	ms := []wrangler.Migration{
		{Tag: "v1", Step: json.RawMessage(`{"new_classes":["A"]}`)},
		{Tag: "v2", Step: json.RawMessage(`{"deleted_classes":["A"]}`)},
	}
	cases := []struct {
		name, current, want string
		warn                bool
	}{
		{"no tag: all steps, no old_tag", "", `{"new_tag":"v2","steps":[{"new_classes":["A"]},{"deleted_classes":["A"]}]}`, false},
		{"after the current tag", "v1", `{"old_tag":"v1","new_tag":"v2","steps":[{"deleted_classes":["A"]}]}`, false},
		{"up to date", "v2", ``, false},
		{"unknown tag: all steps with a warning", "v0", `{"old_tag":"v0","new_tag":"v2","steps":[{"new_classes":["A"]},{"deleted_classes":["A"]}]}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, warning := pendingMigrations(ms, tc.current)
			if tc.want == "" {
				assert.Nil(t, got)
			} else {
				assert.JSONEq(t, tc.want, string(got))
			}
			assert.Equal(t, tc.warn, warning != "")
		})
	}
}

// TestRunSendsVersionSettings: migrations, placement, limits and cache were
// dropped before; now they are sent, migrations after the live tag.
func TestRunSendsVersionSettings(t *testing.T) {
	t.Parallel()
	dir := projectDir(t, map[string]string{"wrangler.jsonc": migrationsConfig})
	api := &fakeAPI{migrationTag: map[string]string{"chat": "v1"}, workers: map[string]*cloudflare.Worker{"chat": {ID: strings.Repeat("c", 32), Name: "chat"}}}
	cfg := config(t, func(c *inputs.Config) { c.Worker, c.ConfigFile, c.WorkingDirectory = "", "", dir })
	_, err := Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	in := api.lastInput
	assert.JSONEq(t, `{"old_tag":"v1","new_tag":"v2","steps":[{"renamed_classes":[{"from":"Chat","to":"Room"}]}]}`, string(in.Migrations))
	assert.JSONEq(t, `{"mode":"smart"}`, string(in.Placement))
	assert.JSONEq(t, `{"cpu_ms":50}`, string(in.Limits))
	assert.JSONEq(t, `{"enabled":true}`, string(in.CacheOptions))
}

// TestRunRefusesStagedMigrations: a version that carries migrations is
// refused for a staged rollout before any write; when the Worker is up to
// date, stages are fine.
func TestRunRefusesStagedMigrations(t *testing.T) {
	t.Parallel()
	stages, err := rollout.ParseStages("10%@1m, 100%")
	require.NoError(t, err)
	for _, tc := range []struct {
		name, tag string
		refused   bool
	}{{"new Worker", "", true}, {"one step pending", "v1", true}, {"up to date", "v2", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := projectDir(t, map[string]string{"wrangler.jsonc": migrationsConfig})
			api := &fakeAPI{migrationTag: map[string]string{"chat": tc.tag}}
			if tc.tag != "" {
				api.workers = map[string]*cloudflare.Worker{"chat": {ID: strings.Repeat("c", 32), Name: "chat"}}
			}
			cfg := config(t, func(c *inputs.Config) {
				c.Worker, c.ConfigFile, c.WorkingDirectory = "", "", dir
				c.Deploy, c.Rollout.Stages, c.Rollout.StagesInput = true, stages, "10%@1m, 100%"
			})
			_, err := Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
			if !tc.refused {
				// It gets past the check (the fake's deploy may fail later).
				var ie *inputs.Error
				assert.False(t, err != nil && errors.As(err, &ie) && ie.Input == "stages", "%v", err)
				return
			}
			var ie *inputs.Error
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "stages", ie.Input)
			assert.Contains(t, err.Error(), "Durable Object migrations")
			for _, c := range api.calls {
				assert.NotRegexp(t, `^Create`, c, "a write happened before the refusal")
			}
		})
	}
}

func TestRunResources(t *testing.T) {
	t.Parallel()
	const conf = `{
  "name": "shop", "compatibility_date": "2025-09-01",
  "d1_databases": [{"binding": "DB", "database_name": "shop-db", "database_id": ""}],
  "kv_namespaces": [{"binding": "CACHE_KV"}],
  "r2_buckets": [{"binding": "FILES", "bucket_name": "shop-files", "jurisdiction": "eu"}]
}`
	t.Run("missing without create-resources fails before any write", func(t *testing.T) {
		t.Parallel()
		dir := projectDir(t, map[string]string{"wrangler.jsonc": conf})
		api := &fakeAPI{}
		cfg := config(t, func(c *inputs.Config) { c.Worker, c.ConfigFile, c.WorkingDirectory = "", "", dir })
		_, err := Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
		var ie *inputs.Error
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "create-resources", ie.Input)
		for _, want := range []string{"DB", `"shop-db"`, "CACHE_KV", `"shop-cache-kv"`, `"shop-files"`, "create-resources: true"} {
			assert.Contains(t, err.Error(), want)
		}
		for _, c := range api.calls {
			assert.NotRegexp(t, `^Create`, c, "a write happened before the refusal")
		}
	})
	t.Run("existing resources are looked up, never sent empty", func(t *testing.T) {
		t.Parallel()
		dir := projectDir(t, map[string]string{"wrangler.jsonc": conf})
		api := &fakeAPI{d1: map[string]string{"shop-db": "db-uuid"}, kv: map[string]string{"shop-cache-kv": "kv-id"}, r2: map[string]bool{"eu/shop-files": true}}
		cfg := config(t, func(c *inputs.Config) { c.Worker, c.ConfigFile, c.WorkingDirectory = "", "", dir })
		_, err := Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
		require.NoError(t, err)
		assert.JSONEq(t, `[{"name":"CACHE_KV","type":"kv_namespace","namespace_id":"kv-id"},{"name":"DB","type":"d1","database_id":"db-uuid"},{"name":"FILES","type":"r2_bucket","bucket_name":"shop-files","jurisdiction":"eu"}]`, rawList(t, api.lastInput.Bindings))
		for _, c := range api.calls {
			assert.NotContains(t, c, "CreateD1")
			assert.NotContains(t, c, "CreateKV")
			assert.NotContains(t, c, "CreateR2")
		}
	})
	t.Run("create-resources creates what is missing", func(t *testing.T) {
		t.Parallel()
		dir := projectDir(t, map[string]string{"wrangler.jsonc": conf})
		api := &fakeAPI{}
		cfg := config(t, func(c *inputs.Config) {
			c.Worker, c.ConfigFile, c.WorkingDirectory = "", "", dir
			c.Project.CreateResources = true
		})
		_, err := Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
		require.NoError(t, err)
		assert.Contains(t, api.calls, "CreateD1Database shop-db")
		assert.Contains(t, api.calls, "CreateKVNamespace shop-cache-kv")
		assert.Contains(t, api.calls, "CreateR2Bucket eu/shop-files")
		assert.JSONEq(t, `[{"name":"CACHE_KV","type":"kv_namespace","namespace_id":"kv-1"},{"name":"DB","type":"d1","database_id":"d1-1"},{"name":"FILES","type":"r2_bucket","bucket_name":"shop-files","jurisdiction":"eu"}]`, rawList(t, api.lastInput.Bindings))
	})
	t.Run("dry run looks up only", func(t *testing.T) {
		t.Parallel()
		dir := projectDir(t, map[string]string{"wrangler.jsonc": conf})
		api := &fakeAPI{}
		log := &noticeLog{}
		cfg := config(t, func(c *inputs.Config) {
			c.Worker, c.ConfigFile, c.WorkingDirectory = "", "", dir
			c.Project.CreateResources, c.DryRun = true, true
		})
		d := deps(api)
		d.Log = log
		_, err := Run(context.Background(), cfg, &ghevent.Context{}, d)
		require.NoError(t, err)
		for _, c := range api.calls {
			assert.NotRegexp(t, `^Create`, c)
		}
		assert.Contains(t, strings.Join(log.notices, "\n"), `would create D1 database "shop-db"`)
	})
}

func TestRunWorkerSettingsDiffNotice(t *testing.T) {
	t.Parallel()
	dir := projectDir(t, map[string]string{"wrangler.jsonc": `{
  "name": "shop", "compatibility_date": "2025-09-01",
  "logpush": true, "tags": ["a"], "observability": {"enabled": true}, "workers_dev": true,
  "tail_consumers": [{"service": "tail"}]
}`})
	live := &cloudflare.Worker{ID: strings.Repeat("a", 32), Name: "shop", Logpush: false, Tags: []string{"a"},
		Observability: json.RawMessage(`{"enabled":true,"head_sampling_rate":1}`), Subdomain: cloudflare.SubdomainSettings{Enabled: false}}
	api := &fakeAPI{workers: map[string]*cloudflare.Worker{"shop": live}}
	log := &noticeLog{}
	d := deps(api)
	d.Log = log
	cfg := config(t, func(c *inputs.Config) { c.Worker, c.ConfigFile, c.WorkingDirectory = "", "", dir })
	_, err := Run(context.Background(), cfg, &ghevent.Context{}, d)
	require.NoError(t, err)
	var diff []string
	for _, n := range log.notices {
		if strings.Contains(n, "differ from the live Worker") {
			diff = append(diff, n)
		}
	}
	require.Len(t, diff, 1, "one notice lists every difference")
	assert.Contains(t, diff[0], "logpush (true here, false on the Worker)")
	assert.Contains(t, diff[0], "workers_dev (true here, false on the Worker)")
	assert.Contains(t, diff[0], "tail_consumers ([tail] here, [] on the Worker)")
	assert.NotContains(t, diff[0], "tags", "equal settings are not listed")
	assert.NotContains(t, diff[0], "observability", "a subset of the live object is equal")
}

func rawList(t *testing.T, raw []json.RawMessage) string {
	t.Helper()
	out, err := json.Marshal(raw)
	require.NoError(t, err)
	return string(out)
}
