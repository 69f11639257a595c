package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// What one connection costs is bounded (a header of maxHeaderBytes, a
// body of MaxBodyBytes, an answer or event of a page), and so is their
// number, so that no stream of requests can make the node's memory grow
// without bound. 64 is far more than a few tabs of the page need: a
// browser opens at most six connections to a host.
const (
	maxConns       = 64
	maxHeaderBytes = 16 << 10
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
	ln = limitListener(ln, maxConns)
	srv := &http.Server{
		Handler:           NewHandler(node, Options{Addr: s.addr, Logger: logger, Metrics: opts.Metrics}),
		ReadHeaderTimeout: 10 * time.Second,
		// Idle connections hold places under maxConns, which others may
		// be waiting for.
		IdleTimeout:    30 * time.Second,
		MaxHeaderBytes: maxHeaderBytes,
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

// limitListener lets at most n connections be open at once. Accept waits
// for one to end before taking the next, which meanwhile waits in the
// kernel's queue at no cost to this process: closing it instead would turn
// a burst of the page's own requests into errors.
func limitListener(ln net.Listener, n int) net.Listener {
	return &limitedListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

type limitedListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *limitedListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		// The server is shutting down, and would wait on a full Accept
		// forever otherwise.
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitedListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitedConn gives its place back once, however often it is closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
