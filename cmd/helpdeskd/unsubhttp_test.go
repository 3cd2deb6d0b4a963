package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// GET only shows the button (a link checker opening the URL unsubscribes
// nobody); POST before the ingester is built is a 503, never a success.
func TestUnsubscribeHandler_GetShowsAButtonAndPostNeedsTheIngester(t *testing.T) {
	h := &unsubscribeHandler{ingester: func() *helpdesk.Ingester { return nil }, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	mux := http.NewServeMux()
	mux.Handle("GET /unsubscribe/{token}", h)
	mux.Handle("POST /unsubscribe/{token}", h)

	get := httptest.NewRecorder()
	mux.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/unsubscribe/ki-unsub-x", nil))
	if get.Code != http.StatusOK || !strings.Contains(get.Body.String(), `method="post"`) {
		t.Fatalf("GET: %d %q", get.Code, get.Body.String())
	}
	post := httptest.NewRecorder()
	mux.ServeHTTP(post, httptest.NewRequest(http.MethodPost, "/unsubscribe/ki-unsub-x", strings.NewReader("List-Unsubscribe=One-Click")))
	if post.Code != http.StatusServiceUnavailable {
		t.Fatalf("POST without an ingester: %d %q", post.Code, post.Body.String())
	}
}
