package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/config"
	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/threading"
	"github.com/helpdesk/helpdesk/threading/reply"
)

// parsed is the output of `helpdeskd parse --json`.
type parsed struct {
	MessageID   string              `json:"message_id"`
	From        mail.Address        `json:"from"`
	To          []mail.Address      `json:"to"`
	Cc          []mail.Address      `json:"cc"`
	ReplyTo     []mail.Address      `json:"reply_to"`
	Subject     string              `json:"subject"`
	Date        *time.Time          `json:"date"`
	InReplyTo   []string            `json:"in_reply_to"`
	References  []string            `json:"references"`
	Class       threading.Class     `json:"class"`
	ClassReason string              `json:"class_reason"`
	Bounce      *threading.Bounce   `json:"bounce,omitempty"`
	Text        string              `json:"text"`
	ReplyText   string              `json:"reply_text"`
	ReplyRule   string              `json:"reply_rule"`                // the rule that cut the reply text (reply.Result.Reason)
	ReplyCut    int                 `json:"reply_cut_line"`            // 1-based body line where it cut; 0 for none or HTML
	ReplyFwd    string              `json:"reply_forwarded,omitempty"` // a forwarded message kept below the note
	HTML        string              `json:"html"`
	Attachments []*mail.Attachment  `json:"attachments"`
	Warnings    []string            `json:"warnings"`
	Guesses     []string            `json:"charset_guesses,omitempty"`
	Synthetic   bool                `json:"synthetic_message_id"`
	DeliveredTo []mail.Address      `json:"delivered_to,omitempty"`
	Header      map[string][]string `json:"-"`
}

func parseCommand() *command {
	return &command{
		Name: "parse", Args: "FILE.eml", Usage: "show how a mail is parsed and classified", JSON: true,
		Help: "FILE.eml may be - for stdin. With HELPDESK_SUPPORT_ADDRESS set, the mail is classified\nagainst the configured addresses as the daemon would.",
		Run: func(_ context.Context, inv *invocation) error {
			out, err := parseFile(inv, inv.args[0])
			if err != nil {
				return err
			}
			return inv.print(out, func(w io.Writer) error { writeParsed(w, out); return nil })
		},
	}
}

// parseFile parses and classifies the mail at name ("-": stdin).
func parseFile(inv *invocation, name string) (*parsed, error) {
	f := os.Stdin
	if name != "-" {
		var err error
		if f, err = os.Open(name); err != nil {
			return nil, err
		}
		defer f.Close()
	}
	m, err := mail.Parse(f, mail.ParseOptions{})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	ci := m.ClassifyInput()
	if c, err := inv.config(); err == nil && c.SupportAddress != "" {
		ci.OwnAddresses = append([]string{c.SupportAddress}, c.SupportAliases...)
		ci.OwnMessageIDDomain = c.MessageIDDomain
		if c.TokenSecret != "" {
			ci.LoopID = loopID(c)
		}
	}
	cl := threading.Classify(ci)
	out := &parsed{MessageID: m.MessageID, From: m.From, To: nonNil(m.To), Cc: nonNil(m.Cc), ReplyTo: nonNil(m.ReplyTo),
		Subject: m.Subject, InReplyTo: nonNilS(m.InReplyTo), References: nonNilS(m.References),
		Class: cl.Class, ClassReason: cl.Reason, Bounce: cl.Bounce, Text: m.Text, ReplyText: helpdesk.ReplyText(m), HTML: m.HTML,
		Attachments: m.Attachments, Warnings: nonNilS(m.Warnings), Guesses: m.CharsetGuesses, Synthetic: m.SyntheticMessageID, DeliveredTo: m.DeliveredTo}
	rr := replyResult(m)
	out.ReplyRule, out.ReplyCut, out.ReplyFwd = rr.Reason, rr.CutLine, rr.Forwarded
	if out.Attachments == nil {
		out.Attachments = []*mail.Attachment{}
	}
	if !m.Date.IsZero() {
		out.Date = &m.Date
	}
	return out, nil
}

func writeParsed(w io.Writer, out *parsed) {
	fmt.Fprintf(w, "Message-ID: <%s>%s\n", out.MessageID, map[bool]string{true: " (synthetic)", false: ""}[out.Synthetic])
	fmt.Fprintf(w, "From:       %s\nSubject:    %s\nClass:      %s (%s)\n", out.From, out.Subject, out.Class, out.ClassReason)
	if len(out.InReplyTo)+len(out.References) > 0 {
		fmt.Fprintf(w, "In-Reply-To: %s\nReferences: %s\n", strings.Join(out.InReplyTo, " "), strings.Join(out.References, " "))
	}
	for _, a := range out.Attachments {
		fmt.Fprintf(w, "Attachment: %s (%s, %d bytes, inline=%v)\n", a.Filename, a.ContentType, a.Size, a.Inline)
	}
	for _, warn := range out.Warnings {
		fmt.Fprintf(w, "Warning:    %s\n", warn)
	}
	fmt.Fprintf(w, "Reply:      cut by %s at line %d\n", out.ReplyRule, out.ReplyCut)
	fmt.Fprintf(w, "\n%s\n", strings.TrimRight(out.Text, "\n"))
}

// replyResult explains helpdesk.ReplyText: where the reply was cut and why.
func replyResult(m *mail.Message) reply.Result {
	if m.TextFromHTML {
		return reply.FromHTML(m.HTML)
	}
	return reply.FromText(m.Text)
}

func nonNil(a []mail.Address) []mail.Address {
	if a == nil {
		return []mail.Address{}
	}
	return a
}

func nonNilS(a []string) []string {
	if a == nil {
		return []string{}
	}
	return a
}

func reprocessCommand() *command {
	return &command{
		Name: "reprocess", Args: "MESSAGE-ID", Usage: "run a stored inbound message (by Message-ID) through ingest again", JSON: true,
		Run: func(ctx context.Context, inv *invocation) error {
			g, _, _, err := inv.domain(ctx, (*config.Config).RequireServe)
			if err != nil {
				return err
			}
			res, err := g.Reprocess(ctx, inv.args[0])
			if err != nil {
				return err
			}
			return inv.print(res, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "<%s>: %s (case %d, rule %s: %s)\n", res.MessageID, res.Decision, res.CaseID, res.Rule, res.Reason)
				return err
			})
		},
	}
}

func whyCommand() *command {
	return &command{
		Name: "why", Args: "MESSAGE-ID", Usage: "why an inbound message (by Message-ID) went where it went", JSON: true,
		Help: "Prints the class, the token check, the threading rule, the sender's access and the outcome.",
		Run: func(ctx context.Context, inv *invocation) error {
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			w, err := helpdesk.ExplainMessage(ctx, s.DB(), inv.args[0])
			if err != nil {
				return err
			}
			return inv.print(w, func(out io.Writer) error { writeWhy(out, w); return nil })
		},
	}
}

func writeWhy(out io.Writer, w *helpdesk.Why) {
	fmt.Fprintf(out, "Message <%s> from %s, %s\n  subject: %s\n", w.MessageID, orDash(w.From), stamp(w.ReceivedAt), w.Subject)
	if w.OriginalID != "" {
		fmt.Fprintf(out, "  written:  Message-ID: %s (malformed; stored under the id above)\n", w.OriginalID)
	}
	fmt.Fprintf(out, "  class:    %s (%s)\n", w.Class, w.ClassReason)
	fmt.Fprintf(out, "  token:    %s\n", orDash(w.TokenCheck))
	fmt.Fprintf(out, "  threaded: %s: %s\n", orDash(w.Rule), orDash(w.Reason))
	fmt.Fprintf(out, "  sender:   %s\n", orDash(w.Access))
	what := w.Decision
	if w.CaseID != nil {
		what += fmt.Sprintf(" on case #%d", *w.CaseID)
	}
	if w.Comment != nil {
		what += " (" + *w.Comment + ")"
	}
	fmt.Fprintf(out, "  done:     %s\n", what)
	for _, ev := range w.Events {
		fmt.Fprintf(out, "  event:    %s %s -> %s %s\n", ev.Kind, orDash(ev.From), orDash(ev.To), ev.Reason)
	}
}
