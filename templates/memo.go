package templates

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"reflect"
	"strings"
	"sync"
)

// memo backs the templates' memo function: {{memo "name" .Value}} renders
// the named template of the same file with .Value once, and reuses the
// output for every later mail with an equal value. The severity levels and
// the diagnostics list are the same in every acknowledgement to a plan, and
// were two thirds of its rendering time.
//
// A template's output depends only on its text and its data (the functions
// are pure), so the value is the key: its %#v, which is its whole content
// for values without pointers, maps, interfaces, functions or channels. Any
// other value (a time.Time holds a *Location) renders every time. One memo
// serves one parsed file, so a kind's own definitions and an operator's
// override each get their own outputs.
type memo struct {
	exec func(w io.Writer, name string, data any) error // set once the file is parsed

	mu    sync.Mutex
	out   map[string]string
	plain map[reflect.Type]bool // whether %#v shows a value's whole content
}

// memoMax bounds a memo: plans and diagnostics lists are few, but a value
// that differs per mail must not grow it without end.
const memoMax = 512

func newMemo() *memo { return &memo{out: map[string]string{}, plain: map[reflect.Type]bool{}} }

func (m *memo) render(name string, data any) (string, error) {
	if m.exec == nil {
		return "", errors.New("memo: used outside a notification's template")
	}
	key, keyed := m.key(name, data)
	if keyed {
		m.mu.Lock()
		s, ok := m.out[key]
		m.mu.Unlock()
		if ok {
			return s, nil
		}
	}
	var b strings.Builder
	if err := m.exec(&b, name, data); err != nil {
		return "", err
	}
	if keyed {
		m.mu.Lock()
		if len(m.out) < memoMax {
			m.out[key] = b.String()
		}
		m.mu.Unlock()
	}
	return b.String(), nil
}

func (m *memo) textFunc() map[string]any { return map[string]any{"memo": m.render} }

// htmlFunc returns the output as HTML: it comes from html/template, escaped
// for the HTML text context the memo call stands in.
func (m *memo) htmlFunc() map[string]any {
	return map[string]any{"memo": func(name string, data any) (htmltemplate.HTML, error) {
		s, err := m.render(name, data)
		return htmltemplate.HTML(s), err
	}}
}

// unboundMemo lets the partials parse a memo call; it fails if one runs
// outside a kind's file (the base itself is never executed).
func unboundMemo() any { return newMemo().render }

func (m *memo) key(name string, data any) (string, bool) {
	if data == nil {
		return "", false
	}
	t := reflect.TypeOf(data)
	m.mu.Lock()
	plain, seen := m.plain[t]
	if !seen {
		plain = plainType(t, 0)
		m.plain[t] = plain
	}
	m.mu.Unlock()
	if !plain {
		return "", false
	}
	return name + "\x00" + fmt.Sprintf("%#v", data), true
}

// plainType reports whether %#v of a value of type t shows all of its content.
func plainType(t reflect.Type, depth int) bool {
	if depth > 8 {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	case reflect.Slice, reflect.Array:
		return plainType(t.Elem(), depth+1)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if !plainType(t.Field(i).Type, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}
