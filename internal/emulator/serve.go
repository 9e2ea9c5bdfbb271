package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// shutdownGrace bounds how long Serve waits for in-flight requests after ctx is done.
const shutdownGrace = 5 * time.Second

// BaseURL returns the API base URL for a listener address, "http://host:port/client/v4".
// An unspecified host (0.0.0.0 or ::, which Go listens on dual-stack) becomes 127.0.0.1,
// which clients can dial.
func BaseURL(addr net.Addr) string {
	host := addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok {
		ip := tcp.IP
		if ip == nil || ip.IsUnspecified() {
			ip = net.IPv4(127, 0, 0, 1)
		}
		host = net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
	}
	return "http://" + host + BasePath
}

// Serve serves s on ln until ctx is done, then shuts down gracefully (in-flight requests get
// up to 5 seconds) and returns nil. It closes ln. Requests see a context that is cancelled
// with ctx, so injected latency ends at shutdown.
func Serve(ctx context.Context, ln net.Listener, s *Server) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("failed to serve the emulator on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		_ = hs.Close()
		return fmt.Errorf("failed to shut down the emulator on %s: %w", ln.Addr(), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("failed to serve the emulator on %s: %w", ln.Addr(), err)
	}
	return nil
}

// Start creates a Server with opts and serves it on addr (e.g. "127.0.0.1:0" for a free
// port) in the background. It returns the API base URL ("http://127.0.0.1:PORT/client/v4"),
// the Server for fault injection and inspection, and stop, which shuts the server down and
// waits for it within stop's context. stop may be called more than once.
func Start(addr string, opts Options) (baseURL string, srv *Server, stop func(context.Context) error, err error) {
	srv, err = New(opts)
	if err != nil {
		return "", nil, nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, nil, fmt.Errorf("failed to listen on %q: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, srv) }()

	var (
		once    sync.Once
		result  error
		waited  = make(chan struct{})
		resultM sync.Mutex
	)
	stop = func(stopCtx context.Context) error {
		cancel()
		once.Do(func() {
			go func() {
				err := <-done
				resultM.Lock()
				result = err
				resultM.Unlock()
				close(waited)
			}()
		})
		select {
		case <-waited:
			resultM.Lock()
			defer resultM.Unlock()
			return result
		case <-stopCtx.Done():
			return fmt.Errorf("failed to stop the emulator on %s: %w", ln.Addr(), stopCtx.Err())
		}
	}
	return BaseURL(ln.Addr()), srv, stop, nil
}
