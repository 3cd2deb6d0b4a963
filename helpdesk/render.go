package helpdesk

import (
	"bytes"
	"context"
	"fmt"

	"github.com/helpdesk/helpdesk/mail/compose"
)

// renderNotices renders the batch's notices in decision order, once their
// cases and recipients have real ids; each is threaded under its case's
// thread as it stood when the notice was decided.
func renderNotices(ctx context.Context, q Queryer, n *Notifier, notices []*notice, fix *numberFix) ([]OutMail, error) {
	if n == nil || len(notices) == 0 {
		return nil, nil
	}
	out := make([]OutMail, 0, len(notices))
	for _, nt := range notices {
		if nt.err != nil {
			return nil, nt.err
		}
		var caseID int64
		subject := nt.subject
		var inReplyTo string
		var refs []string
		if nt.c != nil {
			caseID = nt.c.ID
			if subject == "" {
				subject = nt.c.Subject
			}
			inReplyTo, refs = references(nt.c.thread, nt.threadLen, nt.inReplyTo)
		} else if inReplyTo = nt.inReplyTo; inReplyTo != "" {
			refs = []string{inReplyTo} // an answer to a mail about no case threads under it
		}
		if nt.agentFiles != nil {
			nt.agentFiles.fill(n.cfg.Links, caseID, nt.now)
		}
		data := nt.data(n.Base(caseID, subject, nt.to.Name))
		files, err := relayFiles(ctx, q, nt.files)
		if err != nil {
			return nil, err
		}
		m, err := n.compose(Notice{Data: data, To: nt.to, CaseID: caseID, FromName: nt.fromName, InReplyTo: inReplyTo,
			AutoReplied: nt.autoReplied, Attachments: files, Now: nt.now, fix: fix}, inReplyTo, refs, nt.outboxID)
		if err != nil {
			return nil, err
		}
		nt.messageID = m.MessageID
		out = append(out, m)
	}
	return out, nil
}

// relayFiles loads the content of attachments sent along with a comment.
func relayFiles(ctx context.Context, q Queryer, files []relayFile) ([]compose.Attachment, error) {
	var out []compose.Attachment
	for _, f := range files {
		content := f.blob.data
		if content == nil {
			var err error
			if content, err = readBlob(ctx, q, f.blob.id); err != nil {
				return nil, fmt.Errorf("relay %q: %w", f.att.Filename, err)
			}
		}
		a := compose.Attachment{Filename: sendableName(f.att.Filename), ContentType: sendableType(f.att.ContentType), Content: content}
		if f.att.Inline && f.att.ContentID != "" && f.html {
			a.ContentID = safeContentID(f.att.ContentID)
		}
		out = append(out, a)
	}
	return out, nil
}

// readBlob reads stored attachment content back.
func readBlob(ctx context.Context, q Queryer, id int64) ([]byte, error) {
	var chunks [][]byte
	if err := q.SelectContext(ctx, &chunks, `SELECT data FROM blob_chunks WHERE blob_id = $1 ORDER BY seq`, id); err != nil {
		return nil, fmt.Errorf("read attachment: %w", mapErr(err))
	}
	return bytes.Join(chunks, nil), nil
}
