package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"os"
	"path"
	"reflect"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
)

//go:embed tmpl/*/*.tmpl
var embedded embed.FS

// Reply markers: the first line of every notification. Another package cuts
// replies at any line containing "##-" and "-##"; change neither.
const (
	markerEN = "##- Please type your reply above this line -##"
	markerKO = "##- 이 줄 위에 답장을 입력해 주세요 -##"
)

var locales = [...]string{"en", "ko"}

// Locales returns the supported locales.
func Locales() []string { return locales[:] }

func marker(locale string) string {
	if locale == "ko" {
		return markerKO
	}
	return markerEN
}

// parts of a notification and their file suffixes.
const (
	partSubject = "subject"
	partText    = "txt"
	partHTML    = "html"
)

func fileName(locale string, k Kind, part string) string {
	return locale + "/" + string(k) + "." + part + ".tmpl"
}

// Partials shared by a locale's subject and text templates, and by its HTML templates.
func partialsName(locale, part string) string {
	return locale + "/_partials." + part + ".tmpl"
}

// Options configure New.
type Options struct {
	// OverrideDir, if set, is a directory laid out like the embedded
	// templates (<locale>/<kind>.<part>.tmpl, <locale>/_partials.<part>.tmpl
	// with part subject, txt or html). A file there replaces the embedded
	// file of the same name; other files are kept.
	OverrideDir string
	// DefaultLocale is used when a recipient's locale is empty or
	// unsupported: "en" (when empty) or "ko".
	DefaultLocale string
}

// Set holds every notification template, parsed and checked. It is safe for
// concurrent use.
type Set struct {
	defaultLocale string
	byLocale      map[string]map[Kind]*compiled
	dataTypes     map[Kind]reflect.Type
	layout        *htmltemplate.Template
}

type compiled struct {
	subject, text, html executor
	// where each part came from, for error messages
	subjectFrom, textFrom, htmlFrom string
}

type executor interface {
	Execute(w io.Writer, data any) error
}

// Rendered is one notification ready to be composed into a mail.
type Rendered struct {
	Locale  string // the locale actually used
	Subject string // one line, ending with "[Case #N]" when the data has a case
	Text    string // plain text, "\n" line ends, starting with the reply marker line
	HTML    string // a complete HTML document, starting with the reply marker
}

// New parses every template for every kind and locale, applying overrides
// from opts.OverrideDir, and renders each against the kind's samples. Any
// missing, unparsable or failing template, or an unknown file in the
// override directory, makes New fail with an error naming the file.
func New(opts Options) (*Set, error) {
	def, ok := supportedLocale(opts.DefaultLocale)
	if opts.DefaultLocale == "" {
		def, ok = "en", true
	}
	if !ok {
		return nil, fmt.Errorf("templates: unsupported default locale %q (want one of %s)", opts.DefaultLocale, strings.Join(Locales(), ", "))
	}
	root, err := fs.Sub(embedded, "tmpl")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	var over fs.FS
	if opts.OverrideDir != "" {
		st, err := os.Stat(opts.OverrideDir)
		if err != nil {
			return nil, fmt.Errorf("templates: override directory: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("templates: override directory %s is not a directory", opts.OverrideDir)
		}
		over = os.DirFS(opts.OverrideDir)
	}
	return build(root, over, opts.OverrideDir, def)
}

// build does New's work on file systems, so tests can supply broken ones.
func build(root, over fs.FS, overDir, defaultLocale string) (*Set, error) {
	src := sources{root: root, over: over, overDir: overDir}
	if over != nil {
		if err := src.checkOverrideNames(); err != nil {
			return nil, err
		}
	}
	layout, err := htmltemplate.New("layout").Option("missingkey=error").Parse(layoutSrc)
	if err != nil {
		return nil, fmt.Errorf("templates: layout: %w", err)
	}
	s := &Set{defaultLocale: defaultLocale, byLocale: map[string]map[Kind]*compiled{}, dataTypes: map[Kind]reflect.Type{}, layout: layout}
	for _, spec := range specs {
		s.dataTypes[spec.kind] = reflect.TypeOf(spec.samples()[0].data)
	}
	for _, loc := range locales {
		m, err := compileLocale(src, loc)
		if err != nil {
			return nil, err
		}
		s.byLocale[loc] = m
	}
	for _, loc := range locales {
		for _, spec := range specs {
			for _, v := range spec.samples() {
				r, err := s.render(loc, v.data)
				if err != nil {
					return nil, err
				}
				if strings.TrimSpace(strings.TrimSuffix(r.Subject, caseTag(v.data.base().CaseID))) == "" {
					return nil, fmt.Errorf("templates: %s: renders an empty subject", s.byLocale[loc][spec.kind].subjectFrom)
				}
			}
		}
	}
	return s, nil
}

type sources struct {
	root, over fs.FS
	overDir    string
}

// read returns the override file if there is one, else the embedded file,
// and a description of where it came from.
func (s sources) read(name string) (string, string, error) {
	if s.over != nil {
		b, err := fs.ReadFile(s.over, name)
		if err == nil {
			return string(b), "override " + path.Join(filepathSlash(s.overDir), name), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", fmt.Errorf("templates: override %s: %w", name, err)
		}
	}
	b, err := fs.ReadFile(s.root, name)
	if err != nil {
		return "", "", fmt.Errorf("templates: embedded %s: %w", name, err)
	}
	return string(b), name, nil
}

func filepathSlash(dir string) string { return strings.ReplaceAll(dir, string(os.PathSeparator), "/") }

// checkOverrideNames rejects *.tmpl files that would never be used, so a
// misspelt override fails start-up instead of being silently ignored.
func (s sources) checkOverrideNames() error {
	known := map[string]bool{}
	for _, loc := range locales {
		known[partialsName(loc, partText)] = true
		known[partialsName(loc, partHTML)] = true
		for _, spec := range specs {
			for _, part := range []string{partSubject, partText, partHTML} {
				known[fileName(loc, spec.kind, part)] = true
			}
		}
	}
	return fs.WalkDir(s.over, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("templates: override directory: %w", err)
		}
		if d.IsDir() || !strings.HasSuffix(p, ".tmpl") || known[p] {
			return nil
		}
		return fmt.Errorf("templates: override %s: unknown template file (want <locale>/<kind>.{subject,txt,html}.tmpl or <locale>/_partials.{txt,html}.tmpl)", path.Join(filepathSlash(s.overDir), p))
	})
}

func compileLocale(src sources, loc string) (map[Kind]*compiled, error) {
	textPartials, textPartialsFrom, err := src.read(partialsName(loc, partText))
	if err != nil {
		return nil, err
	}
	htmlPartials, htmlPartialsFrom, err := src.read(partialsName(loc, partHTML))
	if err != nil {
		return nil, err
	}
	textBase, err := newTextBase(loc, textPartials)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", textPartialsFrom, err)
	}
	htmlBase, err := newHTMLBase(loc, htmlPartials)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", htmlPartialsFrom, err)
	}

	out := map[Kind]*compiled{}
	for _, spec := range specs {
		c := &compiled{}
		for _, part := range []string{partSubject, partText, partHTML} {
			name := fileName(loc, spec.kind, part)
			body, from, err := src.read(name)
			if err != nil {
				return nil, err
			}
			var ex executor
			if part == partHTML {
				ex, err = parseHTML(htmlBase, name, body)
			} else {
				ex, err = parseText(textBase, name, body)
			}
			if err != nil {
				return nil, fmt.Errorf("templates: %s: %w", from, err)
			}
			switch part {
			case partSubject:
				c.subject, c.subjectFrom = ex, from
			case partText:
				c.text, c.textFrom = ex, from
			default:
				c.html, c.htmlFrom = ex, from
			}
		}
		out[spec.kind] = c
	}
	return out, nil
}

// newTextBase parses a locale's text partials: the base every subject and
// text template is cloned from, with the options and functions they share.
func newTextBase(loc, partials string) (*texttemplate.Template, error) {
	return texttemplate.New(partialsName(loc, partText)).Option("missingkey=error").Funcs(textFuncs(loc)).Parse(partials)
}

func newHTMLBase(loc, partials string) (*htmltemplate.Template, error) {
	return htmltemplate.New(partialsName(loc, partHTML)).Option("missingkey=error").Funcs(htmlFuncs(loc)).Parse(partials)
}

// parseText adds a template to a clone of the partials, so a kind's file may
// redefine a partial for itself only. The clone gets its own memo.
func parseText(partials *texttemplate.Template, name, body string) (*texttemplate.Template, error) {
	set, err := partials.Clone()
	if err != nil {
		return nil, err
	}
	m := newMemo()
	t, err := set.Funcs(m.textFunc()).New(name).Parse(body)
	if err != nil {
		return nil, err
	}
	m.exec = t.ExecuteTemplate
	return t, nil
}

func parseHTML(partials *htmltemplate.Template, name, body string) (*htmltemplate.Template, error) {
	set, err := partials.Clone()
	if err != nil {
		return nil, err
	}
	m := newMemo()
	t, err := set.Funcs(m.htmlFunc()).New(name).Parse(body)
	if err != nil {
		return nil, err
	}
	m.exec = t.ExecuteTemplate
	return t, nil
}

func supportedLocale(l string) (string, bool) {
	l = strings.ToLower(strings.TrimSpace(l))
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	for _, s := range locales {
		if l == s {
			return s, true
		}
	}
	return "", false
}

// Locale returns the locale Render uses for a recipient's locale: its
// language ("ko-KR" → "ko") if supported, else the default locale.
func (s *Set) Locale(recipient string) string {
	if l, ok := supportedLocale(recipient); ok {
		return l
	}
	return s.defaultLocale
}

// Render renders the notification d in the recipient's locale (see Locale).
// d must be one of this package's data types (a value or a non-nil pointer),
// with HelpdeskName, SupportAddress and, unless its kind allows none, CaseID set.
// Times are shown in the location they carry; see RenderIn.
func (s *Set) Render(locale string, d Data) (Rendered, error) {
	return s.RenderIn(locale, nil, d)
}

// RenderIn renders like Render with every time of d shown in the
// recipient's zone loc, named in the text ("16:30 KST"). A nil loc keeps
// the times' own locations.
func (s *Set) RenderIn(locale string, loc *time.Location, d Data) (Rendered, error) {
	if d == nil {
		return Rendered{}, errors.New("templates: nil data")
	}
	if v := reflect.ValueOf(d); v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return Rendered{}, fmt.Errorf("templates: nil %T", d)
		}
		d = v.Elem().Interface().(Data)
	}
	spec, ok := lookup(d.Kind())
	if !ok {
		return Rendered{}, fmt.Errorf("templates: unknown kind %q", d.Kind())
	}
	if want := s.dataTypes[spec.kind]; reflect.TypeOf(d) != want {
		return Rendered{}, fmt.Errorf("templates: %s wants %v, got %T", spec.kind, want, d)
	}
	b := d.base()
	switch {
	case b.HelpdeskName == "":
		return Rendered{}, fmt.Errorf("templates: %s: HelpdeskName is empty", spec.kind)
	case b.SupportAddress == "":
		return Rendered{}, fmt.Errorf("templates: %s: SupportAddress is empty", spec.kind)
	case b.CaseID < 0, b.CaseID == 0 && !spec.caseOptional:
		return Rendered{}, fmt.Errorf("templates: %s: invalid case id %d", spec.kind, b.CaseID)
	}
	if loc != nil {
		d = inZone(d, loc)
	}
	return s.render(s.Locale(locale), d)
}

func (s *Set) render(loc string, d Data) (Rendered, error) {
	c := s.byLocale[loc][d.Kind()]
	var buf bytes.Buffer
	if err := c.subject.Execute(&buf, d); err != nil {
		return Rendered{}, fmt.Errorf("templates: %s: %w", c.subjectFrom, err)
	}
	subject := withCaseTag(strings.Join(strings.Fields(buf.String()), " "), d.base().CaseID)

	buf.Reset()
	if err := c.text.Execute(&buf, d); err != nil {
		return Rendered{}, fmt.Errorf("templates: %s: %w", c.textFrom, err)
	}
	text := marker(loc) + "\n\n" + tidyText(buf.String())

	buf.Reset()
	if err := c.html.Execute(&buf, d); err != nil {
		return Rendered{}, fmt.Errorf("templates: %s: %w", c.htmlFrom, err)
	}
	body := strings.TrimSpace(buf.String())
	buf.Reset()
	err := s.layout.Execute(&buf, layoutData{
		Locale:  loc,
		Subject: subject,
		Marker:  marker(loc),
		Body:    htmltemplate.HTML(body), // the output of html/template, already escaped
	})
	if err != nil {
		return Rendered{}, fmt.Errorf("templates: layout: %w", err)
	}
	return Rendered{Locale: loc, Subject: subject, Text: text, HTML: buf.String()}, nil
}

func caseTag(id int64) string { return "[Case #" + strconv.FormatInt(id, 10) + "]" }

// withCaseTag appends the case tag that threading parses back, unless the
// subject already carries it. A mail about no case gets none.
func withCaseTag(subject string, id int64) string {
	if id <= 0 {
		return subject
	}
	tag := caseTag(id)
	if strings.Contains(subject, tag) {
		return subject
	}
	if subject == "" {
		return tag
	}
	return subject + " " + tag
}

// tidyText drops trailing spaces and runs of blank lines that template
// conditionals leave behind, and ends the text with one newline.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := make([]string, 0, len(lines))
	blank := true // drops leading blank lines
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n") + "\n"
}

type layoutData struct {
	Locale, Subject, Marker string
	Body                    htmltemplate.HTML
}

// layoutSrc wraps every HTML part, so the reply marker and its hidden twin
// cannot be left out by a template or an override.
const layoutSrc = `<!DOCTYPE html>
<html lang="{{.Locale}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:16px;font-family:-apple-system,'Segoe UI',Roboto,'Apple SD Gothic Neo','Malgun Gothic',sans-serif;font-size:14px;line-height:1.6;color:#222222;">
<div style="color:#b5b5b5;font-size:12px;">{{.Marker}}</div>
<div id="helpdesk-reply-marker" style="display:none;max-height:0;overflow:hidden;">{{.Marker}}</div>
{{.Body}}
</body>
</html>
`
