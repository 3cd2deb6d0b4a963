package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/config"
	"github.com/helpdesk/helpdesk/helpdesk"
)

// command is one entry of the CLI: a group (Children) or a leaf (Run, or
// Own). Usage, help and dispatch are all generated from the tree.
type command struct {
	Name  string
	Args  string // positionals in the synopsis; Run gets exactly that many ("...": any number)
	Usage string // one line, in the parent's list
	Help  string // longer, for `helpdeskd help NAME`
	JSON  bool   // takes --json: Run prints through inv.print
	// Flags binds the command's flags; the values are read by Run, which
	// is built in the same constructor.
	Flags    func(fs *flag.FlagSet)
	Run      func(ctx context.Context, inv *invocation) error
	Children []*command
	// Own runs a command that parses its own flags with parseFlags before
	// anything else (serve, dev); its flags are found by asking it --help.
	Own func(ctx context.Context, e *env, args []string) error
}

func (c *command) child(name string) *command {
	for _, ch := range c.Children {
		if ch.Name == name {
			return ch
		}
	}
	return nil
}

// nargs is the number of positionals Run takes; -1 for any number.
func (c *command) nargs() int {
	if strings.Contains(c.Args, "...") {
		return -1
	}
	return len(strings.Fields(c.Args))
}

// flagSet is c's flags, --json included, without output of its own. Each
// call binds c's variables anew (to their defaults): one call per run, more
// only to print help.
func (c *command) flagSet(path string) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if c.Flags != nil {
		c.Flags(fs)
	}
	if c.JSON {
		fs.Bool("json", false, "print JSON")
	}
	return fs
}

// helpRequested is -h or --help: the command's help on stdout, exit 0.
type helpRequested struct{ fs *flag.FlagSet }

func (helpRequested) Error() string { return "help requested" }

// unknownCommand is a name no command of parent has: exit 2 with the
// parent's usage.
type unknownCommand struct {
	parent *command
	path   string
	name   string
}

func (u unknownCommand) Error() string {
	if u.name == "" {
		return "missing command"
	}
	return fmt.Sprintf("unknown command %q", u.name)
}

// invocation is one run of a leaf command: its positionals, --json, and
// what it opened (closed when Run returns).
type invocation struct {
	*env
	args   []string
	asJSON bool
	cfg    *config.Config
	store  *helpdesk.Store
}

// print writes v as JSON with --json, else text.
func (inv *invocation) print(v any, text func(w io.Writer) error) error {
	if inv.asJSON {
		return writeJSON(inv.stdout, v)
	}
	return text(inv.stdout)
}

// config loads the configuration once per invocation.
func (inv *invocation) config() (*config.Config, error) {
	if inv.cfg != nil {
		return inv.cfg, nil
	}
	c, err := inv.env.config()
	if err != nil {
		return nil, err
	}
	inv.cfg = c
	return c, nil
}

// openStore opens the store once per invocation, checking the schema.
func (inv *invocation) openStore(ctx context.Context) (*helpdesk.Store, error) {
	if inv.store != nil {
		return inv.store, nil
	}
	c, err := inv.config()
	if err != nil {
		return nil, err
	}
	s, err := connect(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := checkSchema(ctx, s); err != nil {
		s.Close()
		return nil, err
	}
	inv.store = s
	return s, nil
}

func (inv *invocation) close() {
	if inv.store != nil {
		inv.store.Close()
	}
}

// execute resolves args in the tree under root, runs the command found and
// maps its outcome to an exit status: 0, 1 for bad input or a failure, 2 for
// a mistake in the command line.
func execute(ctx context.Context, e *env, root *command, args []string) int {
	c, path, rest, err := resolve(root, args)
	if err == nil {
		err = runLeaf(ctx, e, c, path, rest)
	}
	var (
		help    helpRequested
		unknown unknownCommand
		ue      usageError
	)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &help):
		writeHelp(e.stdout, help.fs, c, path)
		return 0
	case errors.As(err, &unknown) && unknown.name == "" && unknown.parent == root:
		// Bare `helpdeskd` has always printed its usage on stdout.
		writeHelp(e.stdout, unknown.parent.flagSet(unknown.path), unknown.parent, unknown.path)
		return 2
	case errors.As(err, &unknown):
		fmt.Fprintf(e.stderr, "%s: %v\n\n", unknown.path, err)
		writeHelp(e.stderr, unknown.parent.flagSet(unknown.path), unknown.parent, unknown.path)
		return 2
	case errors.As(err, &ue) && len(c.Children) > 0:
		fmt.Fprintf(e.stderr, "%s: %v\n\n", path, err)
		writeHelp(e.stderr, c.flagSet(path), c, path)
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "%s: %v\nusage: %s\n", path, err, synopsis(flagsOf(ctx, e, c, path), c, path))
		return 2
	default:
		fmt.Fprintf(e.stderr, "%s: %s\n", path, strings.ReplaceAll(e.redact.String(err.Error()), "\n", "\n  "))
		return 1
	}
}

// resolve walks the groups named by args (each group parsing its own flags,
// up to its subcommand's name) down to a leaf: the leaf, its path
// ("helpdeskd cases list") and the arguments left for it.
func resolve(root *command, args []string) (c *command, path string, rest []string, err error) {
	c, path = root, root.Name
	for len(c.Children) > 0 {
		fs := c.flagSet(path)
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return c, path, nil, helpRequested{fs}
			}
			return c, path, nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return c, path, nil, unknownCommand{parent: c, path: path}
		}
		next := c.child(args[0])
		if next == nil {
			return c, path, nil, unknownCommand{parent: c, path: path, name: args[0]}
		}
		c, path, args = next, path+" "+next.Name, args[1:]
	}
	return c, path, args, nil
}

// runLeaf parses c's flags and positionals and runs it.
func runLeaf(ctx context.Context, e *env, c *command, path string, args []string) error {
	if c.Own != nil {
		return c.Own(ctx, e, args)
	}
	fs := c.flagSet(path)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if n := c.nargs(); n >= 0 && len(pos) != n {
		if n == 0 {
			return usagef("unexpected arguments %q", pos)
		}
		return usagef("want %s, got %d argument(s)", c.Args, len(pos))
	}
	inv := &invocation{env: e, args: pos}
	if f := fs.Lookup("json"); f != nil {
		inv.asJSON = f.Value.String() == "true"
	}
	defer inv.close()
	return c.Run(ctx, inv)
}

// flagsOf is c's flag set; a command with its own flag parsing is asked for
// it with --help (it parses flags before doing anything).
func flagsOf(ctx context.Context, e *env, c *command, path string) *flag.FlagSet {
	if c.Own == nil {
		return c.flagSet(path)
	}
	probe := &env{stdout: io.Discard, stderr: io.Discard, getenv: e.getenv, configPath: e.configPath}
	var help helpRequested
	if err := c.Own(ctx, probe, []string{"--help"}); errors.As(err, &help) {
		return help.fs
	}
	return flag.NewFlagSet(path, flag.ContinueOnError)
}

// synopsis is c's usage line: path, flags, then COMMAND or positionals.
func synopsis(fs *flag.FlagSet, c *command, path string) string {
	parts := []string{path}
	fs.VisitAll(func(f *flag.Flag) {
		arg, _ := flagArg(f)
		p := "[--" + f.Name + "]"
		if arg != "" {
			p = "[--" + f.Name + " " + arg + "]"
		}
		if _, many := f.Value.(*listFlag); many {
			p += "..."
		}
		parts = append(parts, p)
	})
	switch {
	case len(c.Children) > 0:
		parts = append(parts, "COMMAND [ARGS]")
	case c.Args != "":
		// Positionals first, as the README writes them.
		parts = append([]string{path, c.Args}, parts[1:]...)
	}
	return strings.Join(parts, " ")
}

// flagArg is the placeholder for f's value ("" for a bool: the word in
// backquotes in its usage, else its name in capitals) and its usage text
// without the backquotes.
func flagArg(f *flag.Flag) (arg, usage string) {
	arg, usage = flag.UnquoteUsage(f)
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return "", usage
	}
	if !strings.Contains(f.Usage, "`") {
		arg = f.Name
	}
	return strings.ToUpper(arg), usage
}

// writeHelp prints c's usage: synopsis, help, subcommands and flags.
func writeHelp(w io.Writer, fs *flag.FlagSet, c *command, path string) {
	fmt.Fprintf(w, "%s: %s\n\nUsage: %s\n", path, c.Usage, synopsis(fs, c, path))
	if c.Help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(c.Help, "\n"))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(c.Children) > 0 {
		fmt.Fprintf(tw, "\nCommands:\n")
		for _, ch := range c.Children {
			fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(ch.Name+" "+ch.Args), summary(ch))
		}
	}
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprintf(tw, "\nFlags:\n")
			first = false
		}
		arg, usage := flagArg(f)
		if d := f.DefValue; d != "" && d != "false" && d != "0" {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace("--"+f.Name+" "+arg), usage)
	})
	tw.Flush()
	if len(c.Children) > 0 {
		fmt.Fprintf(w, "\nRun `%s COMMAND --help` (or `helpdeskd help ...`) for a command's flags.\n", path)
	}
}

// summary is c's line in its parent's list; a group lists its subcommands.
func summary(c *command) string {
	if len(c.Children) == 0 {
		return c.Usage
	}
	names := make([]string, len(c.Children))
	for i, ch := range c.Children {
		names[i] = ch.Name
	}
	return c.Usage + ": " + strings.Join(names, " | ")
}

// helpCommand prints the usage of the command its arguments name.
func helpCommand(root *command) *command {
	return &command{
		Name: "help", Args: "[COMMAND...]", Usage: "print a command's usage and flags",
		Run: func(ctx context.Context, inv *invocation) error {
			c, path := root, root.Name
			for _, name := range inv.args {
				next := c.child(name)
				if next == nil {
					return unknownCommand{parent: c, path: path, name: name}
				}
				c, path = next, path+" "+name
			}
			writeHelp(inv.stdout, flagsOf(ctx, inv.env, c, path), c, path)
			return nil
		},
	}
}

// domain builds the ingester and the lifecycle on the store once require
// has checked the configuration: commands that change cases notify exactly
// as the daemon would.
func (inv *invocation) domain(ctx context.Context, require func(*config.Config) error) (*helpdesk.Ingester, *helpdesk.Lifecycle, *slog.Logger, error) {
	c, err := inv.config()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := require(c); err != nil {
		return nil, nil, nil, err
	}
	s, err := inv.openStore(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	log := inv.logger(c)
	g, lc, err := newDomain(c, s, log)
	if err != nil {
		return nil, nil, nil, err
	}
	return g, lc, log, nil
}
