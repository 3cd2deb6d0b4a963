// Command helpdeskd is the helpdesk daemon and its admin CLI: serve (the
// daemon), dev (a local sandbox), migrate, config, and commands to manage
// orgs, users, grants and cases. It is the only package that wires the others.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/config"
	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/redact"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const usage = `helpdeskd: an email-driven helpdesk

Usage: helpdeskd [--config FILE] COMMAND [ARGS]

Commands:
  serve            run the daemon (migrates the database first unless --no-migrate)
  dev              run a local sandbox with its own PostgreSQL and demo data
  migrate          apply pending database migrations
  config           print the effective configuration, secrets redacted
  orgs             add | list
  users            add | list
  grants           add | revoke | list
  cases            list | show | set | merge | escalate
  tick             run the case timers once (--now TIME for a given time)
  parse FILE.eml   show how a mail is parsed and classified (--json)
  reprocess ID     run a stored inbound message (by Message-ID) through ingest again
  why ID           why an inbound message (by Message-ID) went where it went (--json)
  version          print the version, module and VCS revision

Configuration comes from HELPDESK_* environment variables and the optional
TOML file; see README.md. Commands that list or show things take --json.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// env is everything a command needs from the process.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	configPath     string
	// redact masks connection-string passwords and, once the configuration
	// is loaded, its secrets: in every log line and every error printed.
	redact *redact.Redactor
}

func (e *env) config() (*config.Config, error) {
	c, err := config.Load(e.getenv, e.configPath)
	if err != nil {
		return nil, err
	}
	e.redact = redact.New(c.Secrets()...)
	return c, nil
}

// logger logs at c's level and format; no secret of c, and no password of a
// connection string, ever appears in a line.
func (e *env) logger(c *config.Config) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redact.New(c.Secrets()...).ReplaceAttr}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// usageError is a mistake in the command line: exit status 2 and a hint.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv, configPath: getenv("HELPDESK_CONFIG")}
	fs := flag.NewFlagSet("helpdeskd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&e.configPath, "config", e.configPath, "TOML configuration file")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "helpdeskd: %v\n\n%s", err, usage)
		return 2
	}
	args = fs.Args()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, rest := args[0], args[1:]
	commands := map[string]func(context.Context, *env, []string) error{
		"serve":     cmdServe,
		"dev":       cmdDev,
		"migrate":   cmdMigrate,
		"config":    cmdConfig,
		"orgs":      cmdOrgs,
		"users":     cmdUsers,
		"grants":    cmdGrants,
		"cases":     cmdCases,
		"parse":     cmdParse,
		"reprocess": cmdReprocess,
		"why":       cmdWhy,
		"tick":      cmdTick,
		"version":   func(context.Context, *env, []string) error { return cmdVersion(stdout) },
	}
	f, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "helpdeskd: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	err := f(ctx, e, rest)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "helpdeskd %s: %v (see helpdeskd %s --help)\n", cmd, err, cmd)
		return 2
	default:
		fmt.Fprintf(stderr, "helpdeskd %s: %s\n", cmd, strings.ReplaceAll(e.redact.String(err.Error()), "\n", "\n  "))
		return 1
	}
}

// parseFlags parses flags that may come before, between or after positional
// arguments ("orgs add NAME --domain D"), returning the positionals.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				var b strings.Builder
				fs.SetOutput(&b)
				fs.PrintDefaults()
				return nil, usageError{"usage:\n" + b.String()}
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
