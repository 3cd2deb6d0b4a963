package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/config"
	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/redact"
	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/migrations"
)

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	noMigrate := fs.Bool("no-migrate", false, "do not apply pending migrations at start (fail if any are pending)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := e.config()
	if err != nil {
		return err
	}
	if err := c.RequireServe(); err != nil {
		return err
	}
	log := e.logger(c)
	return serve(ctx, c, log, !*noMigrate)
}

// serve connects (waiting for PostgreSQL as long as it takes), migrates and
// runs every component until ctx is done. The HTTP listener, if any, answers
// from the start: /healthz as soon as the process is up, /readyz once the
// database and the mailboxes work.
func serve(ctx context.Context, c *config.Config, log *slog.Logger, migrate bool) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := &readiness{redact: redact.New(c.Secrets()...)}
	if c.HTTPAddr != "" {
		l, err := net.Listen("tcp", c.HTTPAddr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", c.HTTPAddr, err)
		}
		httpErr := make(chan error, 1)
		go func() {
			err := serveHTTP(ctx, l, withAttachments(httpHandler(ready), c, ready, log), log)
			if err != nil {
				log.Error("HTTP listener failed; shutting down", "err", err)
				cancel()
			}
			httpErr <- err
		}()
		defer func() {
			cancel()
			if herr := <-httpErr; herr != nil && err == nil {
				err = fmt.Errorf("http: %w", herr)
			}
		}()
	}

	var components []component
	if c.PprofAddr != "" {
		p, err := listenPprof(c.PprofAddr, log)
		if err != nil {
			return err
		}
		defer p.Close() // in case serve returns before running it
		components = append(components, component{"pprof", p.Run})
	}

	s, err := openDatabase(ctx, c.DatabaseURL, poolConfig(c), log, ready)
	if s == nil || err != nil {
		return err // nil: stopped while waiting
	}
	defer s.Close()
	if migrate {
		applied, err := migrations.Up(ctx, s.DB().DB)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			log.Info("applied migrations", "versions", applied)
		}
	} else {
		cur, latest, err := migrations.Status(ctx, s.DB().DB)
		if err != nil {
			return err
		}
		if cur != latest {
			return fmt.Errorf("schema is at version %d, this binary needs %d: run `helpdeskd migrate` (or serve without --no-migrate)", cur, latest)
		}
	}

	cs, _, err := mailComponents(c, s, log, ready)
	if err != nil {
		return err
	}
	components = append(components, cs...)
	log.Info("helpdeskd started", "support_address", c.SupportAddress, "mailboxes", len(c.Mailboxes), "components", len(components))
	err = superviseDrain(ctx, log, components, c.ShutdownTimeout)
	log.Info("helpdeskd stopped")
	return err
}

// poolConfig is the database pool the configuration asks for.
func poolConfig(c *config.Config) helpdesk.PoolConfig {
	return helpdesk.PoolConfig{
		MaxConns: c.DatabaseMaxConns, MaxIdleConns: c.DatabaseMaxIdleConns,
		ConnMaxIdleTime: c.DatabaseConnMaxIdleTime, ConnMaxLifetime: c.DatabaseConnMaxLifetime,
		StatementTimeout: c.DatabaseStatementTimeout, IdleTxTimeout: c.DatabaseIdleTxTimeout,
	}
}

// component is a long-running part of the daemon. Run returns nil when ctx
// is cancelled and an error only when it cannot go on.
type component struct {
	name string
	run  func(ctx context.Context) error
}

// supervise runs components until ctx is done or one fails; a failure stops
// the others. It returns after every component has returned.
func supervise(ctx context.Context, log *slog.Logger, cs []component) error {
	return superviseDrain(ctx, log, cs, 0)
}

// drainGrace is added to the drain time before components are abandoned:
// a poller closes its connection at the drain time, then returns.
const drainGrace = 2 * time.Second

// superviseDrain is supervise with a bound on the shutdown: once ctx is done
// (or a component failed), the others get drain (0: as long as they take)
// to finish the mail in hand; after that it returns without them, logging
// which did not stop.
func superviseDrain(ctx context.Context, log *slog.Logger, cs []component, drain time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		running  []string // names of the components still running
	)
	for _, c := range cs {
		wg.Add(1)
		mu.Lock()
		running = append(running, c.name)
		mu.Unlock()
		go func() {
			defer wg.Done()
			err := c.run(ctx)
			mu.Lock()
			running = slices.DeleteFunc(running, func(n string) bool { return n == c.name })
			mu.Unlock()
			if err != nil && ctx.Err() == nil {
				log.Error("component failed; shutting down", "component", c.name, "err", err)
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", c.name, err)
				}
				mu.Unlock()
			}
			cancel()
		}()
	}
	<-ctx.Done()
	stopped := make(chan struct{})
	go func() {
		wg.Wait()
		close(stopped)
	}()
	if drain <= 0 {
		<-stopped
	} else {
		log.Info("shutting down", "drain", drain)
		t := time.NewTimer(drain + drainGrace)
		defer t.Stop()
		select {
		case <-stopped:
		case <-t.C:
			mu.Lock()
			left := append([]string(nil), running...)
			mu.Unlock()
			log.Error("components did not stop within the shutdown timeout; exiting without them", "timeout", drain, "components", left)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return firstErr
}
