package emulator

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStart(t *testing.T) {
	t.Parallel()
	baseURL, srv, stop, err := Start("127.0.0.1:0", Options{Token: testToken})
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*/client/v4$`), baseURL)

	req, err := http.NewRequest(http.MethodPost, baseURL+acctPath+"/workers/workers", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Body = http.NoBody
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "empty body is malformed")
	assert.Len(t, srv.Requests(), 1)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, stop(ctx))
	require.NoError(t, stop(ctx), "stop is idempotent")
	_, err = http.Get(baseURL + acctPath + "/workers/workers")
	require.Error(t, err, "the listener is closed")
}

func TestStart_errors(t *testing.T) {
	t.Parallel()
	_, _, _, err := Start("127.0.0.1:0", Options{AccountID: "nope"})
	require.EqualError(t, err, `failed to create emulator: account ID "nope" is not 32 hexadecimal characters`)
	_, _, _, err = Start("256.0.0.1:0", Options{})
	require.ErrorContains(t, err, `failed to listen on "256.0.0.1:0": `)
}

func TestServe_shutdownEndsLatency(t *testing.T) {
	t.Parallel()
	srv, err := New(Options{})
	require.NoError(t, err)
	srv.InjectFault(Fault{Path: "/**", Kind: FaultLatency, Latency: time.Hour})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, srv) }()

	reqDone := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, BaseURL(ln.Addr())+acctPath+"/workers/workers", nil)
		req.Header.Set("Authorization", "Bearer x")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		reqDone <- err
	}()
	require.Eventually(t, func() bool { return len(srv.Requests()) == 1 }, 5*time.Second, 5*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after ctx was cancelled")
	}
	<-reqDone
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		addr net.Addr
		want string
	}{
		{name: "loopback", addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8787}, want: "http://127.0.0.1:8787/client/v4"},
		{name: "unspecified v4", addr: &net.TCPAddr{IP: net.IPv4zero, Port: 80}, want: "http://127.0.0.1:80/client/v4"},
		{name: "unspecified v6", addr: &net.TCPAddr{IP: net.IPv6unspecified, Port: 1}, want: "http://127.0.0.1:1/client/v4"},
		{name: "v6 loopback", addr: &net.TCPAddr{IP: net.IPv6loopback, Port: 2}, want: "http://[::1]:2/client/v4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, BaseURL(tc.addr))
		})
	}
}
