package pipeline

import (
	"context"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
)

// API is the part of Cloudflare's Workers API a run uses.
type API interface {
	GetWorker(ctx context.Context, idOrName string) (*cloudflare.Worker, error)
	CreateWorker(ctx context.Context, in cloudflare.WorkerInput) (*cloudflare.Worker, error)
	FindVersionByTag(ctx context.Context, worker, tag string) (*cloudflare.Version, error)
	GetVersion(ctx context.Context, worker, versionID string, includeModules bool) (*cloudflare.Version, error)
	CreateVersion(ctx context.Context, worker string, in cloudflare.VersionInput) (*cloudflare.Version, error)
	ListDeployments(ctx context.Context, scriptName string) ([]cloudflare.Deployment, error)
	CreateDeployment(ctx context.Context, scriptName string, versions []cloudflare.DeploymentVersion, message string, force bool) (*cloudflare.Deployment, error)
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
