package devmail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// internalTimeout bounds one in-process client conversation (a save or a
// Mailbox call), so a bug cannot hang Close forever.
const internalTimeout = 5 * time.Minute

var imapCaps = imap.CapSet{
	imap.CapIMAP4rev1: {},
	imap.CapNamespace: {},
	imap.CapUIDPlus:   {},
	imap.CapMove:      {},
	imap.CapESearch:   {},
}

func (s *Server) newIMAPServer() *imapserver.Server {
	return imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapSession{srv: s}, nil, nil
		},
		Caps:         imapCaps,
		InsecureAuth: true, // loopback only
		Logger:       slogPrinter{log: s.log, server: "imap"},
	})
}

// imapSession is imapmemserver's session with case-insensitive login
// against the server's users, a freeze once the server closes, and an
// IDLE that cannot miss an update.
type imapSession struct {
	*imapmemserver.UserSession // nil until logged in
	srv                        *Server
}

var (
	_ imapserver.SessionIMAP4rev2   = (*imapSession)(nil)
	_ imapserver.SessionAppendLimit = (*imapSession)(nil)
)

var errShuttingDown = &imap.Error{
	Type: imap.StatusResponseTypeNo,
	Code: imap.ResponseCodeUnavailable,
	Text: "Server shutting down",
}

// Login accepts a user's address in any case. AUTHENTICATE PLAIN ends here
// too (imapserver's default).
func (s *imapSession) Login(username, password string) error {
	u := s.srv.lookup(username)
	if u == nil {
		return imapserver.ErrAuthFailed
	}
	if err := u.mem.Login(u.address, password); err != nil {
		return err
	}
	s.UserSession = imapmemserver.NewUserSession(u.mem)
	return nil
}

func (s *imapSession) AppendLimit() uint32 { return MaxMessageBytes }

// change runs a mailbox change unless the server is closing, then wakes
// IDLE sessions.
func (s *imapSession) change(f func() error) error {
	s.srv.state.RLock()
	defer s.srv.state.RUnlock()
	if s.srv.closed {
		return errShuttingDown
	}
	err := f()
	s.srv.wake.notify()
	return err
}

func (s *imapSession) Create(mailbox string, options *imap.CreateOptions) error {
	return s.change(func() error { return s.UserSession.Create(mailbox, options) })
}

func (s *imapSession) Delete(mailbox string) error {
	if strings.EqualFold(mailbox, "INBOX") {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "INBOX cannot be deleted"}
	}
	return s.change(func() error { return s.UserSession.Delete(mailbox) })
}

func (s *imapSession) Rename(mailbox, newName string, options *imap.RenameOptions) error {
	if strings.EqualFold(mailbox, "INBOX") {
		// RFC 9051 gives renaming INBOX special semantics memserver lacks.
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "INBOX cannot be renamed"}
	}
	return s.change(func() error { return s.UserSession.Rename(mailbox, newName, options) })
}

func (s *imapSession) Subscribe(mailbox string) error {
	return s.change(func() error { return s.UserSession.Subscribe(mailbox) })
}

func (s *imapSession) Unsubscribe(mailbox string) error {
	return s.change(func() error { return s.UserSession.Unsubscribe(mailbox) })
}

// Append stores what Deliver would: CRLF line endings, and only messages
// that FETCH can serve back unchanged.
func (s *imapSession) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	msg, err := storable(raw)
	if err != nil {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeParse, Text: err.Error()}
	}
	var data *imap.AppendData
	err = s.change(func() (err error) {
		data, err = s.UserSession.Append(mailbox, literal{bytes.NewReader(msg)}, options)
		return err
	})
	return data, err
}

func (s *imapSession) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	return s.change(func() error { return s.UserSession.Expunge(w, uids) })
}

func (s *imapSession) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	return s.change(func() error { return s.UserSession.Store(w, numSet, flags, options) })
}

func (s *imapSession) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	var data *imap.CopyData
	err := s.change(func() (err error) {
		data, err = s.UserSession.Copy(numSet, dest)
		return err
	})
	return data, err
}

func (s *imapSession) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	return s.change(func() error { return s.UserSession.Move(w, numSet, dest) })
}

// Fetch of a non-PEEK body section sets \Seen, which is a change.
func (s *imapSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	for _, bs := range options.BodySection {
		if !bs.Peek {
			return s.change(func() error { return s.UserSession.Fetch(w, numSet, options) })
		}
	}
	return s.UserSession.Fetch(w, numSet, options)
}

// Idle replaces imapmemserver's, which registers for updates only after
// "+ idling" went out and so can sleep through an update that arrives
// just then. Here every change wakes every idler, which then polls its
// own queue; an update queued before the first poll is written by it.
func (s *imapSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	for {
		woken := s.srv.wake.wait()
		if err := s.UserSession.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-woken:
		}
	}
}

// notifier is a broadcast: wait returns a channel closed by the next
// notify. The zero value is ready to use.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}

// pipeListener hands in-process connections to an imapserver, so the
// server's own code can read mailboxes after the TCP listener closed.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial() (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		server.Close()
		client.Close()
		return nil, ErrClosed
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "devmail-internal" }

// internalClient reads a user's mailboxes over a pipe.
type internalClient struct{ c *imapclient.Client }

type folder struct {
	name       string
	subscribed bool
}

type storedMessage struct {
	uid   imap.UID
	raw   []byte
	flags []imap.Flag
	date  time.Time
}

func (s *Server) withClient(u *user, f func(*internalClient) error) error {
	conn, err := s.pipes.dial()
	if err != nil {
		return err
	}
	if err := conn.SetDeadline(time.Now().Add(internalTimeout)); err != nil {
		conn.Close()
		return err
	}
	c := imapclient.New(conn, nil)
	defer c.Close()
	if err := c.Login(u.address, u.password).Wait(); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return f(&internalClient{c: c})
}

// folders lists the user's selectable folders.
func (ic *internalClient) folders() ([]folder, error) {
	list, err := ic.c.List("", "*", nil).Collect()
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var out []folder
	for _, d := range list {
		f := folder{name: d.Mailbox}
		selectable := true
		for _, a := range d.Attrs {
			switch a {
			case imap.MailboxAttrNoSelect, imap.MailboxAttrNonExistent:
				selectable = false
			case imap.MailboxAttrSubscribed:
				f.subscribed = true
			}
		}
		if selectable {
			out = append(out, f)
		}
	}
	return out, nil
}

// messages calls fn for each message in mailbox, in order, without
// setting \Seen, and returns the folder's UIDVALIDITY and UIDNEXT.
func (ic *internalClient) messages(mailbox string, fn func(storedMessage) error) (*imap.SelectData, error) {
	sel, err := ic.c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("select %s: %w", mailbox, err)
	}
	if sel.NumMessages == 0 {
		return sel, nil
	}
	body := &imap.FetchItemBodySection{Peek: true}
	cmd := ic.c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID:          true,
		Flags:        true,
		InternalDate: true,
		BodySection:  []*imap.FetchItemBodySection{body},
	})
	var ferr error
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		buf, err := msg.Collect()
		if err == nil {
			raw := buf.FindBodySection(body)
			if raw == nil {
				err = errors.New("message without body")
			} else if ferr == nil {
				ferr = fn(storedMessage{uid: buf.UID, raw: raw, flags: buf.Flags, date: buf.InternalDate})
			}
		}
		if err != nil && ferr == nil {
			ferr = fmt.Errorf("fetch %s: %w", mailbox, err)
		}
	}
	if err := cmd.Close(); err != nil && ferr == nil {
		ferr = fmt.Errorf("fetch %s: %w", mailbox, err)
	}
	return sel, ferr
}
