package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/config"
	"github.com/helpdesk/helpdesk/helpdesk"
)

// attachmentLinks signs download links when the HTTP listener is on and has
// a public URL; nil otherwise.
func attachmentLinks(c *config.Config) (*helpdesk.AttachmentLinks, error) {
	if c.HTTPAddr == "" || c.PublicURL == "" {
		return nil, nil
	}
	l, err := helpdesk.NewAttachmentLinks(helpdesk.AttachmentLinksConfig{Secrets: append([]string{c.TokenSecret}, c.OldSecrets...),
		OldUntil: c.OldSecretsUntil, BaseURL: c.PublicURL, TTL: c.AttachmentLinkTTL})
	if err != nil {
		return nil, fmt.Errorf("HELPDESK_PUBLIC_URL: %w", err)
	}
	return l, nil
}

// orNegative64 maps a configured limit of 0 ("none") to the domain's -1.
func orNegative64(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

// withAttachments serves GET and HEAD /attachments/{token} beside h when
// download links are configured.
func withAttachments(h http.Handler, c *config.Config, ready *readiness, log *slog.Logger) http.Handler {
	links, err := attachmentLinks(c)
	if err != nil || links == nil {
		return h // an error fails start-up in newDomain
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle("GET /attachments/{token}", &attachmentHandler{links: links, store: ready.currentStore, now: time.Now, log: log})
	u := &unsubscribeHandler{ingester: ready.currentIngester, log: log}
	mux.Handle("GET /unsubscribe/{token}", u)
	mux.Handle("POST /unsubscribe/{token}", u)
	return mux
}

// currentStore is the database once connected, else nil.
func (r *readiness) currentStore() *helpdesk.Store {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.store
}

// attachmentHandler streams the file a signed link names from the database.
type attachmentHandler struct {
	links *helpdesk.AttachmentLinks
	store func() *helpdesk.Store // nil until the database is connected
	now   func() time.Time
	log   *slog.Logger
}

// linkRefused is all a refused link is told: never which part failed.
const linkRefused = "invalid or expired link"

func (h *attachmentHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	ref, err := h.links.Verify(r.PathValue("token"), h.now())
	if err != nil {
		http.Error(w, linkRefused, http.StatusForbidden)
		return
	}
	s := h.store()
	if s == nil {
		http.Error(w, "not ready, try again later", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	a, err := helpdesk.LinkedAttachment(ctx, s.DB(), ref)
	cancel()
	if errors.Is(err, helpdesk.ErrNotFound) {
		http.Error(w, linkRefused, http.StatusNotFound)
		return
	}
	if err != nil {
		h.log.Error("attachment download", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	ct, disposition := servedType(a.ContentType)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", contentDisposition(disposition, a.Filename))
	w.Header().Set("Content-Length", strconv.FormatInt(a.Size, 10))
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if r.Method == http.MethodHead {
		return
	}
	if n, err := helpdesk.CopyBlob(r.Context(), s.DB(), a.BlobID, w); err != nil {
		// The status is sent; a short body tells the client it failed.
		h.log.Warn("attachment download cut short", "attachment", a.ID, "sent", n, "size", a.Size, "err", err)
	}
}

// inlineTypes are shown by a browser without running anything. PDF is not
// among them: a customer's PDF may carry scripts and forms, so it is a
// download, never a page of our origin.
var inlineTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "text/plain": true,
}

// servedType is the Content-Type a stored file is served with and its
// disposition: the type it came with (without parameters but a text
// charset), inline only for the passive types; anything else, HTML, SVG and
// scripts included, is a download.
func servedType(stored string) (contentType, disposition string) {
	mt, params, err := mime.ParseMediaType(stored)
	if err != nil || !strings.Contains(mt, "/") {
		return "application/octet-stream", "attachment"
	}
	ct := mt
	if cs := params["charset"]; strings.HasPrefix(mt, "text/") && cs != "" {
		ct = mime.FormatMediaType(mt, map[string]string{"charset": cs})
		if ct == "" {
			ct = mt
		}
	}
	if inlineTypes[mt] {
		return ct, "inline"
	}
	return ct, "attachment"
}

// contentDisposition names the file as RFC 6266 asks: an ASCII fallback
// filename for old clients, and filename* with the UTF-8 name (RFC 8187).
func contentDisposition(disposition, name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, name)
	if strings.Trim(name, "._ ") == "" {
		name = "attachment"
	}
	var fallback strings.Builder
	ascii := true
	for _, r := range name {
		switch {
		case r == '"' || r == '%':
			fallback.WriteByte('_')
			ascii = false
		case r < utf8.RuneSelf:
			fallback.WriteRune(r)
		default:
			fallback.WriteByte('_')
			ascii = false
		}
	}
	v := disposition + `; filename="` + fallback.String() + `"`
	if !ascii {
		v += "; filename*=UTF-8''" + pctEncode(name)
	}
	return v
}

// pctEncode encodes all but RFC 8187's attr-char.
func pctEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
