package main

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// setIngester makes the ingester available to the HTTP handlers.
func (r *readiness) setIngester(g *helpdesk.Ingester) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ingester = g
}

// currentIngester is the ingester once the mail components are built, else nil.
func (r *readiness) currentIngester() *helpdesk.Ingester {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ingester
}

// unsubscribeHandler is the RFC 8058 one-click unsubscribe of a known-issue
// update: POST /unsubscribe/{token} ends the subscription through ingest,
// like the mail to the unsubscribe address would. GET only shows a button
// that posts, so that link checkers opening the URL unsubscribe nobody.
type unsubscribeHandler struct {
	ingester func() *helpdesk.Ingester
	log      *slog.Logger
}

var unsubscribePage = template.Must(template.New("unsub").Parse(`<!doctype html>
<meta charset="utf-8"><title>Unsubscribe</title>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<p>Stop following this known issue? Your linked case will be solved.</p>
<p><button type="submit">Unsubscribe</button></p></form>
`))

func (h *unsubscribeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'")
		_ = unsubscribePage.Execute(w, nil)
		return
	}
	g := h.ingester()
	if g == nil {
		http.Error(w, "not ready, try again later", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	res, err := g.Unsubscribe(ctx, r.PathValue("token"))
	switch {
	case errors.Is(err, helpdesk.ErrInvalid), errors.Is(err, helpdesk.ErrNotFound):
		http.Error(w, linkRefused, http.StatusForbidden)
		return
	case err != nil:
		h.log.Error("one-click unsubscribe", "err", err)
		http.Error(w, "internal error, try again later", http.StatusInternalServerError)
		return
	}
	h.log.Info("one-click unsubscribe", "message_id", res.MessageID, "case", res.CaseID, "reason", res.Reason)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("You no longer follow this known issue.\n"))
}
