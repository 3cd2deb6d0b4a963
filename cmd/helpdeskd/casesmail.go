package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/config"
	"github.com/helpdesk/helpdesk/helpdesk"
)

// `cases comment` and `cases open` write a mail and run it through ingest
// (helpdesk/localmail.go): the comment or the new case is decided, relayed
// and acknowledged exactly as the same mail from the agent or the customer.

func casesCommentCommand() *command {
	var (
		as       string
		internal bool
		attach   listFlag
	)
	return &command{
		Name: "comment", Args: "CASE-ID", JSON: true,
		Usage: "add an agent's comment (text on stdin), relayed like their reply by mail",
		Help: `The text is read from stdin. It is decided exactly like the agent's reply by mail:
#commands on its first lines apply, a public comment goes to the customer
with the attached files, and the case becomes pending unless a command says
otherwise.`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&as, "as", "", "the agent or manager writing (login `EMAIL`; required)")
			fs.BoolVar(&internal, "internal", false, "an internal note, never sent to the customer")
			fs.Var(&attach, "attach", "attach `FILE` (repeatable)")
		},
		Run: func(ctx context.Context, inv *invocation) error {
			ids, err := caseIDs(inv.args)
			if err != nil {
				return err
			}
			if as == "" {
				return usagef("--as is required: the agent or manager writing")
			}
			files, err := readAttachments(attach)
			if err != nil {
				return err
			}
			body, err := readBody(inv)
			if err != nil {
				return err
			}
			g, _, _, err := inv.domain(ctx, (*config.Config).RequireNotify)
			if err != nil {
				return err
			}
			res, err := g.Comment(ctx, helpdesk.AgentComment{CaseID: ids[0], Agent: as, Body: body, Internal: internal, Files: files})
			if err != nil {
				return err
			}
			return printLocal(inv, res)
		},
	}
}

func casesOpenCommand() *command {
	var (
		o      helpdesk.OpenForCustomer
		attach listFlag
	)
	return &command{
		Name: "open", JSON: true,
		Usage: "open a case on a customer's behalf (text on stdin); they get the acknowledgement",
		Help: `The text is read from stdin. The case is opened exactly as if the customer had
written it: they are its submitter and get the acknowledgement. --severity is
asked for as the customer would (a plan without S1 gets S2). An event
records that it was opened with the CLI, and by whom (--as).`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&o.Customer, "for", "", "the customer (an existing user's `EMAIL`; required)")
			fs.StringVar(&o.Subject, "subject", "", "the case's subject (required)")
			fs.StringVar(&o.Severity, "severity", "", "S1, S2, S3 or S4 (default: as the text says, else S3)")
			fs.StringVar(&o.As, "as", "", "the agent or manager opening it (login `EMAIL`)")
			fs.Var(&attach, "attach", "attach `FILE` (repeatable)")
		},
		Run: func(ctx context.Context, inv *invocation) error {
			if o.Customer == "" || strings.TrimSpace(o.Subject) == "" {
				return usagef("--for and --subject are required")
			}
			var err error
			if o.Files, err = readAttachments(attach); err != nil {
				return err
			}
			if o.Body, err = readBody(inv); err != nil {
				return err
			}
			g, _, _, err := inv.domain(ctx, (*config.Config).RequireNotify)
			if err != nil {
				return err
			}
			res, err := g.OpenFor(ctx, o)
			if err != nil {
				return err
			}
			return printLocal(inv, res)
		},
	}
}

func readBody(inv *invocation) (string, error) {
	r := inv.stdin
	if r == nil {
		r = os.Stdin
	}
	b, err := io.ReadAll(io.LimitReader(r, 10<<20+1))
	if err != nil {
		return "", fmt.Errorf("read the text from stdin: %w", err)
	}
	if len(b) > 10<<20 {
		return "", fmt.Errorf("%w: the text on stdin is over 10 MiB", helpdesk.ErrInvalid)
	}
	return string(b), nil
}

func readAttachments(names []string) ([]helpdesk.LocalFile, error) {
	var out []helpdesk.LocalFile
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("attach: %w", err)
		}
		ct := mime.TypeByExtension(filepath.Ext(name))
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		out = append(out, helpdesk.LocalFile{Name: filepath.Base(name), ContentType: ct, Content: b})
	}
	return out, nil
}

func printLocal(inv *invocation, r helpdesk.LocalResult) error {
	out := struct {
		CaseID    int64  `json:"case_id"`
		MessageID string `json:"message_id"`
		Decision  string `json:"decision"`
		Reason    string `json:"reason"`
		Status    string `json:"status"`
		Severity  string `json:"severity"`
	}{r.CaseID, r.MessageID, r.Decision, r.Reason, r.Status, r.Severity}
	return inv.print(out, func(w io.Writer) error {
		fmt.Fprintf(w, "case #%d: %s; status %s, severity %s\n  %s\n", out.CaseID, out.Decision, out.Status, out.Severity, out.Reason)
		return nil
	})
}
