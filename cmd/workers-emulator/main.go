// Command workers-emulator serves an in-memory emulator of the Cloudflare Workers API, for
// testing deploy pipelines offline:
//
//	workers-emulator -addr 127.0.0.1:8787 [-token T] [-account A] [-subdomain S]
//	                 [-fault SPEC]... [-latency D] [-invocations WORKER=VERSION:REQUESTS:ERRORS]...
//
// It prints the API base URL ("http://127.0.0.1:8787/client/v4") and serves until SIGINT or
// SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
	"github.com/workers-deploy/workers-deploy/internal/exitcode"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "workers-emulator: %v\n", err)
		os.Exit(exitcode.Failure)
	}
}

// faultFlags collects repeated -fault flags.
type faultFlags []emulator.Fault

func (f *faultFlags) String() string {
	parts := make([]string, 0, len(*f))
	for _, x := range *f {
		parts = append(parts, x.String())
	}
	return strings.Join(parts, "; ")
}

func (f *faultFlags) Set(spec string) error {
	fault, err := emulator.ParseFault(spec)
	if err != nil {
		return err
	}
	*f = append(*f, fault)
	return nil
}

// invocationFlags collects repeated -invocations flags.
type invocationFlags []string

func (f *invocationFlags) String() string { return strings.Join(*f, "; ") }

func (f *invocationFlags) Set(spec string) error {
	if _, _, _, err := emulator.ParseInvocations(spec); err != nil {
		return err
	}
	*f = append(*f, spec)
	return nil
}

func realMain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("workers-emulator", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:8787", "`host:port` to listen on; port 0 picks a free port")
	token := fs.String("token", "", "accept only this API `token` (Authorization: Bearer); default: any non-empty token")
	account := fs.String("account", "", "serve only this 32-hex account `ID`; default: any 32-hex account")
	subdomain := fs.String("subdomain", emulator.DefaultSubdomain, "the account's workers.dev subdomain `label`; empty: the account has none")
	latency := fs.Duration("latency", 0, "delay every request by this `duration`, e.g. 200ms")
	var faults faultFlags
	var invocations invocationFlags
	fs.Var(&invocations, "invocations", "GraphQL analytics counts, repeatable: \"WORKER=VERSION:REQUESTS:ERRORS\" (VERSION may be * for every version), e.g. \"shop=*:1000:5\"")
	fs.Var(&faults, "fault", "inject a fault, repeatable: \"[METHOD] /path/pattern key=value...\", e.g. \"POST /accounts/*/workers/workers/*/versions status=503 times=2\"; keys: kind (status, drop, lost, latency, late, empty), status, code, times, retry-after, retry-after-ms, should-retry, latency")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintln(stdout, "Usage: workers-emulator [flags]")
			fs.PrintDefaults()
			return nil
		}
		return fmt.Errorf("failed to parse flags: %w (run with -h for usage)", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("failed to parse flags: unexpected argument %q (run with -h for usage)", fs.Arg(0))
	}

	srv, err := emulator.New(emulator.Options{
		Token:       *token,
		AccountID:   *account,
		Subdomain:   *subdomain,
		NoSubdomain: *subdomain == "",
		Latency:     *latency,
		Faults:      faults,
	})
	if err != nil {
		return err
	}
	for _, spec := range invocations {
		script, version, inv, _ := emulator.ParseInvocations(spec) // validated by Set
		srv.SetInvocations(script, version, inv)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("failed to listen on %q: %w", *addr, err)
	}
	fmt.Fprintln(stdout, emulator.BaseURL(ln.Addr()))
	return emulator.Serve(ctx, ln, srv)
}
