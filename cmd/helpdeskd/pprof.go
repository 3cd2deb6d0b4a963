package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofServer serves Go's profiles (/debug/pprof/) on a listener of its own,
// with its own mux: never on the health listener, never DefaultServeMux.
// The configuration admits only a loopback address.
type pprofServer struct {
	l   net.Listener
	log *slog.Logger
}

// listenPprof binds addr, so that a port in use fails the start at once.
func listenPprof(addr string, log *slog.Logger) (*pprofServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof: listen on %s: %w", addr, err)
	}
	return &pprofServer{l: l, log: log}, nil
}

func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves heap, goroutine, allocs, block, mutex, threadcreate
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Run serves until ctx is done. A CPU profile or trace in progress is cut
// short at shutdown.
func (p *pprofServer) Run(ctx context.Context) error {
	srv := &http.Server{Handler: pprofMux(), ReadHeaderTimeout: 5 * time.Second}
	p.log.Info("pprof listener", "addr", p.l.Addr().String())
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	})
	defer stop()
	if err := srv.Serve(p.l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close releases the listener of a server that was never run.
func (p *pprofServer) Close() error { return p.l.Close() }
