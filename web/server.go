package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// Server is a running page: an HTTP server on its own listener.
type Server struct {
	addr string
	done chan struct{}
}

// Start listens on addr ("ip:port"; port 0 picks a free one) and serves
// node's page and API until ctx is cancelled; opts.Addr is set to the
// address it listens on. It returns an error only when
// it cannot listen, for example because the port is taken; the node can go
// on without a page.
func Start(ctx context.Context, addr string, node Node, opts Options) (*Server, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("web page address %q: %w", addr, err)
	}
	ln, err := net.Listen("tcp", ap.String())
	if err != nil {
		return nil, fmt.Errorf("web page: %w", err)
	}
	s := &Server{addr: ln.Addr().String(), done: make(chan struct{})}
	srv := &http.Server{
		Handler:           NewHandler(node, Options{Addr: s.addr, Logger: logger, Metrics: opts.Metrics}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// Every request's context ends with ctx, which is what ends the
		// event streams: Shutdown waits for them but does not stop them.
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	if !ap.Addr().IsLoopback() {
		logger.Warn("web page is reachable from other machines, with no password", "addr", s.addr)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("web page stopped", "err", err)
		}
	}()
	go func() {
		defer close(s.done)
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		<-served
	}()
	logger.Info("web page", "url", s.URL())
	return s, nil
}

// Addr is the address the page listens on.
func (s *Server) Addr() string { return s.addr }

// URL is where a browser opens the page.
func (s *Server) URL() string { return "http://" + s.addr }

// Done is closed once the server has stopped and its requests have ended,
// after the context given to Start is cancelled.
func (s *Server) Done() <-chan struct{} { return s.done }
