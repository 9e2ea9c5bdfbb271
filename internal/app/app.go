package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/console"
	"github.com/workers-deploy/workers-deploy/internal/emulator"
	"github.com/workers-deploy/workers-deploy/internal/exitcode"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/github"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
	"github.com/workers-deploy/workers-deploy/internal/redact"
	"github.com/workers-deploy/workers-deploy/internal/report"
	"github.com/workers-deploy/workers-deploy/internal/rollout"
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
	// Stderr receives notices, warnings and errors when stdout carries the
	// run record (--json outside Actions); nil discards them.
	Stderr io.Writer
	// ReadFile reads the event payload (ghevent.ReadPayload in main).
	ReadFile func(string) ([]byte, error)
	Getwd    func() (string, error)
	Now      func() time.Time
	// Clock, when set, is the time of the whole run: the retries' waits and
	// budgets, the rollout's holds and Now (when Now is nil). Tests pass a
	// fake clock so that a minute of retries passes at once. Nil: the wall clock.
	Clock rollout.Clock
	// HTTPClient, when set, sends every request: Cloudflare's API, GitHub's and
	// the health checks. Nil: each client's own.
	HTTPClient *http.Client
}

// Run performs one invocation and returns the process exit code:
// exitcode.Success on success (or nothing to do), exitcode.Failure on bad
// input or a failed deploy.
//
// The order after the pipeline matters when the job is cancelled: outputs,
// the job summary and the ::error:: are written first, then GitHub is told
// (comment, GitHub Deployment), within reportGrace of the cancellation.
func Run(ctx context.Context, env Env) int {
	if env.Now == nil {
		env.Now = time.Now
		if env.Clock != nil {
			env.Now = env.Clock.Now
		}
	}
	inActions := env.Getenv("GITHUB_ACTIONS") == "true"
	src, srcErr := inputs.NewSource(env.Args, env.Getenv)
	// Every line goes through con: workflow commands inside Actions, plain
	// lines elsewhere; untrusted values cannot start a command. Outside
	// Actions, --json gives stdout to the run record (record.go).
	out := recordOut{files: runnerFiles{output: env.Getenv("GITHUB_OUTPUT"), summary: env.Getenv("GITHUB_STEP_SUMMARY")}}
	var con *console.Console
	if !inActions && wantJSON(src, env.Args) {
		con = console.NewQuiet(stderrOf(env), env.Getenv("RUNNER_DEBUG") == "1")
		out.stdout = env.Stdout
	} else {
		con = console.New(env.Stdout, inActions, env.Getenv("RUNNER_DEBUG") == "1")
	}
	out.con = con
	// GitHub reporting outlives the run's context by reportGrace at most.
	reportCtx, stopReport := reportingContext(ctx, reportGrace)
	defer stopReport()
	if errors.Is(srcErr, inputs.ErrHelp) {
		con.Text(usage())
		return exitcode.Success
	}
	if srcErr != nil {
		con.Errorf("%s", srcErr)
		out.write(nil, report.RecordDetails{Err: srcErr}, nil)
		return exitcode.Failure
	}
	// The values of the variables that `secrets` names: masked below, and
	// redacted (in every escaped form) from everything the action writes.
	secretValues := inputs.SecretValues(src)
	credentials := []string{strings.TrimSpace(lookup(src, "api-token")), strings.TrimSpace(src.Env("CLOUDFLARE_API_TOKEN")), strings.TrimSpace(lookup(src, "github-token"))}
	// fail ends a run that failed before the pipeline: the ::error:: and the
	// run record with the error (and nothing else).
	fail := func(err error) int {
		red := redact.New(append(slices.Clone(credentials), secretValues...)...)
		con.Errorf("%s", red.Redact(report.Advice(err)))
		out.write(nil, report.RecordDetails{Err: err}, red)
		return exitcode.Failure
	}
	// Mask every credential before anything else is printed. Outside Actions
	// nothing reads ::add-mask::, and printing it would show the secret.
	if inActions {
		for _, v := range append(slices.Clone(credentials), secretValues...) {
			if strings.TrimSpace(v) == "" {
				continue
			}
			con.AddMask(v)
			for _, form := range redact.Forms(v) {
				if form != v && len(form) >= redact.MinLen {
					con.AddMask(form)
				}
			}
		}
	}
	ev, err := ghevent.Load(env.Getenv, env.ReadFile)
	if err != nil {
		return fail(err)
	}
	workspace := ev.Workspace
	if workspace == "" || !ev.InActions {
		if workspace, err = env.Getwd(); err != nil {
			return fail(fmt.Errorf("failed to find the current directory: %w", err))
		}
	}
	cfg, err := inputs.Load(src, inputs.LoadOptions{Workspace: workspace, Now: env.Now})
	if err != nil {
		return fail(err)
	}

	var api pipeline.API
	var client *cloudflare.Client
	if cfg.Local {
		baseURL, _, stop, err := emulator.Start("127.0.0.1:0", emulator.Options{})
		if err != nil {
			return fail(fmt.Errorf("failed to start the embedded emulator for `api-url: local`: %w", err))
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
		opts := []cloudflare.Option{cloudflare.WithLogger(con.Debugf), cloudflare.WithUserAgent("workers-deploy/" + Version),
			cloudflare.WithHTTPClient(env.HTTPClient)}
		if env.Clock != nil {
			opts = append(opts, cloudflare.WithNow(env.Clock.Now), cloudflare.WithSleep(sleepOn(env.Clock)))
		}
		client, err = cloudflare.New(cfg.APIURL, cfg.APIToken, cfg.AccountID, opts...)
		if err != nil {
			return fail(&inputs.Error{Input: "api-url", Err: err})
		}
		api = client
	}

	red := redactor(cfg, credentials, secretValues)
	obs := githubObserver(ctx, con, cfg, ev, red)
	obs.clientOpts = githubOptions(env)
	res, runErr := pipeline.Run(ctx, cfg, ev, pipeline.Deps{API: api, Log: con, Now: env.Now, Observer: obs,
		Clock: env.Clock, HTTPClient: env.HTTPClient})
	if client != nil && res != nil {
		res.Requests = client.Requests()
	}
	// The failure is redacted like everything the action writes: an API error
	// could echo a secret value, escaped or encoded.
	failure := ""
	if runErr != nil {
		failure = red.Redact(report.Advice(runErr))
	}
	// What the job needs comes first: outputs, summary and the ::error::
	// survive a runner that kills the step while GitHub is slow.
	files := out.files
	writeResults(con, files, res, ev, failure, red)
	if runErr != nil {
		con.Errorf("%s", failure)
	}
	if res != nil && !cfg.DryRun && res.Skipped == "" && !badInputBeforeWrite(res, runErr) {
		reportGitHub(reportCtx, obs, res, runErr, failure)
	} else if closedNoteWanted(cfg, ev, res, runErr) {
		obs.closeComment(reportCtx, res)
	}
	if res != nil {
		writeCommentURL(con, files, res) // every output is always set, "" when there is no comment
	}
	// The run record comes last: it holds the comment's URL and every
	// warning, GitHub's included.
	out.write(res, report.RecordDetails{Promote: cfg.Rollout.Promote(), RunURL: ev.RunURL(), Err: runErr}, red)
	if runErr != nil {
		return exitcode.Failure
	}
	return exitcode.Success
}

// sleepOn waits for d on clock, or until ctx ends: the retries' wait on a
// clock that may be a test's.
func sleepOn(clock rollout.Clock) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil || d <= 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-clock.After(d):
			return nil
		}
	}
}

// githubOptions are the GitHub client's options that come from env.
func githubOptions(env Env) []github.Option {
	var opts []github.Option
	if env.HTTPClient != nil {
		opts = append(opts, github.WithHTTPClient(env.HTTPClient))
	}
	if env.Clock != nil {
		opts = append(opts, github.WithSleep(sleepOn(env.Clock)))
	}
	return opts
}

// redactor redacts the credentials and secret values; with `api-url: local`
// the API token "local" is not a secret.
func redactor(cfg *inputs.Config, credentials, secretValues []string) *redact.Redactor {
	secrets := append(slices.Clone(credentials), cfg.APIToken, cfg.GitHub.Token)
	if cfg.Local {
		secrets = slices.DeleteFunc(secrets, func(s string) bool { return s == "local" })
	}
	return redact.New(append(secrets, secretValues...)...)
}

// reportGrace is how long GitHub reporting may go on after the run was
// cancelled (SIGINT, SIGTERM): the runner kills the step a few seconds after
// its signal.
const reportGrace = 5 * time.Second

// reportingContext is ctx without its cancellation, ended grace after ctx
// is. It is made when the run starts, so that the grace counts from the
// signal, not from when reporting begins.
func reportingContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var mu sync.Mutex
	var timer *time.Timer
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(grace, cancel)
	})
	return rctx, func() {
		stop()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

// badInputBeforeWrite reports a run that failed on bad input before it
// created or reused a version: bad input is a clear error naming the input,
// before any write, and that holds for GitHub too, so no sticky comment or
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

// runnerFiles are the runner's file commands ("" outside Actions).
type runnerFiles struct{ output, summary string }

// writeResults writes outputs (all but comment-url, which reporting to GitHub
// sets) and the summary: to the runner's files inside Actions, as plain lines
// elsewhere. failure is the redacted advice of a failed run ("" on success),
// shown last in the summary. Values from API answers are redacted too. A
// failure to write them is a warning.
func writeResults(con *console.Console, files runnerFiles, res *pipeline.Result, ev *ghevent.Context, failure string, red *redact.Redactor) {
	if res == nil {
		return
	}
	if files.output == "" {
		con.Infof("Outputs:")
	}
	var outs []console.Output
	for _, o := range report.Outputs(res) {
		if o.Name != "comment-url" {
			outs = append(outs, console.Output{Name: o.Name, Value: red.Redact(o.Value)})
		}
	}
	writeOutputs(con, files, outs)
	if files.summary != "" {
		md := red.Redact(report.Render(res, report.Details{RunURL: ev.RunURL(), Failure: failure}))
		if err := console.AppendSummary(files.summary, md); err != nil {
			con.Warningf("failed to write the job summary: %s", err)
		}
	}
}

// writeCommentURL writes the comment-url output once reporting is done.
func writeCommentURL(con *console.Console, files runnerFiles, res *pipeline.Result) {
	writeOutputs(con, files, []console.Output{{Name: "comment-url", Value: res.CommentURL}})
}

func writeOutputs(con *console.Console, files runnerFiles, outs []console.Output) {
	if files.output == "" {
		for _, o := range outs {
			con.Infof("  %s=%s", o.Name, o.Value)
		}
		return
	}
	if err := console.WriteOutputs(files.output, outs); err != nil {
		con.Warningf("failed to write the step outputs: %s", err)
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
