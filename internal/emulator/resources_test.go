package emulator

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResourceEndpoints(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	var db struct{ UUID, Name string }
	e.do(http.MethodPost, acctPath+"/d1/database", map[string]any{"name": "shop"}).ok(t, &db)
	assert.Regexp(t, uuidRe, db.UUID)
	assert.Equal(t, 7502, e.do(http.MethodPost, acctPath+"/d1/database", map[string]any{"name": "shop"}).env.code(), "a taken name")
	var dbs []struct{ UUID, Name string }
	e.do(http.MethodGet, acctPath+"/d1/database?name=sho", nil).ok(t, &dbs)
	assert.Len(t, dbs, 1)
	e.do(http.MethodGet, acctPath+"/d1/database?name=other", nil).ok(t, &dbs)
	assert.Empty(t, dbs)

	var ns struct{ ID, Title string }
	e.do(http.MethodPost, acctPath+"/storage/kv/namespaces", map[string]any{"title": "shop-cache"}).ok(t, &ns)
	assert.Regexp(t, hex32Re, ns.ID)
	assert.Equal(t, 10014, e.do(http.MethodPost, acctPath+"/storage/kv/namespaces", map[string]any{"title": "shop-cache"}).env.code())
	var list []struct{ ID, Title string }
	e.do(http.MethodGet, acctPath+"/storage/kv/namespaces", nil).ok(t, &list)
	assert.Equal(t, []struct{ ID, Title string }{{ns.ID, "shop-cache"}}, list)

	assert.Equal(t, 10006, e.do(http.MethodGet, acctPath+"/r2/buckets/files", nil).env.code())
	e.do(http.MethodPost, acctPath+"/r2/buckets", map[string]any{"name": "files"}).ok(t, nil)
	e.do(http.MethodGet, acctPath+"/r2/buckets/files", nil).ok(t, nil)
	r := e.do(http.MethodPost, acctPath+"/r2/buckets", map[string]any{"name": "files"})
	assert.Equal(t, http.StatusConflict, r.status)
	assert.Equal(t, 10005, e.do(http.MethodPost, acctPath+"/r2/buckets", map[string]any{"name": "No_Caps"}).env.code())
	var buckets struct {
		Buckets []struct{ Name string } `json:"buckets"`
	}
	e.do(http.MethodGet, acctPath+"/r2/buckets", nil).ok(t, &buckets)
	require.Len(t, buckets.Buckets, 1)
}

// TestMigrationTag: the tag is set when a version carrying migrations is
// deployed to 100%, read from the script list; such a version cannot share a
// deployment, and a stale old_tag is refused.
func TestMigrationTag(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	w := e.createWorker("chat", nil)
	old := e.createVersion(w.ID, versionBody())
	body := versionBody()
	body["migrations"] = map[string]any{"new_tag": "v1", "steps": []any{map[string]any{"new_sqlite_classes": []string{"Chat"}}}}
	v := e.createVersion(w.ID, body)

	r := e.do(http.MethodPost, acctPath+"/workers/scripts/chat/deployments", map[string]any{"strategy": "percentage",
		"versions": []DeploymentVersion{{VersionID: old.ID, Percentage: 50}, {VersionID: v.ID, Percentage: 50}}})
	assert.Equal(t, 10210, r.env.code(), "a version with migrations is deployed to 100%% only: %s", r.raw)

	var scripts []map[string]any
	e.do(http.MethodGet, acctPath+"/workers/scripts", nil).ok(t, &scripts)
	require.Len(t, scripts, 1)
	assert.Nil(t, scripts[0]["migration_tag"])

	e.deploy("chat", DeploymentVersion{VersionID: v.ID, Percentage: 100})
	e.do(http.MethodGet, acctPath+"/workers/scripts", nil).ok(t, &scripts)
	assert.Equal(t, "chat", scripts[0]["id"])
	assert.Equal(t, "v1", scripts[0]["migration_tag"])
	var got map[string]any
	e.do(http.MethodGet, acctPath+"/workers/workers/"+w.ID+"/versions/"+v.ID, nil).ok(t, &got)
	assert.Equal(t, "v1", got["migration_tag"])

	stale := versionBody()
	stale["migrations"] = map[string]any{"new_tag": "v2", "steps": []any{}}
	assert.Equal(t, 10079, e.do(http.MethodPost, acctPath+"/workers/workers/"+w.ID+"/versions", stale).env.code(), "old_tag must be the current tag")
	next := versionBody()
	next["migrations"] = map[string]any{"old_tag": "v1", "new_tag": "v2", "steps": []any{}}
	e.createVersion(w.ID, next)
}
