package poller

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
)

// errTimeout is returned when the server did not answer within IOTimeout.
var errTimeout = errors.New("server did not answer in time")

// watchdog closes the connection when a wait on the server makes no
// progress for longer than timeout. imapclient has no read timeout of its
// own between responses, and it resets the conn's deadlines itself, so the
// deadline is a timer that closes the socket; every blocked call then fails.
//
// Waits are armed one at a time, from the session goroutine; reads that
// return data push the deadline back.
type watchdog struct {
	conn    net.Conn // the raw socket
	timeout time.Duration

	mu    sync.Mutex
	timer *time.Timer
	armed bool
	fired bool
}

func newWatchdog(conn net.Conn, timeout time.Duration) *watchdog {
	w := &watchdog{conn: conn, timeout: timeout}
	w.timer = time.AfterFunc(time.Hour, w.expire)
	w.timer.Stop()
	return w
}

func (w *watchdog) expire() {
	w.mu.Lock()
	if !w.armed {
		w.mu.Unlock()
		return
	}
	w.fired = true
	w.mu.Unlock()
	w.conn.Close()
}

// guard runs f, closing the connection if it waits longer than the timeout
// without progress.
func (w *watchdog) guard(f func() error) error {
	w.mu.Lock()
	w.armed = true
	w.timer.Reset(w.timeout)
	w.mu.Unlock()

	err := f()

	w.mu.Lock()
	w.armed = false
	w.timer.Stop()
	fired := w.fired
	w.mu.Unlock()
	if fired {
		if err == nil {
			err = errors.New("connection closed")
		}
		return fmt.Errorf("%w (%v): %w", errTimeout, w.timeout, err)
	}
	return err
}

func (w *watchdog) progress() {
	w.mu.Lock()
	if w.armed && !w.fired {
		w.timer.Reset(w.timeout)
	}
	w.mu.Unlock()
}

func (w *watchdog) stop() {
	w.mu.Lock()
	w.armed = false
	w.timer.Stop()
	w.mu.Unlock()
}

// watchedConn reports read progress to its watchdog.
type watchedConn struct {
	net.Conn
	wd *watchdog
}

func (c watchedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.wd.progress()
	}
	return n, err
}

// bodyReader hands a FETCH literal to the Handler: each Read is guarded,
// and a read failure is remembered so that it counts as a connection
// failure whatever the Handler makes of it.
type bodyReader struct {
	r    imap.LiteralReader
	wd   *watchdog
	read int64 // bytes read so far
	err  error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	var n int
	var err error
	gerr := b.wd.guard(func() error {
		n, err = b.r.Read(p)
		return nil
	})
	b.read += int64(n)
	if gerr != nil && err == nil {
		err = gerr
	}
	if err == io.EOF && b.read < b.r.Size() {
		// The literal reader ends at a closed connection as if the
		// literal were complete: a truncated message must not pass.
		err = fmt.Errorf("%w after %d of %d bytes", io.ErrUnexpectedEOF, b.read, b.r.Size())
	}
	if err != nil && err != io.EOF {
		b.err = fmt.Errorf("reading message body: %w", err)
		return n, b.err
	}
	return n, err
}

// drain reads what the Handler left, so the connection can carry the next
// response.
func (b *bodyReader) drain() error {
	_, err := io.Copy(io.Discard, b)
	if err != nil {
		return err
	}
	return b.err
}
