package report

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"

	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

// RecordSchemaVersion is the run record's schema_version. It goes up when a
// field changes meaning or goes away; new fields keep it
// (docs/result.schema.json).
const RecordSchemaVersion = 1

// Record is the run as one JSON document: the `result` output, and what
// `--json` prints outside Actions. Every key is always present (null or empty
// when it does not apply), so that a reader never needs to guess; it names
// bindings by name and type only, never their values.
type Record struct {
	SchemaVersion int `json:"schema_version"`
	// Tool is the program and its version.
	Tool RecordTool `json:"tool"`
	// Status is success, failure, skipped (the event left nothing to do) or
	// planned (a dry run without error).
	Status string `json:"status"`
	// Mode is versions, previews or promote.
	Mode   string `json:"mode"`
	DryRun bool   `json:"dry_run"`
	// SkipReason says why nothing was done ("" unless status is skipped).
	SkipReason string `json:"skip_reason"`

	Worker  *RecordWorker  `json:"worker"`
	Version *RecordVersion `json:"version"`
	Preview *RecordPreview `json:"preview"`
	Bundle  *RecordBundle  `json:"bundle"`
	Assets  *RecordAssets  `json:"assets"`
	// Bindings lists the version's bindings by name and type.
	Bindings []RecordBinding `json:"bindings"`
	// Changes is what a pull-request run's build changes against production
	// (docs/change-summary.md); null when the run computed no change summary.
	Changes    *RecordChanges   `json:"changes"`
	Deployment RecordDeployment `json:"deployment"`
	URLs       RecordURLs       `json:"urls"`
	// Requests counts the Cloudflare API requests the run made, retries
	// included (0 without credentials).
	Requests int `json:"requests"`
	// Notices and Warnings are the notices and warnings of the log, in order.
	Notices  []string     `json:"notices"`
	Warnings []string     `json:"warnings"`
	Error    *RecordError `json:"error"`
}

// RecordTool names the program that wrote the record.
type RecordTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// RecordWorker is the Worker the run worked on.
type RecordWorker struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Created is true when this run created the Worker.
	Created bool `json:"created"`
	// Exists is false when a dry run found no Worker, or did not look it up.
	Exists bool `json:"exists"`
}

// RecordVersion is the version the run created, reused or promoted.
type RecordVersion struct {
	ID      string `json:"id"`
	Number  int    `json:"number"`
	Reused  bool   `json:"reused"`
	Tag     string `json:"tag"`
	Message string `json:"message"`
}

// RecordPreview is the Worker Preview of a previews-mode run, or of a closed
// pull request.
type RecordPreview struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	URL     string `json:"url"`
	Created bool   `json:"created"`
	// Deleted is true when a closed pull request's Preview was removed.
	Deleted    bool                     `json:"deleted"`
	Deployment *RecordPreviewDeployment `json:"deployment"`
	// Earlier are the Preview's earlier deployments, newest first.
	Earlier []RecordEarlierDeployment `json:"earlier"`
}

// RecordPreviewDeployment is this commit's Preview Deployment.
type RecordPreviewDeployment struct {
	ID     string `json:"id"`
	Number int    `json:"number"`
	URL    string `json:"url"`
	Reused bool   `json:"reused"`
}

// RecordEarlierDeployment is one earlier Preview Deployment.
type RecordEarlierDeployment struct {
	Number    int    `json:"number"`
	CommitSHA string `json:"commit_sha"`
	URL       string `json:"url"`
}

// RecordBundle is what was (or would be) uploaded.
type RecordBundle struct {
	MainModule string         `json:"main_module"`
	Modules    []RecordModule `json:"modules"`
	// ModulesLeftOut counts the modules cut from Modules to keep the record
	// within a size limit (EncodeWithin); 0 when Modules lists them all.
	ModulesLeftOut int `json:"modules_left_out"`
	// TotalBytes and GzipBytes are the modules' size, raw and gzip-compressed.
	TotalBytes int64 `json:"total_bytes"`
	GzipBytes  int64 `json:"gzip_bytes"`
	// Digest is the content digest version reuse compares (hex SHA-256).
	Digest             string   `json:"digest"`
	CompatibilityDate  string   `json:"compatibility_date"`
	CompatibilityFlags []string `json:"compatibility_flags"`
	ConfigFile         string   `json:"config_file"`
	// Bundled is set when the entry was bundled in process with esbuild.
	Bundled *RecordBundled `json:"bundled"`
}

// RecordModule is one module.
type RecordModule struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// RecordBundled says what bundling did and why.
type RecordBundled struct {
	Entry      string   `json:"entry"`
	Reason     string   `json:"reason"`
	Main       string   `json:"main"`
	Inputs     int      `json:"inputs"`
	Packages   []string `json:"packages"`
	External   []string `json:"external"`
	Polyfilled []string `json:"polyfilled"`
	NodeCompat string   `json:"node_compat"`
	Warnings   []string `json:"warnings"`
}

// RecordAssets describes the static assets.
type RecordAssets struct {
	Directory string `json:"directory"`
	// Files and Bytes are what the manifest holds.
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// Uploaded counts the files this run sent; null when nothing was uploaded
	// (a dry run).
	Uploaded *int `json:"uploaded"`
	// Ignored counts the files .assetsignore left out; Modules the files that
	// are the Worker's own modules.
	Ignored  int      `json:"ignored"`
	Modules  int      `json:"modules"`
	Attached []string `json:"attached"`
}

// RecordBinding is one binding, by name and type.
type RecordBinding struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// RecordChanges is the change summary against production: the version with
// the largest share of the Worker's live deployment. It names bindings, keys,
// flags and tags, never values.
type RecordChanges struct {
	// NoProduction is true when the Worker has no live deployment: everything
	// is new and the fields below are empty.
	NoProduction bool `json:"no_production"`
	// Unavailable says why production could not be read ("" when it was).
	Unavailable             string `json:"unavailable"`
	ProductionVersionID     string `json:"production_version_id"`
	ProductionVersionNumber int    `json:"production_version_number"`
	// Bindings are the bindings added, removed or changed, by name.
	Bindings []RecordBindingChange `json:"bindings"`
	// CompatibilityDateFrom and CompatibilityDateTo are "" when the date is unchanged.
	CompatibilityDateFrom string   `json:"compatibility_date_from"`
	CompatibilityDateTo   string   `json:"compatibility_date_to"`
	FlagsAdded            []string `json:"flags_added"`
	FlagsRemoved          []string `json:"flags_removed"`
	// ModulesFrom and BytesFrom are production's, 0 when SizesKnown is false.
	ModulesFrom int   `json:"modules_from"`
	ModulesTo   int   `json:"modules_to"`
	BytesFrom   int64 `json:"bytes_from"`
	BytesTo     int64 `json:"bytes_to"`
	SizesKnown  bool  `json:"sizes_known"`
	// Assets is null when the build has no static assets.
	Assets *RecordAssetChanges `json:"assets"`
	// PendingMigrations is null when no Durable Object migration is pending.
	PendingMigrations *RecordPendingMigrations `json:"pending_migrations"`
}

// RecordBindingChange is one binding that differs from production.
type RecordBindingChange struct {
	Name string `json:"name"`
	// Change is added, removed or changed.
	Change string `json:"change"`
	// Type is the type in this build ("" when removed); OldType the type in
	// production ("" when added or when the type is unchanged).
	Type    string `json:"type"`
	OldType string `json:"old_type"`
	// Keys name the keys whose values differ, for a binding whose type is
	// unchanged; never their values.
	Keys []string `json:"keys"`
}

// RecordAssetChanges is what is known about the static assets against
// production.
type RecordAssetChanges struct {
	Files int `json:"files"`
	// NewOrChanged counts the files Cloudflare did not store yet; null when
	// no upload ran.
	NewOrChanged *int `json:"new_or_changed"`
}

// RecordPendingMigrations are the Durable Object migrations that apply when
// this build is deployed to production.
type RecordPendingMigrations struct {
	FromTag string `json:"from_tag"`
	ToTag   string `json:"to_tag"`
	Steps   int    `json:"steps"`
}

// RecordDeployment is the traffic the run left behind.
type RecordDeployment struct {
	Deployed bool   `json:"deployed"`
	ID       string `json:"id"`
	// Percentage is the new version's share when the run ended.
	Percentage        float64       `json:"percentage"`
	PreviousVersionID string        `json:"previous_version_id"`
	RolledBack        bool          `json:"rolled_back"`
	Stages            []RecordStage `json:"stages"`
}

// RecordStage is one stage of a rollout.
type RecordStage struct {
	Index           int     `json:"index"`
	Percentage      float64 `json:"percentage"`
	HoldSeconds     float64 `json:"hold_seconds"`
	ExtendedSeconds float64 `json:"extended_seconds"`
	DeploymentID    string  `json:"deployment_id"`
	Resumed         bool    `json:"resumed"`
	Checks          int     `json:"checks"`
	FailedChecks    int     `json:"failed_checks"`
	Measured        bool    `json:"measured"`
	Requests        int64   `json:"requests"`
	Errors          int64   `json:"errors"`
	// ErrorRate is percent; NoData is true when there were too few requests.
	ErrorRate float64 `json:"error_rate"`
	NoData    bool    `json:"no_data"`
	Verdict   string  `json:"verdict"`
	Reason    string  `json:"reason"`
}

// RecordURLs are the URLs of the run.
type RecordURLs struct {
	// PreviewURL is what a reviewer should open; CommitURL always serves
	// exactly this run's code.
	PreviewURL string `json:"preview_url"`
	CommitURL  string `json:"commit_url"`
	CommentURL string `json:"comment_url"`
	RunURL     string `json:"run_url"`
}

// RecordError is the failure of a run.
type RecordError struct {
	// Message is the error; Advice is the error with what to do about it.
	Message string `json:"message"`
	Advice  string `json:"advice"`
	// Input names the input at fault, "" when none is.
	Input string `json:"input"`
}

// RecordDetails are the parts of a record that do not come from the pipeline.
type RecordDetails struct {
	Version string
	// Promote is true for a run that deploys an existing version.
	Promote bool
	RunURL  string
	// Notices and Warnings are the log's.
	Notices, Warnings []string
	// Err is the run's failure, nil on success.
	Err error
}

// NewRecord builds the run record. res may be nil: a run that failed before
// the pipeline started (bad input) has only its error. The caller redacts
// the encoded document (Encode) like everything else the action writes.
func NewRecord(res *pipeline.Result, d RecordDetails) *Record {
	rec := &Record{
		SchemaVersion: RecordSchemaVersion,
		Tool:          RecordTool{Name: "workers-deploy", Version: d.Version},
		Mode:          "versions",
		Bindings:      []RecordBinding{},
		Notices:       nonNil(d.Notices),
		Warnings:      nonNil(d.Warnings),
		Deployment:    RecordDeployment{Stages: []RecordStage{}},
	}
	rec.URLs.RunURL = d.RunURL
	if d.Promote {
		rec.Mode = "promote"
	}
	if d.Err != nil {
		rec.Error = &RecordError{Message: d.Err.Error(), Advice: Advice(d.Err)}
		var inErr *inputs.Error
		var bErr *bundle.InputError
		switch {
		case errors.As(d.Err, &inErr):
			rec.Error.Input = inErr.Input
		case errors.As(d.Err, &bErr):
			rec.Error.Input = bErr.Input
		}
	}
	if res == nil {
		rec.Status = "failure"
		return rec
	}
	rec.DryRun = res.DryRun
	switch {
	case d.Err != nil:
		rec.Status = "failure"
	case res.Skipped != "":
		rec.Status, rec.SkipReason = "skipped", res.Skipped
	case res.DryRun:
		rec.Status = "planned"
	default:
		rec.Status = "success"
	}
	if res.WorkerID != "" || res.WorkerName != "" {
		rec.Worker = &RecordWorker{ID: res.WorkerID, Name: res.WorkerName, Created: res.WorkerCreated, Exists: res.WorkerExists}
	}
	if res.VersionID != "" {
		rec.Version = &RecordVersion{ID: res.VersionID, Number: res.VersionNumber, Reused: res.VersionReused, Tag: res.Tag, Message: res.Message}
	}
	if p := res.Preview; p != nil {
		rec.Mode = "previews"
		rec.Preview = &RecordPreview{Name: p.Name, ID: p.ID, URL: p.URL, Created: p.Created, Deleted: p.Deleted, Earlier: []RecordEarlierDeployment{}}
		if p.DeploymentID != "" {
			rec.Preview.Deployment = &RecordPreviewDeployment{ID: p.DeploymentID, Number: p.DeploymentNumber, URL: p.DeploymentURL, Reused: p.Reused}
		}
		for _, e := range p.Earlier {
			rec.Preview.Earlier = append(rec.Preview.Earlier, RecordEarlierDeployment{Number: e.Number, CommitSHA: e.CommitSHA, URL: e.URL})
		}
	}
	if res.MainModule != "" || len(res.Modules) > 0 || res.Digest != "" {
		rec.Bundle = recordBundle(res)
	}
	if a := res.Assets; a != nil {
		rec.Assets = &RecordAssets{Directory: a.Directory, Files: a.Files, Bytes: a.Bytes, Ignored: a.Ignored, Modules: a.Modules, Attached: nonNil(a.Attached)}
		if a.Uploaded >= 0 {
			rec.Assets.Uploaded = &a.Uploaded
		}
	}
	for _, b := range res.Bindings {
		rec.Bindings = append(rec.Bindings, RecordBinding{Name: b.Name, Type: b.Type})
	}
	rec.Changes = recordChanges(res.Changes)
	rec.Deployment.Deployed, rec.Deployment.ID = res.Deployed, res.DeploymentID
	rec.Deployment.Percentage, rec.Deployment.RolledBack = finite(res.DeployedPercentage), res.RolledBack
	rec.Deployment.PreviousVersionID = res.PreviousVersionID
	for _, s := range res.Stages {
		rec.Deployment.Stages = append(rec.Deployment.Stages, RecordStage{
			Index: s.Index, Percentage: finite(s.Percentage), HoldSeconds: s.Hold.Seconds(), ExtendedSeconds: s.Extended.Seconds(),
			DeploymentID: s.DeploymentID, Resumed: s.Resumed, Checks: s.Checks, FailedChecks: s.FailedChecks,
			Measured: s.Measured, Requests: s.Requests, Errors: s.Errors, ErrorRate: finite(s.Rate), NoData: s.NoData,
			Verdict: s.Verdict, Reason: s.Reason,
		})
	}
	rec.URLs.PreviewURL, rec.URLs.CommitURL, rec.URLs.CommentURL = res.PreviewURL, res.CommitURL, res.CommentURL
	rec.Requests = res.Requests
	return rec
}

func recordBundle(res *pipeline.Result) *RecordBundle {
	b := &RecordBundle{
		MainModule: res.MainModule, Modules: []RecordModule{}, TotalBytes: res.RawBytes, GzipBytes: res.GzipBytes,
		Digest: res.Digest, CompatibilityDate: res.CompatibilityDate, CompatibilityFlags: nonNil(res.CompatibilityFlags),
		ConfigFile: res.ConfigFile,
	}
	for _, m := range res.Modules {
		b.Modules = append(b.Modules, RecordModule{Name: m.Name, ContentType: m.ContentType, Size: m.Size, SHA256: m.SHA256})
	}
	if bd := res.Bundled; bd != nil {
		s := bd.Summary
		b.Bundled = &RecordBundled{
			Entry: bd.Entry, Reason: bd.Reason, Main: bd.Main, Inputs: s.Inputs,
			Packages: nonNil(s.Packages), External: nonNil(s.External), Polyfilled: nonNil(s.Polyfilled),
			NodeCompat: string(s.NodeCompat), Warnings: nonNil(s.Warnings),
		}
	}
	return b
}

func recordChanges(c *pipeline.Changes) *RecordChanges {
	if c == nil {
		return nil
	}
	r := &RecordChanges{
		NoProduction: c.NoProduction, Unavailable: c.Unavailable,
		ProductionVersionID: c.ProductionVersionID, ProductionVersionNumber: c.ProductionVersionNumber,
		Bindings:              []RecordBindingChange{},
		CompatibilityDateFrom: c.CompatibilityDateFrom, CompatibilityDateTo: c.CompatibilityDateTo,
		FlagsAdded: nonNil(c.FlagsAdded), FlagsRemoved: nonNil(c.FlagsRemoved),
		ModulesFrom: c.ModulesFrom, ModulesTo: c.ModulesTo, BytesFrom: c.BytesFrom, BytesTo: c.BytesTo,
		SizesKnown: c.SizesKnown,
	}
	for _, b := range c.Bindings {
		r.Bindings = append(r.Bindings, RecordBindingChange{Name: b.Name, Change: b.Change, Type: b.Type, OldType: b.OldType, Keys: nonNil(b.Fields)})
	}
	if a := c.Assets; a != nil {
		r.Assets = &RecordAssetChanges{Files: a.Files}
		if a.NewOrChanged >= 0 {
			n := a.NewOrChanged
			r.Assets.NewOrChanged = &n
		}
	}
	if m := c.Migrations; m != nil {
		r.PendingMigrations = &RecordPendingMigrations{FromTag: m.FromTag, ToTag: m.ToTag, Steps: m.Steps}
	}
	return r
}

// Encode returns the record as one line of JSON, with redact applied to
// every string in it (an API answer or error could echo a secret). The
// result is always valid JSON: strings are redacted before encoding.
func (r *Record) Encode(redact func(string) string) ([]byte, error) {
	if redact != nil {
		redactStrings(r, redact)
	}
	return json.Marshal(r)
}

// MaxOutputBytes bounds the `result` output: GitHub accepts step outputs of
// up to 1 MB.
const MaxOutputBytes = 1_000_000

// EncodeWithin is Encode, with the module list cut (and the cut counted in
// modules_left_out) until the document fits in max bytes. Only a record whose
// other parts are already over max stays over it.
func (r *Record) EncodeWithin(max int, redact func(string) string) ([]byte, error) {
	doc, err := r.Encode(redact)
	for err == nil && len(doc) > max && r.Bundle != nil && len(r.Bundle.Modules) > 0 {
		keep := len(r.Bundle.Modules) / 2
		r.Bundle.ModulesLeftOut += len(r.Bundle.Modules) - keep
		r.Bundle.Modules = r.Bundle.Modules[:keep]
		doc, err = json.Marshal(r)
	}
	return doc, err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return slices.Clone(s)
}

// finite keeps NaN and infinities, which JSON cannot carry, out of the record.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// redactStrings applies redact to every string the record holds.
func redactStrings(v any, redact func(string) string) {
	var walk func(reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.String:
			if v.CanSet() {
				v.SetString(redact(v.String()))
			}
		}
	}
	walk(reflect.ValueOf(v))
}
