package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/esbundle"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
	"github.com/workers-deploy/workers-deploy/internal/recordcheck"
)

var schemaPath = filepath.Join("..", "..", recordcheck.SchemaFile)

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func recordModules() []pipeline.Module {
	ms := modules()
	for i := range ms {
		ms[i].SHA256 = sha
	}
	return ms
}

// recordCases are results of the kinds of run the action has.
func recordCases() []struct {
	name string
	res  *pipeline.Result
	d    RecordDetails
} {
	created := &pipeline.Result{
		WorkerID: "0123456789abcdef0123456789abcdef", WorkerName: "shop", WorkerCreated: true, WorkerExists: true,
		Tag: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Message: "Fix the cart",
		MainModule: "index.mjs", Modules: recordModules(), RawBytes: 3<<20 + 2089, GzipBytes: 1 << 20, Digest: sha,
		CompatibilityDate: "2025-09-01", CompatibilityFlags: []string{"nodejs_compat"}, ConfigFile: "wrangler.jsonc",
		VersionID: "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", VersionNumber: 3,
		PreviewURL: "https://182bd5e5-shop.acme.workers.dev", CommitURL: "https://182bd5e5-shop.acme.workers.dev",
		Bindings: []pipeline.BindingInfo{{Name: "KV", Type: "kv_namespace"}, {Name: "API_KEY", Type: "secret_text"}},
		Assets:   &pipeline.AssetsReport{Directory: "public", Files: 3, Bytes: 1200, Ignored: 1, Attached: []string{"_headers"}, Uploaded: 2},
		Requests: 7,
	}
	return []struct {
		name string
		res  *pipeline.Result
		d    RecordDetails
	}{
		{"created", created, RecordDetails{Version: "v1.2.3", RunURL: "https://github.com/octo/shop/actions/runs/42"}},
		{"reused-deployed", &pipeline.Result{
			WorkerID: "0123456789abcdef0123456789abcdef", WorkerName: "shop", WorkerExists: true,
			Tag: "v1", MainModule: "index.mjs", Modules: recordModules()[:2], RawBytes: 2089, GzipBytes: 900, Digest: sha,
			VersionID: "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", VersionNumber: 4, VersionReused: true,
			Deployed: true, DeploymentID: "5f1e2d3c-0000-4000-8000-000000000001", DeployedPercentage: 100,
			PreviousVersionID: "00000000-0000-4000-8000-000000000002",
			Stages:            []pipeline.StageReport{{Index: 0, Percentage: 100, DeploymentID: "5f1e2d3c-0000-4000-8000-000000000001", Verdict: "passed"}},
		}, RecordDetails{}},
		{"rolled-back", &pipeline.Result{
			WorkerID: "0123456789abcdef0123456789abcdef", WorkerName: "shop", WorkerExists: true,
			Tag: "v2", MainModule: "index.mjs", Modules: recordModules()[1:2], Digest: sha,
			VersionID: "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", VersionNumber: 5,
			Deployed: true, DeploymentID: "5f1e2d3c-0000-4000-8000-000000000003", RolledBack: true,
			PreviousVersionID: "00000000-0000-4000-8000-000000000002",
			Stages: []pipeline.StageReport{
				{Index: 0, Percentage: 10, Hold: time.Minute, DeploymentID: "d1", Checks: 6, Measured: true, Requests: 900, Errors: 1, Rate: 0.11, Verdict: "passed"},
				{Index: 1, Percentage: 50, Hold: time.Minute, Extended: 30 * time.Second, DeploymentID: "d2", Checks: 3, FailedChecks: 3, Verdict: "failed", Reason: "health check failed 3 times"},
			},
		}, RecordDetails{Err: errors.New("stage 2 (50%) failed: health check failed 3 times; rolled back")}},
		{"dry-run", &pipeline.Result{
			DryRun: true, WorkerName: "shop", Tag: "content-0123456789abcdef",
			MainModule: "index.js", Modules: recordModules()[:1], RawBytes: 41, GzipBytes: 60, CompatibilityDate: "2025-09-01", Digest: sha,
			Assets: &pipeline.AssetsReport{Directory: "public", Files: 3, Uploaded: -1},
			Bundled: &pipeline.Bundled{Entry: "src/index.ts", Main: "index.js", Reason: "the entry src/index.ts is a source file",
				Summary: esbundle.Summary{Inputs: 12, Packages: []string{"hono"}, Polyfilled: []string{"node:os"}, NodeCompat: "v2"}},
		}, RecordDetails{Notices: []string{"dry run: no API credentials, so the Worker and existing versions were not looked up; nothing was written"}}},
		{"bad-input-before-pipeline", nil, RecordDetails{Err: &inputs.Error{Input: "stages", Err: errors.New(`"110%" is over 100%`)}}},
		{"bad-input-in-pipeline", &pipeline.Result{WorkerName: "shop"}, RecordDetails{Err: &bundle.InputError{Input: "modules", Err: errors.New("no file matched")}}},
		{"api-failure", &pipeline.Result{WorkerName: "shop"}, RecordDetails{Err: &cloudflare.APIError{Status: 403}}},
		{"previews", &pipeline.Result{
			WorkerID: "0123456789abcdef0123456789abcdef", WorkerName: "shop", WorkerExists: true,
			Tag: "abc", MainModule: "index.mjs", Modules: recordModules()[:1], Digest: sha,
			PreviewURL: "https://pr-7-shop.acme.workers.dev", CommitURL: "https://3a4b5c6d-pr-7-shop.acme.workers.dev",
			Preview: &pipeline.PreviewInfo{Name: "pr-7", ID: "p1", URL: "https://pr-7-shop.acme.workers.dev", Created: true,
				DeploymentID: "pd2", DeploymentNumber: 2, DeploymentURL: "https://3a4b5c6d-pr-7-shop.acme.workers.dev",
				Earlier: []pipeline.EarlierDeployment{{Number: 1, CommitSHA: "def", URL: "https://11111111-pr-7-shop.acme.workers.dev"}}},
			CommentURL: "https://github.com/octo/shop/pull/7#issuecomment-1",
		}, RecordDetails{}},
		{"pr-versions-changes", &pipeline.Result{
			WorkerID: "0123456789abcdef0123456789abcdef", WorkerName: "shop", WorkerExists: true,
			Tag: "abc", MainModule: "index.mjs", Modules: recordModules(), RawBytes: 3<<20 + 2089, Digest: sha,
			VersionID: "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", VersionNumber: 6,
			Assets:  &pipeline.AssetsReport{Directory: "public", Files: 3, Uploaded: 1},
			Changes: recordChangesCase(),
		}, RecordDetails{}},
		{"pr-previews-changes", &pipeline.Result{
			WorkerID: "0123456789abcdef0123456789abcdef", WorkerName: "shop", WorkerExists: true,
			Tag: "abc", MainModule: "index.mjs", Modules: recordModules()[:1], Digest: sha,
			Preview: &pipeline.PreviewInfo{Name: "pr-7", ID: "p1", URL: "https://pr-7-shop.acme.workers.dev",
				DeploymentID: "pd3", DeploymentNumber: 3, DeploymentURL: "https://3a4b5c6d-pr-7-shop.acme.workers.dev"},
			Changes: &pipeline.Changes{
				ProductionVersionID: "00000000-0000-4000-8000-000000000002", ProductionVersionNumber: 2,
				Bindings:  []pipeline.BindingChange{{Name: "CACHE", Change: "removed", OldType: "kv_namespace"}},
				ModulesTo: 1, BytesTo: 41,
				Assets:     &pipeline.AssetChanges{Files: 3, NewOrChanged: -1},
				Migrations: &pipeline.PendingMigrations{FromTag: "v1", ToTag: "v2", Steps: 1},
			},
		}, RecordDetails{}},
		{"pr-no-production", &pipeline.Result{
			WorkerID: "0123456789abcdef0123456789abcdef", WorkerName: "shop", WorkerCreated: true, WorkerExists: true,
			VersionID: "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", VersionNumber: 1, MainModule: "index.mjs", Modules: recordModules()[:1], Digest: sha,
			Changes: &pipeline.Changes{NoProduction: true},
		}, RecordDetails{}},
		{"pr-changes-unavailable", &pipeline.Result{
			WorkerID: "0123456789abcdef0123456789abcdef", WorkerName: "shop", WorkerExists: true,
			VersionID: "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", VersionNumber: 7, MainModule: "index.mjs", Modules: recordModules()[:1], Digest: sha,
			Changes: &pipeline.Changes{Unavailable: "production could not be read (see the log)"},
		}, RecordDetails{Warnings: []string{"change summary left out: GET version: 500"}}},
		{"preview-deleted", &pipeline.Result{WorkerName: "shop", Preview: &pipeline.PreviewInfo{Name: "pr-7", Deleted: true}}, RecordDetails{}},
		{"skipped", &pipeline.Result{Skipped: "this push deletes refs/heads/feature: nothing to deploy"}, RecordDetails{}},
		{"promote", &pipeline.Result{
			WorkerID: "0123456789abcdef0123456789abcdef", WorkerName: "shop", WorkerExists: true,
			VersionID: "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", VersionNumber: 2, VersionReused: true, MainModule: "index.mjs",
			Deployed: true, DeployedPercentage: 100,
		}, RecordDetails{Promote: true, Warnings: []string{"a warning"}}},
	}
}

// recordChangesCase is a versions-mode change summary with every part set.
func recordChangesCase() *pipeline.Changes {
	return &pipeline.Changes{
		ProductionVersionID: "00000000-0000-4000-8000-000000000002", ProductionVersionNumber: 2,
		Bindings: []pipeline.BindingChange{
			{Name: "CACHE", Change: "changed", Type: "r2_bucket", OldType: "kv_namespace"},
			{Name: "NEW_VAR", Change: "added", Type: "plain_text"},
			{Name: "OLD", Change: "removed", OldType: "plain_text"},
			{Name: "STAGE", Change: "changed", Type: "plain_text", Fields: []string{"text"}},
		},
		CompatibilityDateFrom: "2025-09-01", CompatibilityDateTo: "2025-10-01",
		FlagsAdded: []string{"nodejs_compat"}, FlagsRemoved: []string{"streams_enable_constructors"},
		ModulesFrom: 2, ModulesTo: 3, BytesFrom: 3<<20 + 1000, BytesTo: 3<<20 + 2089, SizesKnown: true,
		Assets: &pipeline.AssetChanges{Files: 3, NewOrChanged: 1},
	}
}

func encode(t *testing.T, res *pipeline.Result, d RecordDetails) []byte {
	t.Helper()
	doc, err := NewRecord(res, d).Encode(nil)
	require.NoError(t, err)
	return doc
}

func TestRecordValidatesAgainstSchema(t *testing.T) {
	t.Parallel()
	for _, tc := range recordCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := encode(t, tc.res, tc.d)
			require.NoError(t, recordcheck.Validate(schemaPath, doc), "%s", doc)
		})
	}
}

func TestRecordStatus(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"created": "success", "reused-deployed": "success", "rolled-back": "failure", "dry-run": "planned",
		"bad-input-before-pipeline": "failure", "bad-input-in-pipeline": "failure", "api-failure": "failure",
		"previews": "success", "preview-deleted": "success", "skipped": "skipped", "promote": "success",
		"pr-versions-changes": "success", "pr-previews-changes": "success", "pr-no-production": "success",
		"pr-changes-unavailable": "success",
	}
	for _, tc := range recordCases() {
		rec := NewRecord(tc.res, tc.d)
		assert.Equal(t, want[tc.name], rec.Status, tc.name)
	}
	assert.Equal(t, "stages", NewRecord(nil, RecordDetails{Err: &inputs.Error{Input: "stages", Err: errors.New("x")}}).Error.Input)
	assert.Equal(t, "modules", NewRecord(&pipeline.Result{}, RecordDetails{Err: fmt.Errorf("wrapped: %w", &bundle.InputError{Input: "modules", Err: errors.New("x")})}).Error.Input)
	api := NewRecord(&pipeline.Result{}, RecordDetails{Err: &cloudflare.APIError{Status: 403}}).Error
	assert.Contains(t, api.Advice, api.Message, "the advice includes the message")
	assert.Contains(t, api.Advice, "Workers Scripts: Edit")
	assert.Equal(t, "previews", NewRecord(&pipeline.Result{Preview: &pipeline.PreviewInfo{}}, RecordDetails{}).Mode)
	assert.Equal(t, "promote", NewRecord(&pipeline.Result{}, RecordDetails{Promote: true}).Mode)
	assert.Nil(t, NewRecord(&pipeline.Result{Assets: &pipeline.AssetsReport{Uploaded: -1}}, RecordDetails{}).Assets.Uploaded, "a dry run uploaded nothing: null, not -1")
}

func TestRecordGolden(t *testing.T) {
	t.Parallel()
	files := map[string]string{"created": "record.json", "pr-versions-changes": "record-changes.json"}
	for _, c := range recordCases() {
		file, ok := files[c.name]
		if !ok {
			continue
		}
		delete(files, c.name)
		rec := NewRecord(c.res, c.d)
		doc, err := json.MarshalIndent(rec, "", "  ")
		require.NoError(t, err)
		golden(t, file, string(doc)+"\n")
	}
	assert.Empty(t, files, "cases without a golden file")
}

// TestRecordRedacts checks that a secret in any string of the record (here
// an error echoing it, a message and a warning) is redacted, and that the
// redacted document is still valid.
func TestRecordRedacts(t *testing.T) {
	t.Parallel()
	secret := `s3cr"et\value`
	res := recordCases()[0].res
	res.Message = "deploy " + secret
	rec := NewRecord(res, RecordDetails{Warnings: []string{"echo " + secret}, Err: errors.New("API said " + secret)})
	doc, err := rec.Encode(func(s string) string { return strings.ReplaceAll(s, secret, "***") })
	require.NoError(t, err)
	assert.NotContains(t, string(doc), "s3cr")
	assert.Contains(t, string(doc), `"deploy ***"`)
	require.NoError(t, recordcheck.Validate(schemaPath, doc))
}

// TestRecordSchemaNoDrift checks that docs/result.schema.json describes
// exactly the fields the Go types emit, object by object: a field added to
// the record without the schema (or left in the schema after its removal)
// fails here, and every object requires all its properties and no others.
func TestRecordSchemaNoDrift(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(schemaPath)
	require.NoError(t, err)
	var schema map[string]any
	require.NoError(t, json.Unmarshal(raw, &schema))
	defs, _ := schema["$defs"].(map[string]any)

	resolve := func(s map[string]any) map[string]any {
		if ref, ok := s["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/$defs/")
			d, ok := defs[name].(map[string]any)
			require.True(t, ok, "unknown $ref %s", ref)
			return d
		}
		return s
	}
	seen := map[string]bool{}
	var check func(path string, typ reflect.Type, s map[string]any)
	check = func(path string, typ reflect.Type, s map[string]any) {
		s = resolve(s)
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			if typ.Kind() == reflect.Slice {
				items, ok := s["items"].(map[string]any)
				require.True(t, ok, "%s: the schema has no items for a list", path)
				s = resolve(items)
				path += "[]"
			}
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct {
			return
		}
		seen[typ.Name()] = true
		props, _ := s["properties"].(map[string]any)
		assert.Equal(t, false, s["additionalProperties"], "%s: the schema must refuse unknown keys", path)
		var fields []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			require.NotEmpty(t, name, "%s.%s has no json name", path, f.Name)
			fields = append(fields, name)
			ps, ok := props[name].(map[string]any)
			if assert.True(t, ok, "%s.%s: the schema does not describe it", path, name) {
				check(path+"."+name, f.Type, ps)
			}
		}
		var names, required []string
		for n := range props {
			names = append(names, n)
		}
		for _, r := range s["required"].([]any) {
			required = append(required, r.(string))
		}
		slices.Sort(fields)
		slices.Sort(names)
		slices.Sort(required)
		assert.Equal(t, fields, names, "%s: the schema's properties differ from the Go fields", path)
		assert.Equal(t, fields, required, "%s: every key is always present, so every property is required", path)
	}
	check("record", reflect.TypeFor[Record](), schema)
	assert.True(t, seen["RecordStage"] && seen["RecordBundled"] && seen["RecordEarlierDeployment"], "the walk reached the nested types")
	assert.True(t, seen["RecordBindingChange"] && seen["RecordAssetChanges"] && seen["RecordPendingMigrations"], "the walk reached the change summary's types")
	// schema_version's const follows the Go constant.
	sv := schema["properties"].(map[string]any)["schema_version"].(map[string]any)
	assert.EqualValues(t, RecordSchemaVersion, sv["const"])
}

// TestRecordSchemaRefuses checks that the validation can fail: documents
// that break the schema are refused.
func TestRecordSchemaRefuses(t *testing.T) {
	t.Parallel()
	good := encode(t, recordCases()[0].res, recordCases()[0].d)
	cases := map[string]func(m map[string]any){
		"binding value":    func(m map[string]any) { m["bindings"].([]any)[0].(map[string]any)["value"] = "x" },
		"unknown key":      func(m map[string]any) { m["extra"] = 1 },
		"missing key":      func(m map[string]any) { delete(m, "warnings") },
		"bad status":       func(m map[string]any) { m["status"] = "ok" },
		"percentage > 100": func(m map[string]any) { m["deployment"].(map[string]any)["percentage"] = 150 },
		"bad digest":       func(m map[string]any) { m["bundle"].(map[string]any)["digest"] = "xyz" },
	}
	withChanges := encode(t, &pipeline.Result{WorkerName: "shop", Changes: recordChangesCase()}, RecordDetails{})
	changes := func(m map[string]any) map[string]any { return m["changes"].(map[string]any) }
	changesCases := map[string]func(m map[string]any){
		"binding change value": func(m map[string]any) {
			changes(m)["bindings"].([]any)[0].(map[string]any)["value"] = "x"
		},
		"bad change kind":         func(m map[string]any) { changes(m)["bindings"].([]any)[0].(map[string]any)["change"] = "renamed" },
		"changes key missing":     func(m map[string]any) { delete(changes(m), "sizes_known") },
		"changes unknown key":     func(m map[string]any) { changes(m)["values"] = map[string]any{} },
		"negative new_or_changed": func(m map[string]any) { changes(m)["assets"].(map[string]any)["new_or_changed"] = -1 },
	}
	for name, mutate := range changesCases {
		var m map[string]any
		require.NoError(t, json.Unmarshal(withChanges, &m))
		mutate(m)
		doc, err := json.Marshal(m)
		require.NoError(t, err)
		assert.Error(t, recordcheck.Validate(schemaPath, doc), name)
	}
	for name, mutate := range cases {
		var m map[string]any
		require.NoError(t, json.Unmarshal(good, &m))
		mutate(m)
		doc, err := json.Marshal(m)
		require.NoError(t, err)
		assert.Error(t, recordcheck.Validate(schemaPath, doc), name)
	}
}

// TestRecordEncodeWithin: a record with very many modules is cut to fit the
// output limit, counts what it left out, and stays valid.
func TestRecordEncodeWithin(t *testing.T) {
	t.Parallel()
	res := &pipeline.Result{WorkerName: "shop", MainModule: "m0.js", Digest: sha}
	const n = 20000
	for i := range n {
		res.Modules = append(res.Modules, pipeline.Module{Name: fmt.Sprintf("chunks/%06d-%s.js", i, strings.Repeat("x", 40)), ContentType: "application/javascript+module", Size: 1, SHA256: sha})
	}
	full, err := NewRecord(res, RecordDetails{}).Encode(nil)
	require.NoError(t, err)
	require.Greater(t, len(full), MaxOutputBytes, "the case must need the cut")

	doc, err := NewRecord(res, RecordDetails{}).EncodeWithin(MaxOutputBytes, nil)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(doc), MaxOutputBytes)
	require.NoError(t, recordcheck.Validate(schemaPath, doc))
	var rec Record
	require.NoError(t, json.Unmarshal(doc, &rec))
	assert.Positive(t, rec.Bundle.ModulesLeftOut)
	assert.Equal(t, n, len(rec.Bundle.Modules)+rec.Bundle.ModulesLeftOut)
	assert.Equal(t, res.Modules[0].Name, rec.Bundle.Modules[0].Name, "the first modules are kept")

	small, err := NewRecord(recordCases()[0].res, RecordDetails{}).EncodeWithin(MaxOutputBytes, nil)
	require.NoError(t, err)
	assert.Contains(t, string(small), `"modules_left_out":0`)
}

// TestRecordChanges checks the change summary's part of the record: null
// without a summary, every part carried with one, and an unknown asset count
// as null rather than -1.
func TestRecordChanges(t *testing.T) {
	t.Parallel()
	assert.Nil(t, NewRecord(&pipeline.Result{WorkerName: "shop"}, RecordDetails{}).Changes)
	assert.Contains(t, string(encode(t, &pipeline.Result{WorkerName: "shop"}, RecordDetails{})), `"changes":null`)

	c := NewRecord(&pipeline.Result{Changes: recordChangesCase()}, RecordDetails{}).Changes
	require.NotNil(t, c)
	assert.Equal(t, RecordChanges{
		ProductionVersionID: "00000000-0000-4000-8000-000000000002", ProductionVersionNumber: 2,
		Bindings: []RecordBindingChange{
			{Name: "CACHE", Change: "changed", Type: "r2_bucket", OldType: "kv_namespace", Keys: []string{}},
			{Name: "NEW_VAR", Change: "added", Type: "plain_text", Keys: []string{}},
			{Name: "OLD", Change: "removed", OldType: "plain_text", Keys: []string{}},
			{Name: "STAGE", Change: "changed", Type: "plain_text", Keys: []string{"text"}},
		},
		CompatibilityDateFrom: "2025-09-01", CompatibilityDateTo: "2025-10-01",
		FlagsAdded: []string{"nodejs_compat"}, FlagsRemoved: []string{"streams_enable_constructors"},
		ModulesFrom: 2, ModulesTo: 3, BytesFrom: 3<<20 + 1000, BytesTo: 3<<20 + 2089, SizesKnown: true,
		Assets: &RecordAssetChanges{Files: 3, NewOrChanged: ptr(1)},
	}, *c)

	for _, tc := range recordCases() {
		if tc.name == "pr-previews-changes" {
			c := NewRecord(tc.res, tc.d).Changes
			require.NotNil(t, c)
			assert.Nil(t, c.Assets.NewOrChanged, "no upload ran: null, not -1")
			assert.Equal(t, &RecordPendingMigrations{FromTag: "v1", ToTag: "v2", Steps: 1}, c.PendingMigrations)
		}
	}

	none := NewRecord(&pipeline.Result{Changes: &pipeline.Changes{NoProduction: true}}, RecordDetails{}).Changes
	require.NotNil(t, none)
	assert.True(t, none.NoProduction)
	assert.Equal(t, []RecordBindingChange{}, none.Bindings, "lists are empty, never null")
	assert.Equal(t, []string{}, none.FlagsAdded)
}

func ptr[T any](v T) *T { return &v }
