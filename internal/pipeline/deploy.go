package pipeline

import (
	"context"
	"fmt"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
)

// deploy sends 100% of traffic to the run's version.
func deploy(ctx context.Context, api API, name string, res *Result, log Logger) error {
	deps, err := api.ListDeployments(ctx, name)
	if err != nil {
		return fmt.Errorf("failed to read the live deployment of %s: %w", name, err)
	}
	if len(deps) > 0 {
		live := deps[0]
		if len(live.Versions) == 1 {
			res.PreviousVersionID = live.Versions[0].VersionID
		} else {
			for _, dv := range live.Versions {
				if dv.VersionID != res.VersionID && res.PreviousVersionID == "" {
					res.PreviousVersionID = dv.VersionID
				}
			}
		}
		if len(live.Versions) == 1 && live.Versions[0].VersionID == res.VersionID {
			res.Deployed, res.DeployedPercentage = true, 100
			log.Infof("Version %s already serves 100%% of %s: nothing to deploy", res.VersionID, name)
			return nil
		}
	}
	d, err := api.CreateDeployment(ctx, name, []cloudflare.DeploymentVersion{{VersionID: res.VersionID, Percentage: 100}}, res.Message, false)
	if err != nil {
		return fmt.Errorf("failed to deploy version %s to 100%%: %w", res.VersionID, err)
	}
	res.Deployed, res.DeploymentID, res.DeployedPercentage = true, d.ID, 100
	log.Infof("Deployed version %s to 100%% of %s (deployment %s)", res.VersionID, name, d.ID)
	return nil
}

// StageReport is one stage of a rollout, for reports (issue 3).
type StageReport struct {
	Percentage float64
}
