package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
)

// statementCounter counts the statements a batch sends.
type statementCounter struct {
	Queryer
	n int
}

func (c *statementCounter) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	c.n++
	return c.Queryer.ExecContext(ctx, q, args...)
}

func (c *statementCounter) QueryxContext(ctx context.Context, q string, args ...any) (*sqlx.Rows, error) {
	c.n++
	return c.Queryer.QueryxContext(ctx, q, args...)
}

func (c *statementCounter) QueryRowxContext(ctx context.Context, q string, args ...any) *sqlx.Row {
	c.n++
	return c.Queryer.QueryRowxContext(ctx, q, args...)
}

func (c *statementCounter) GetContext(ctx context.Context, dest any, q string, args ...any) error {
	c.n++
	return c.Queryer.GetContext(ctx, dest, q, args...)
}

func (c *statementCounter) SelectContext(ctx context.Context, dest any, q string, args ...any) error {
	c.n++
	return c.Queryer.SelectContext(ctx, dest, q, args...)
}

func TestRunBatch_StatementsDoNotGrowWithTheBatch(t *testing.T) {
	db := pgtest.New(t)
	s, err := NewStore(db)
	if err != nil {
		t.Fatal(err)
	}
	cfg := decideConfig(t)
	cfg.Now = func() time.Time { return decideNow }
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := NewIngester(s, *cfg)
	if err != nil {
		t.Fatal(err)
	}
	uid := uint32(0)
	statements := func(n int, replies bool) int {
		var batch []Inbound
		for range n {
			uid++
			raw := fmt.Sprintf("From: c%d@new%d.example\r\nTo: support@example.com\r\nSubject: Help %d\r\nMessage-ID: <m%d@new.example>\r\n\r\nPlease help.\r\n",
				uid, uid, uid, uid)
			if replies {
				raw = fmt.Sprintf("From: c%d@new%d.example\r\nTo: support@example.com\r\nSubject: Re: Help\r\nMessage-ID: <r%d@new.example>\r\nIn-Reply-To: <m%d@new.example>\r\n\r\nStill broken.\r\n",
					uid-uint32(n), uid-uint32(n), uid, uid-uint32(n))
			}
			batch = append(batch, Inbound{Mailbox: "INBOX", UIDValidity: 1, UID: uid, Body: strings.NewReader(raw)})
		}
		c := &statementCounter{}
		err := s.WithTx(context.Background(), func(tx *sqlx.Tx) error {
			c.Queryer = tx
			res, err := g.runBatch(context.Background(), c, batch)
			for _, r := range res {
				if r.Decision == "" {
					t.Errorf("%+v: undecided", r)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return c.n
	}
	small, large := statements(4, false), statements(64, false)
	if small != large {
		t.Errorf("new cases: %d statements for 4 mails, %d for 64: the count grows with the batch", small, large)
	}
	if large > 64/2 {
		t.Errorf("%d statements for 64 new cases, want well under 1 per mail", large)
	}
	largeReplies := statements(64, true)
	if largeReplies > 64/2 {
		t.Errorf("%d statements for 64 replies, want well under 1 per mail", largeReplies)
	}
	t.Logf("statements per batch: %d (4 new cases), %d (64 new cases), %d (64 replies)", small, large, largeReplies)
}
