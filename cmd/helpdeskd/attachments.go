package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/templates"
)

// attachmentsCommand lists a case's stored files and writes one out.
func attachmentsCommand() *command {
	return &command{Name: "attachments", Usage: "list and fetch the files stored with cases",
		Children: []*command{attachmentsListCommand(), attachmentsGetCommand()}}
}

func attachmentsListCommand() *command {
	return &command{
		Name: "list", Args: "CASE-ID", Usage: "list the files of a case's comments", JSON: true,
		Run: func(ctx context.Context, inv *invocation) error {
			ids, err := caseIDs(inv.args)
			if err != nil {
				return err
			}
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			atts, err := helpdesk.ListAttachments(ctx, s.DB(), ids[0])
			if err != nil {
				return err
			}
			return inv.print(atts, func(w io.Writer) error { return writeAttachments(w, ids[0], atts) })
		},
	}
}

func writeAttachments(w io.Writer, caseID int64, atts []helpdesk.StoredAttachment) error {
	if len(atts) == 0 {
		_, err := fmt.Fprintf(w, "Case #%d has no attachments.\n", caseID)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMESSAGE\tFILENAME\tTYPE\tSIZE\tSHA256")
	for _, a := range atts {
		name := a.Filename
		if a.Truncated {
			name += " (truncated)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", a.ID, orDash(a.MessageID), name, a.ContentType,
			templates.HumanSize(a.Size), orDash(a.SHA256))
	}
	return tw.Flush()
}

func attachmentsGetCommand() *command {
	var out string
	return &command{
		Name: "get", Args: "ATTACHMENT-ID", Usage: "write a stored file to stdout or -o FILE",
		Help: "The ID is the one `helpdeskd attachments list CASE-ID` shows. The file is streamed\n" +
			"from the database; with -o it is written to FILE (created or truncated).",
		Flags: func(fs *flag.FlagSet) { fs.StringVar(&out, "o", "", "write to `FILE` instead of stdout") },
		Run: func(ctx context.Context, inv *invocation) error {
			id, err := strconv.ParseInt(inv.args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("attachment ID %q is not a number", inv.args[0])
			}
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			a, err := helpdesk.GetAttachment(ctx, s.DB(), id)
			if err != nil {
				return attachmentIDError(err)
			}
			if out == "" {
				_, err = helpdesk.CopyBlob(ctx, s.DB(), a.BlobID, inv.stdout)
				return err
			}
			return writeAttachmentFile(ctx, s, a, out)
		},
	}
}

// writeAttachmentFile streams a into path through a temporary file beside
// it, so a failed copy never leaves a partial file under the name.
func writeAttachmentFile(ctx context.Context, s *helpdesk.Store, a *helpdesk.StoredAttachment, path string) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = helpdesk.CopyBlob(ctx, s.DB(), a.BlobID, f); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// attachmentIDError hints at the list command for an unknown ID.
func attachmentIDError(err error) error {
	if errors.Is(err, helpdesk.ErrNotFound) {
		return fmt.Errorf("%w (see `helpdeskd attachments list CASE-ID`)", err)
	}
	return err
}
