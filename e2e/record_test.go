package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/recordcheck"
)

var recordSchema = "../" + recordcheck.SchemaFile

// record is the part of the run record the tests read.
type record struct {
	SchemaVersion int    `json:"schema_version"`
	Status        string `json:"status"`
	Mode          string `json:"mode"`
	DryRun        bool   `json:"dry_run"`
	Worker        *struct {
		ID, Name string
		Created  bool
		Exists   bool
	} `json:"worker"`
	Version *struct {
		ID     string `json:"id"`
		Number int    `json:"number"`
		Reused bool   `json:"reused"`
	} `json:"version"`
	Preview *struct {
		ID         string `json:"id"`
		Deleted    bool   `json:"deleted"`
		URL        string `json:"url"`
		Deployment *struct {
			ID     string `json:"id"`
			URL    string `json:"url"`
			Reused bool   `json:"reused"`
		} `json:"deployment"`
	} `json:"preview"`
	Bundle *struct {
		MainModule string `json:"main_module"`
		Modules    []struct {
			Name   string `json:"name"`
			SHA256 string `json:"sha256"`
		} `json:"modules"`
		Digest string `json:"digest"`
	} `json:"bundle"`
	Bindings []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"bindings"`
	Changes    *recordChanges `json:"changes"`
	Deployment struct {
		Deployed          bool    `json:"deployed"`
		ID                string  `json:"id"`
		Percentage        float64 `json:"percentage"`
		PreviousVersionID string  `json:"previous_version_id"`
		RolledBack        bool    `json:"rolled_back"`
		Stages            []struct {
			Verdict string `json:"verdict"`
		} `json:"stages"`
	} `json:"deployment"`
	URLs struct {
		PreviewURL string `json:"preview_url"`
		CommitURL  string `json:"commit_url"`
		RunURL     string `json:"run_url"`
	} `json:"urls"`
	Requests int      `json:"requests"`
	Notices  []string `json:"notices"`
	Warnings []string `json:"warnings"`
	Error    *struct {
		Message string `json:"message"`
		Advice  string `json:"advice"`
		Input   string `json:"input"`
	} `json:"error"`
}

// recordChanges is the record's change summary against production.
type recordChanges struct {
	NoProduction            bool   `json:"no_production"`
	Unavailable             string `json:"unavailable"`
	ProductionVersionID     string `json:"production_version_id"`
	ProductionVersionNumber int    `json:"production_version_number"`
	Bindings                []struct {
		Name    string   `json:"name"`
		Change  string   `json:"change"`
		Type    string   `json:"type"`
		OldType string   `json:"old_type"`
		Keys    []string `json:"keys"`
	} `json:"bindings"`
	CompatibilityDateFrom string   `json:"compatibility_date_from"`
	CompatibilityDateTo   string   `json:"compatibility_date_to"`
	FlagsAdded            []string `json:"flags_added"`
	FlagsRemoved          []string `json:"flags_removed"`
	ModulesFrom           int      `json:"modules_from"`
	ModulesTo             int      `json:"modules_to"`
	BytesFrom             int64    `json:"bytes_from"`
	BytesTo               int64    `json:"bytes_to"`
	SizesKnown            bool     `json:"sizes_known"`
	PendingMigrations     *struct {
		Steps int `json:"steps"`
	} `json:"pending_migrations"`
}

// bindingChanges maps each changed binding's name to "change type old_type keys".
func (c *recordChanges) bindingChanges() map[string]string {
	out := map[string]string{}
	for _, b := range c.Bindings {
		out[b.Name] = strings.TrimSpace(strings.Join([]string{b.Change, b.Type, b.OldType, strings.Join(b.Keys, ",")}, " "))
	}
	return out
}

// parseRecord validates doc against docs/result.schema.json and decodes it.
func parseRecord(t *testing.T, doc string) record {
	t.Helper()
	require.NotEmpty(t, doc, "no run record")
	require.NoError(t, recordcheck.Validate(recordSchema, []byte(doc)), "%s", doc)
	var rec record
	require.NoError(t, json.Unmarshal([]byte(doc), &rec))
	assert.Equal(t, 1, rec.SchemaVersion)
	assert.NotContains(t, doc, testToken)
	assert.NotContains(t, doc, testGitHubToken)
	return rec
}

// TestRecordInActions runs real runs of each kind in Actions and checks that
// the `result` output is a valid run record that agrees with the other
// outputs.
func TestRecordInActions(t *testing.T) {
	t.Parallel()

	t.Run("created then reused", func(t *testing.T) {
		t.Parallel()
		cf := newCloudflare(t)
		ws := workspace(t, "esm-multi")
		r := pushJob(t, cf, ws, map[string]string{"vars": "STAGE=prod"}).exec(t, ctxFor(t))
		require.Equal(t, 0, r.Code, r.Stdout)
		rec := parseRecord(t, r.Outputs["result"])
		assert.Equal(t, "success", rec.Status)
		assert.Equal(t, "versions", rec.Mode)
		require.NotNil(t, rec.Worker)
		assert.Equal(t, r.Outputs["worker-id"], rec.Worker.ID)
		assert.True(t, rec.Worker.Created)
		require.NotNil(t, rec.Version)
		assert.Equal(t, r.Outputs["version-id"], rec.Version.ID)
		assert.False(t, rec.Version.Reused)
		assert.Equal(t, r.Outputs["preview-url"], rec.URLs.PreviewURL)
		assert.Equal(t, "https://github.com/octo/shop/actions/runs/4242", rec.URLs.RunURL)
		require.NotNil(t, rec.Bundle)
		assert.Equal(t, "index.mjs", rec.Bundle.MainModule)
		assert.Len(t, rec.Bundle.Modules, len(wantModules))
		assert.Len(t, rec.Bundle.Digest, 64)
		for _, m := range rec.Bundle.Modules {
			data, err := os.ReadFile(filepath.Join(ws, "dist", filepath.FromSlash(m.Name)))
			require.NoError(t, err)
			sum := sha256.Sum256(data)
			assert.Equal(t, hex.EncodeToString(sum[:]), m.SHA256, "digest of %s", m.Name)
		}
		assert.Contains(t, rec.Bindings, struct {
			Name string `json:"name"`
			Type string `json:"type"`
		}{"STAGE", "plain_text"})
		assert.NotContains(t, r.Outputs["result"], `"prod"`, "binding values never appear")
		assert.Positive(t, rec.Requests)
		assert.Nil(t, rec.Error)
		assert.NotContains(t, r.Stdout, `"schema_version"`, "in Actions the record is an output, not a log line")
		assert.Nil(t, rec.Changes, "a push run computes no change summary")

		r = pushJob(t, cf, ws, map[string]string{"vars": "STAGE=prod"}).exec(t, ctxFor(t))
		require.Equal(t, 0, r.Code, r.Stdout)
		rec = parseRecord(t, r.Outputs["result"])
		require.NotNil(t, rec.Version)
		assert.True(t, rec.Version.Reused)
		assert.Equal(t, r.Outputs["version-id"], rec.Version.ID)
	})

	t.Run("staged rollout rolled back", func(t *testing.T) {
		t.Parallel()
		cf := newCloudflare(t)
		ws := workspace(t, "esm-multi")
		base := seedBaseline(t, cf, ws)
		health := newHealth(t, 503)
		r := pushJob(t, cf, ws, staged(map[string]string{"health-check-url": health.URL})).exec(t, ctxFor(t))
		require.Equal(t, 1, r.Code, r.Stdout)
		rec := parseRecord(t, r.Outputs["result"])
		assert.Equal(t, "failure", rec.Status)
		assert.True(t, rec.Deployment.RolledBack)
		assert.True(t, rec.Deployment.Deployed)
		assert.Equal(t, base, rec.Deployment.PreviousVersionID)
		assert.Equal(t, r.Outputs["deployment-id"], rec.Deployment.ID)
		assert.Zero(t, rec.Deployment.Percentage)
		require.NotEmpty(t, rec.Deployment.Stages)
		assert.Equal(t, "failed", rec.Deployment.Stages[0].Verdict)
		require.NotNil(t, rec.Error)
		assert.Contains(t, rec.Error.Advice, "health check 1 failed")
		assert.Contains(t, rec.Error.Advice, "rolled back: version "+base+" serves 100% again")
	})

	t.Run("dry run", func(t *testing.T) {
		t.Parallel()
		cf := newCloudflare(t)
		ws := workspace(t, "esm-multi")
		r := pushJob(t, cf, ws, map[string]string{"dry-run": "true", "deploy": "true"}).exec(t, ctxFor(t))
		require.Equal(t, 0, r.Code, r.Stdout)
		rec := parseRecord(t, r.Outputs["result"])
		assert.Equal(t, "planned", rec.Status)
		assert.True(t, rec.DryRun)
		assert.Nil(t, rec.Version)
		require.NotNil(t, rec.Worker)
		assert.Empty(t, rec.Worker.ID, "the Worker does not exist yet")
		require.NotNil(t, rec.Bundle)
		assert.Len(t, rec.Bundle.Modules, len(wantModules))
		joined := strings.Join(rec.Notices, "\n")
		assert.Contains(t, joined, "a real run would create it", "the plan is among the notices")
		assert.Empty(t, cf.Writes())
	})

	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		cf := newCloudflare(t)
		ws := workspace(t, "esm-multi")
		r := pushJob(t, cf, ws, map[string]string{"stages": "110%"}).exec(t, ctxFor(t))
		require.Equal(t, 1, r.Code, r.Stdout)
		rec := parseRecord(t, r.Outputs["result"])
		assert.Equal(t, "failure", rec.Status)
		require.NotNil(t, rec.Error)
		assert.Equal(t, "stages", rec.Error.Input)
		assert.Contains(t, rec.Error.Advice, "110%")
		assert.Nil(t, rec.Worker)
	})

	t.Run("previews", func(t *testing.T) {
		t.Parallel()
		cf := newCloudflare(t)
		gh := newFakeGitHub(t)
		ws := workspace(t, "esm-multi")
		write(t, ws, "wrangler.jsonc", []byte(previewsConfig))
		payload := prPayload(t, "pull_request.00.opened.json", strings.Repeat("a", 40), "")
		r, _ := previewRun(t, cf, gh, ws, payload, nil)
		require.Equal(t, 0, r.Code, r.Stdout)
		doc := r.Outputs["result"]
		rec := parseRecord(t, doc)
		assert.NotContains(t, doc, previewSecret)
		assert.Equal(t, "success", rec.Status)
		assert.Equal(t, "previews", rec.Mode)
		require.NotNil(t, rec.Preview)
		assert.Equal(t, r.Outputs["preview-id"], rec.Preview.ID)
		require.NotNil(t, rec.Preview.Deployment)
		assert.Equal(t, r.Outputs["preview-deployment-id"], rec.Preview.Deployment.ID)
		assert.Equal(t, r.Outputs["commit-url"], rec.Preview.Deployment.URL)
		assert.Equal(t, r.Outputs["commit-url"], rec.URLs.CommitURL)
		assert.Equal(t, r.Outputs["preview-url"], rec.URLs.PreviewURL)
		assert.Nil(t, rec.Version)
		require.NotNil(t, rec.Changes, "a pull-request run's record carries its change summary")
		assert.True(t, rec.Changes.NoProduction, "the run created the Worker")
		assert.Empty(t, rec.Changes.Bindings)

		r, _ = previewRun(t, cf, gh, ws, payload, nil)
		require.Equal(t, 0, r.Code, r.Stdout)
		rec = parseRecord(t, r.Outputs["result"])
		require.NotNil(t, rec.Preview)
		require.NotNil(t, rec.Preview.Deployment)
		assert.True(t, rec.Preview.Deployment.Reused)

		// closed: the Preview is deleted, and the record says so.
		r, _ = previewRun(t, cf, gh, ws, prPayload(t, "pull_request.03.closed.json", strings.Repeat("a", 40), ""), nil)
		require.Equal(t, 0, r.Code, r.Stdout)
		rec = parseRecord(t, r.Outputs["result"])
		require.NotNil(t, rec.Preview)
		assert.True(t, rec.Preview.Deleted)
		assert.Equal(t, "previews", rec.Mode)
	})
}

// TestRecordJSONDoesNotChangeTheLogInActions: in Actions, `json: true` leaves
// the log as it is.
func TestRecordJSONDoesNotChangeTheLogInActions(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	r := pushJob(t, cf, ws, map[string]string{"json": "true", "tag": "t1"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	r2 := pushJob(t, cf, ws, map[string]string{"json": "false", "tag": "t1"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r2.Code, r2.Stdout)
	lines := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			// The second run finds the Worker and reuses the version: its
			// lines differ there only.
			if !strings.Contains(l, "version") && !strings.HasPrefix(l, "Worker ") {
				out = append(out, l)
			}
		}
		return out
	}
	assert.Equal(t, lines(r2.Stdout), lines(r.Stdout))
	assert.Contains(t, r.Stdout, "::group::Bundle:")
	assert.NotContains(t, r.Stdout, `"schema_version"`)
	parseRecord(t, r.Outputs["result"])
}

// outsideRun runs the binary outside Actions with stdout and stderr apart.
func outsideRun(t *testing.T, ws string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.CommandContext(ctxFor(t), binPath, args...)
	cmd.Env = job{Outside: true, Env: env}.environ(t, t.TempDir())
	cmd.Dir = ws
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		t.Fatalf("failed to run the action: %v", err)
	}
	return code, out.String(), errb.String()
}

// oneDocument checks that stdout is exactly one JSON document and a newline.
func oneDocument(t *testing.T, stdout string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	var v json.RawMessage
	require.NoError(t, dec.Decode(&v), "stdout: %q", stdout)
	_, err := dec.Token()
	require.ErrorIs(t, err, io.EOF, "stdout holds more than one document: %q", stdout)
	require.Equal(t, string(v)+"\n", stdout, "stdout is the document and one newline")
	return string(v)
}

// TestJSONOutsideActions: with --json outside Actions, stdout is exactly one
// valid record (on success, on failure with exit code 1, for a dry run), and
// notices, warnings and errors go to stderr.
func TestJSONOutsideActions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		args       []string
		code       int
		status     string
		wantStderr string
	}{
		{name: "deploy", args: []string{"--deploy"}, status: "success"},
		{name: "dry run", args: []string{"--dry-run", "--deploy"}, status: "planned", wantStderr: "notice: dry run: Worker \"shop\" does not exist"},
		{name: "bad input", args: []string{"--stages", "110%"}, code: 1, status: "failure", wantStderr: "error: input `stages`"},
		{name: "unknown flag", args: []string{"--stagez", "10%"}, code: 1, status: "failure", wantStderr: "error: input `stagez`: unknown flag --stagez"},
		{name: "rejected by Cloudflare", args: []string{"--account-id", strings.Repeat("f", 32)}, code: 1, status: "failure", wantStderr: "error: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf := newCloudflare(t)
			ws := workspace(t, "esm-multi")
			args := append([]string{"--json", "--api-url", cf.URL, "--account-id", testAccount, "--worker", "shop",
				"--modules", "dist/**", "--compatibility-date", "2025-09-01"}, tc.args...)
			code, stdout, stderr := outsideRun(t, ws, map[string]string{"CLOUDFLARE_API_TOKEN": testToken}, args...)
			assert.Equal(t, tc.code, code, "stderr: %s", stderr)
			doc := oneDocument(t, stdout)
			rec := parseRecord(t, doc)
			assert.Equal(t, tc.status, rec.Status)
			assert.Equal(t, tc.code != 0, rec.Error != nil)
			if tc.wantStderr != "" {
				assert.Contains(t, stderr, tc.wantStderr)
			}
			assert.NotContains(t, stderr, "Bundle:", "log lines are not printed with --json")
			assert.NotContains(t, stderr, "Outputs:")
			assert.NotContains(t, stderr+stdout, testToken)
			for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if l != "" {
					assert.Regexp(t, `^(notice|warning|error): `, l)
				}
			}
			if tc.status == "success" {
				require.NotNil(t, rec.Version)
				assert.Equal(t, 100.0, rec.Deployment.Percentage)
				assert.Equal(t, cf.Versions("shop")[0].ID, rec.Version.ID)
			}
		})
	}

	t.Run("without --json the log is unchanged", func(t *testing.T) {
		t.Parallel()
		cf := newCloudflare(t)
		ws := workspace(t, "esm-multi")
		code, stdout, _ := outsideRun(t, ws, map[string]string{"CLOUDFLARE_API_TOKEN": testToken},
			"--api-url", cf.URL, "--account-id", testAccount, "--worker", "shop", "--modules", "dist/**", "--compatibility-date", "2025-09-01")
		require.Equal(t, 0, code, stdout)
		assert.Contains(t, stdout, "Bundle:")
		assert.NotContains(t, stdout, `"schema_version"`)
	})
}

// TestBinaryLinksNoSchemaValidator: the schema validators are test-only
// dependencies; the action binary links neither them nor the packages that
// wrap them.
func TestBinaryLinksNoSchemaValidator(t *testing.T) {
	t.Parallel()
	out, err := exec.CommandContext(ctxFor(t), "go", "list", "-deps", "../cmd/workers-deploy").Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/workers-deploy/workers-deploy/internal/report", "the list is the binary's dependencies")
	for _, d := range deps {
		for _, banned := range []string{"github.com/santhosh-tekuri/jsonschema", "github.com/getkin/kin-openapi", "/internal/recordcheck", "/internal/openapicheck"} {
			assert.NotContains(t, d, banned)
		}
	}
}
