package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRealMain_flagErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "failed to parse flags: flag provided but not defined: -nope (run with -h for usage)"},
		{name: "bad fault", args: []string{"-fault", "GET /** status=200"}, wantErr: `failed to parse flags: invalid value "GET /** status=200" for flag -fault: failed to parse fault "GET /** status=200": invalid status "200": want 400 to 599 (run with -h for usage)`},
		{name: "extra argument", args: []string{"serve"}, wantErr: `failed to parse flags: unexpected argument "serve" (run with -h for usage)`},
		{name: "bad account", args: []string{"-account", "xyz", "-addr", "127.0.0.1:0"}, wantErr: `failed to create emulator: account ID "xyz" is not 32 hexadecimal characters`},
		{name: "bad subdomain", args: []string{"-subdomain", "Not OK", "-addr", "127.0.0.1:0"}, wantErr: `failed to create emulator: subdomain "Not OK" is not a DNS label (lowercase letters, digits and inner dashes, at most 63 characters)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := realMain(context.Background(), tc.args, io.Discard)
			assert.EqualError(t, err, tc.wantErr)
		})
	}
}

func TestRealMain_help(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	require.NoError(t, realMain(context.Background(), []string{"-h"}, &out))
	assert.Contains(t, out.String(), "-fault")
	assert.Contains(t, out.String(), "-latency")
}

func TestRealMain_serves(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- realMain(ctx, []string{
			"-addr", "127.0.0.1:0", "-token", "T", "-subdomain", "",
			"-fault", "GET /accounts/*/workers/workers status=429 retry-after=2 times=1",
		}, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	base := strings.TrimSpace(line)
	require.Regexp(t, `^http://127\.0\.0\.1:\d+/client/v4$`, base)
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	get := func(path string) *http.Response {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer T")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	acct := "/accounts/0123456789abcdef0123456789abcdef"
	resp := get(acct + "/workers/workers")
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "2", resp.Header.Get("Retry-After"))
	assert.Equal(t, http.StatusOK, get(acct+"/workers/workers").StatusCode)
	assert.Equal(t, http.StatusNotFound, get(acct+"/workers/subdomain").StatusCode, "-subdomain '' means no subdomain")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("realMain did not return after cancellation")
	}
}
