package helpdesk

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
)

// storeBlob streams content into a blob and returns its id; identical content
// is stored once.
func storeBlob(ctx context.Context, tx Queryer, r io.Reader) (int64, error) {
	var id int64
	if err := tx.GetContext(ctx, &id, `INSERT INTO blobs DEFAULT VALUES RETURNING id`); err != nil {
		return 0, fmt.Errorf("store attachment: %w", mapErr(err))
	}
	w := newChunkWriter(ctx, tx, `INSERT INTO blob_chunks (blob_id, seq, data) VALUES ($1, $2, $3)`, id)
	if _, err := io.Copy(w, r); err != nil {
		return 0, fmt.Errorf("store attachment: %w", err)
	}
	if err := w.Close(); err != nil {
		return 0, fmt.Errorf("store attachment: %w", err)
	}
	sum := w.sum()
	var existing int64
	err := tx.GetContext(ctx, &existing, `SELECT id FROM blobs WHERE sha256 = $1`, sum)
	if err == nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE id = $1`, id); err != nil {
			return 0, fmt.Errorf("store attachment: %w", mapErr(err))
		}
		return existing, nil
	}
	if !errors.Is(mapErr(err), ErrNotFound) {
		return 0, fmt.Errorf("store attachment: %w", mapErr(err))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE blobs SET sha256 = $2, size = $3 WHERE id = $1`, id, sum, w.size); err != nil {
		// A concurrent transaction stored the same content first: retrying dedupes.
		return 0, fmt.Errorf("store attachment: %w", mapErr(err))
	}
	return id, nil
}

// chunkSize bounds memory per stream: a large mail is written 1 MiB at a time.
const chunkSize = 1 << 20

// chunkWriter writes a byte stream as numbered rows, hashing it on the way.
type chunkWriter struct {
	ctx    context.Context
	tx     Queryer
	insert string
	owner  int64
	seq    int
	buf    []byte
	size   int64
	hash   hash.Hash
}

func newChunkWriter(ctx context.Context, tx Queryer, insert string, owner int64) *chunkWriter {
	// buf grows as needed: most mail is far smaller than a chunk.
	return &chunkWriter{ctx: ctx, tx: tx, insert: insert, owner: owner, hash: sha256.New()}
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	w.size += int64(n)
	w.hash.Write(p)
	for len(p) > 0 {
		k := min(len(p), chunkSize-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == chunkSize {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.tx.ExecContext(w.ctx, w.insert, w.owner, w.seq, w.buf); err != nil {
		return mapErr(err)
	}
	w.seq++
	w.buf = w.buf[:0]
	return nil
}

// Close writes what is left; an empty stream still gets one (empty) chunk.
func (w *chunkWriter) Close() error {
	if w.seq == 0 && len(w.buf) == 0 {
		_, err := w.tx.ExecContext(w.ctx, w.insert, w.owner, 0, []byte{})
		w.seq++
		return mapErr(err)
	}
	return w.flush()
}

func (w *chunkWriter) sum() []byte { return w.hash.Sum(nil) }

func nullID(id int64) *int64 {
	if id <= 0 {
		return nil
	}
	return &id
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// truncateText cuts s to at most n bytes on a rune boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
