// Command workers-deploy is the GitHub Action: it ships a Cloudflare Worker as
// one immutable version per commit and optionally deploys it. Outside Actions
// every input is a flag of the same name (see --help).
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/workers-deploy/workers-deploy/internal/app"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
)

// version is set with -ldflags "-X main.version=…" by release builds.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// A closed stdout (the log reader gone) must not kill the process in the
	// middle of a rollout: with SIGPIPE ignored, writes fail with EPIPE, the
	// console drops the log, and the run finishes or rolls back.
	signal.Ignore(syscall.SIGPIPE)
	app.Version = buildVersion()
	code := app.Run(ctx, app.Env{
		Args:     os.Args[1:],
		Getenv:   os.Getenv,
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		ReadFile: ghevent.ReadPayload,
		Getwd:    os.Getwd,
	})
	stop()
	os.Exit(code)
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
