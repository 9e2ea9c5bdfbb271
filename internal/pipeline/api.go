package pipeline

import (
	"context"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
)

// API is the part of Cloudflare's Workers API a run uses.
type API interface {
	GetWorker(ctx context.Context, idOrName string) (*cloudflare.Worker, error)
	CreateWorker(ctx context.Context, in cloudflare.WorkerInput) (*cloudflare.Worker, error)
	FindVersionsByTag(ctx context.Context, worker, tag string) (*cloudflare.TagLookup, error)
	GetVersion(ctx context.Context, worker, versionID string, includeModules bool) (*cloudflare.Version, error)
	CreateVersion(ctx context.Context, worker string, in cloudflare.VersionInput) (*cloudflare.Version, error)
	// ListVersions returns one page (1-based) of a Worker's versions; used by `version-id`.
	ListVersions(ctx context.Context, worker string, page, perPage int) ([]cloudflare.Version, error)
	ListDeployments(ctx context.Context, scriptName string) ([]cloudflare.Deployment, error)
	CreateDeployment(ctx context.Context, scriptName string, versions []cloudflare.DeploymentVersion, message string, force bool) (*cloudflare.Deployment, error)
	// CreateAssetUploadSession and UploadAssets upload static assets.
	CreateAssetUploadSession(ctx context.Context, scriptName string, manifest map[string]cloudflare.AssetManifestEntry) (*cloudflare.AssetUploadSession, error)
	UploadAssets(ctx context.Context, uploadJWT string, files []cloudflare.AssetFile) (string, error)
	// ScriptMigrationTag is the Worker's Durable Object migration tag ("" for none).
	ScriptMigrationTag(ctx context.Context, name string) (string, error)
	// Resources named without an ID (resources.go).
	FindD1Database(ctx context.Context, name string) (*cloudflare.D1Database, error)
	CreateD1Database(ctx context.Context, name string) (*cloudflare.D1Database, error)
	FindKVNamespace(ctx context.Context, title string) (*cloudflare.KVNamespace, error)
	CreateKVNamespace(ctx context.Context, title string) (*cloudflare.KVNamespace, error)
	R2BucketExists(ctx context.Context, name, jurisdiction string) (bool, error)
	CreateR2Bucket(ctx context.Context, name, jurisdiction string) error
}

var _ API = (*cloudflare.Client)(nil)

// Logger prints to the job log; *githubactions.Action satisfies it.
type Logger interface {
	Infof(format string, args ...any)
	Noticef(format string, args ...any)
	Warningf(format string, args ...any)
	Debugf(format string, args ...any)
	Group(title string)
	EndGroup()
}
