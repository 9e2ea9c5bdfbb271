package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/emulator"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
	"github.com/workers-deploy/workers-deploy/internal/report"
)

// LocalAccountID is the account of the embedded emulator (`api-url: local`).
const LocalAccountID = "0123456789abcdef0123456789abcdef"

// Version is the program version, set by main from build information.
var Version = "dev"

// Env is the process as main sees it.
type Env struct {
	Args   []string
	Getenv func(string) string
	Stdout io.Writer
	// ReadFile reads the event payload (ghevent.ReadPayload in main).
	ReadFile func(string) ([]byte, error)
	Getwd    func() (string, error)
	Now      func() time.Time
}

// Run performs one invocation and returns the process exit code: 0 on success
// (or nothing to do), 1 on bad input or a failed deploy.
func Run(ctx context.Context, env Env) int {
	if env.Now == nil {
		env.Now = time.Now
	}
	action := githubactions.New(githubactions.WithGetenv(env.Getenv), githubactions.WithWriter(env.Stdout))
	var con console = action
	if env.Getenv("GITHUB_ACTIONS") != "true" {
		con = &plainConsole{w: env.Stdout, debug: env.Getenv("RUNNER_DEBUG") == "1"}
	}
	src, err := inputs.NewSource(env.Args, env.Getenv)
	if errors.Is(err, inputs.ErrHelp) {
		fmt.Fprint(env.Stdout, usage())
		return 0
	}
	if err != nil {
		con.Errorf("%s", err)
		return 1
	}
	ev, err := ghevent.Load(env.Getenv, env.ReadFile)
	if err != nil {
		con.Errorf("%s", report.Advice(err))
		return 1
	}
	// The values of the variables that `secrets` names (issue 5): masked below,
	// and scrubbed from everything sent to GitHub.
	secretValues := inputs.SecretValues(src)
	// Mask every credential before anything else is printed. Outside Actions
	// nothing reads ::add-mask::, and printing it would show the secret.
	if ev.InActions {
		for _, v := range []string{lookup(src, "api-token"), src.Env("CLOUDFLARE_API_TOKEN"), lookup(src, "github-token")} {
			if strings.TrimSpace(v) != "" {
				action.AddMask(strings.TrimSpace(v))
			}
		}
		for _, v := range secretValues {
			action.AddMask(v)
		}
	}
	workspace := ev.Workspace
	if workspace == "" || !ev.InActions {
		if workspace, err = env.Getwd(); err != nil {
			con.Errorf("failed to find the current directory: %s", err)
			return 1
		}
	}
	cfg, err := inputs.Load(src, inputs.LoadOptions{Workspace: workspace, Now: env.Now})
	if err != nil {
		con.Errorf("%s", report.Advice(err))
		return 1
	}

	var api pipeline.API
	var client *cloudflare.Client
	if cfg.Local {
		baseURL, _, stop, err := emulator.Start("127.0.0.1:0", emulator.Options{})
		if err != nil {
			con.Errorf("failed to start the embedded emulator for `api-url: local`: %s", err)
			return 1
		}
		defer func() { _ = stop(context.Background()) }()
		con.Infof("api-url: local: using the embedded Cloudflare API emulator at %s (in memory, no credentials, nothing leaves this machine)", baseURL)
		cfg.APIURL, cfg.APIToken = baseURL, "local"
		if cfg.AccountID == "" {
			cfg.AccountID = LocalAccountID
		}
	}
	// A dry run without full credentials plans offline (API stays nil).
	if cfg.APIToken != "" && cfg.AccountID != "" {
		client, err = cloudflare.New(cfg.APIURL, cfg.APIToken, cfg.AccountID,
			cloudflare.WithLogger(con.Debugf), cloudflare.WithUserAgent("workers-deploy/"+Version))
		if err != nil {
			con.Errorf("%s", report.Advice(&inputs.Error{Input: "api-url", Err: err}))
			return 1
		}
		api = client
	}

	obs := githubObserver(ctx, con, cfg, ev, secretValues)
	res, runErr := pipeline.Run(ctx, cfg, ev, pipeline.Deps{API: api, Log: con, Now: env.Now, Observer: obs})
	if client != nil && res != nil {
		res.Requests = client.Requests()
	}
	// The failure is redacted like everything bound for GitHub: an API error
	// could echo a secret value (the runner masks the log, but not a value
	// that the summary has escaped).
	failure := ""
	if runErr != nil {
		failure = obs.redact(report.Advice(runErr))
	}
	if res != nil && !cfg.DryRun && res.Skipped == "" && !badInputBeforeWrite(res, runErr) {
		reportGitHub(ctx, obs, res, runErr, failure)
	}
	writeResults(action, env, res, ev, failure)
	if runErr != nil {
		con.Errorf("%s", failure)
		return 1
	}
	return 0
}

// badInputBeforeWrite reports a run that failed on bad input before it
// created or reused a version: product.md's "Bad input → a clear error naming
// the input, before any write" holds for GitHub too, so no sticky comment or
// GitHub Deployment is written; the ::error:: and the job summary say why.
func badInputBeforeWrite(res *pipeline.Result, runErr error) bool {
	var inErr *inputs.Error
	var bErr *bundle.InputError
	return res.VersionID == "" && (errors.As(runErr, &inErr) || errors.As(runErr, &bErr))
}

func lookup(src *inputs.Source, name string) string {
	v, _ := src.Lookup(name)
	return v
}

// writeResults writes outputs and the summary: to the runner's files inside
// Actions, as plain lines elsewhere. failure is the redacted advice of a
// failed run ("" on success), shown last in the summary. A failure to write
// them is a warning.
func writeResults(action *githubactions.Action, env Env, res *pipeline.Result, ev *ghevent.Context, failure string) {
	if res == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			// go-githubactions panics when a file command cannot be written.
			action.Warningf("failed to write step outputs or the job summary: %v", r)
		}
	}()
	outs := report.Outputs(res)
	if env.Getenv("GITHUB_OUTPUT") != "" {
		for _, o := range outs {
			action.SetOutput(o.Name, o.Value)
		}
	} else {
		fmt.Fprintln(env.Stdout, "Outputs:")
		for _, o := range outs {
			fmt.Fprintf(env.Stdout, "  %s=%s\n", o.Name, o.Value)
		}
	}
	if env.Getenv("GITHUB_STEP_SUMMARY") != "" {
		action.AddStepSummary(report.Render(res, report.Details{RunURL: ev.RunURL(), Failure: failure}))
	}
}

func usage() string {
	var b strings.Builder
	b.WriteString("workers-deploy: ship a Cloudflare Worker as one immutable version per commit.\n\n")
	b.WriteString("Usage: workers-deploy --name=value ...   (one flag per action input; inside GitHub Actions the INPUT_* variables are read)\n\n")
	b.WriteString("Try it without an account:\n  workers-deploy --api-url local --worker my-worker --modules 'dist/**' --compatibility-date 2025-09-01 --deploy\n\n")
	b.WriteString("Inputs: " + strings.Join(inputs.Names(), ", ") + "\n")
	return b.String()
}
