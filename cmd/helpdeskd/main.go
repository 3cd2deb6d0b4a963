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

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// env is everything a command needs from the process.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader // nil: os.Stdin
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
	return execute(ctx, e, commands(e), args)
}

// commands is the CLI: usage, help and dispatch are generated from it.
func commands(e *env) *command {
	root := &command{
		Name:  "helpdeskd",
		Usage: "an email-driven helpdesk",
		Help: `Configuration comes from HELPDESK_* environment variables and the optional
TOML file; see README.md. Commands that list or show things take --json.`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&e.configPath, "config", e.configPath, "TOML configuration `FILE`")
		},
		Children: []*command{
			{Name: "serve", Usage: "run the daemon (migrates the database first unless --no-migrate)", Own: cmdServe},
			{Name: "dev", Usage: "run a local sandbox with its own PostgreSQL and demo data", Own: cmdDev},
			migrateCommand(),
			configCommand(),
			{Name: "orgs", Usage: "manage orgs", Children: []*command{orgsAddCommand(), orgsListCommand(), orgsSetCommand()}},
			{Name: "users", Usage: "manage users", Children: []*command{usersAddCommand(), usersListCommand(), usersSetCommand(), usersAddressesCommand()}},
			{Name: "grants", Usage: "let resellers act on customer orgs' cases", Children: []*command{
				grantCommand("add"), grantCommand("revoke"), grantsListCommand()}},
			{Name: "cases", Usage: "list, show and change cases", Children: []*command{
				casesListCommand(), casesShowCommand(), casesSetCommand(), casesMergeCommand(), casesEscalateCommand(), casesCommentCommand(), casesOpenCommand()}},
			tickCommand(),
			parseCommand(),
			reprocessCommand(),
			whyCommand(),
			reportCommand(),
			suppressionsCommand(),
			heldCommand(),
			attachmentsCommand(),
			knownIssuesCommand(),
			{Name: "version", Usage: "print the version, module and VCS revision",
				Run: func(_ context.Context, inv *invocation) error { return cmdVersion(inv.stdout) }},
		},
	}
	root.Children = append(root.Children, helpCommand(root))
	return root
}

// parseFlags parses flags that may come before, between or after positional
// arguments ("orgs add NAME --domain D"), returning the positionals.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, helpRequested{fs}
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
