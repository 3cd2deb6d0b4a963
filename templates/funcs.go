package templates

import (
	"fmt"
	htmltemplate "html/template"
	"strings"
	"time"
	"unicode/utf8"
)

// textFuncs are the functions of subject and text templates.
func textFuncs(locale string) map[string]any {
	return map[string]any{
		"size":     humanSize,
		"datetime": func(t time.Time) string { return formatDateTime(locale, t) },
		"date":     func(t time.Time) string { return formatDate(locale, t) },
		"excerpt":  excerpt,
		"quote":    quoteLines,
		"memo":     unboundMemo(), // bound to each kind's file when it is parsed
	}
}

// htmlFuncs are the functions of HTML templates: the text ones, and lines.
func htmlFuncs(locale string) map[string]any {
	f := textFuncs(locale)
	f["lines"] = htmlLines
	return f
}

// HumanSize formats a byte count as the templates do: "512 B", "180 KB",
// "1.2 MB", "25 MB".
func HumanSize(n int64) string { return humanSize(n) }

// humanSize formats a byte count: "512 B", "180 KB", "1.2 MB", "25 MB".
func humanSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	unit := ""
	for _, u := range []string{"KB", "MB", "GB", "TB"} {
		v /= 1024
		unit = u
		if v < 1023.5 { // what rounds to 1024 reads better as 1 of the next unit
			break
		}
	}
	if v < 10 {
		s := fmt.Sprintf("%.1f", v)
		s = strings.TrimSuffix(s, ".0")
		return s + " " + unit
	}
	return fmt.Sprintf("%.0f %s", v, unit)
}

var koWeekdays = [...]string{"일", "월", "화", "수", "목", "금", "토"}

// formatDateTime formats t in its own location (RenderIn moves every time
// of a notification into the recipient's zone first) and names the zone:
// by its abbreviation ("KST", "CET", "UTC"), or by its IANA name when the
// zone has only a numeric one ("+03 (Europe/Istanbul)"). The zero time
// gives "".
func formatDateTime(locale string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	zone := t.Format("MST")
	if strings.HasPrefix(zone, "+") || strings.HasPrefix(zone, "-") {
		if name := t.Location().String(); name != "" && name != "Local" {
			zone += " (" + name + ")"
		}
	}
	if locale == "ko" {
		return fmt.Sprintf("%d년 %d월 %d일 (%s) %s %s", t.Year(), int(t.Month()), t.Day(), koWeekdays[t.Weekday()], t.Format("15:04"), zone)
	}
	return t.Format("Mon, 2 Jan 2006 15:04") + " " + zone
}

func formatDate(locale string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if locale == "ko" {
		return fmt.Sprintf("%d년 %d월 %d일", t.Year(), int(t.Month()), t.Day())
	}
	return t.Format("2 Jan 2006")
}

// excerpt shortens s to at most n runes (plus an ellipsis), cutting at a
// space when one is near, so a quote of a previous message stays short.
func excerpt(n int, s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := 0
	for i := range s {
		if n == 0 {
			cut = i
			break
		}
		n--
	}
	head := s[:cut]
	if sp := strings.LastIndexAny(head, " \n\t"); sp > len(head)*4/5 {
		head = head[:sp]
	}
	return strings.TrimRight(head, " \n\t") + " …"
}

// quoteLines prefixes every line with "> ".
func quoteLines(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		if l == "" {
			lines[i] = ">"
		} else {
			lines[i] = "> " + l
		}
	}
	return strings.Join(lines, "\n")
}

// htmlLines escapes plain text and keeps its line breaks as <br>.
func htmlLines(s string) htmltemplate.HTML {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = htmltemplate.HTMLEscapeString(l)
	}
	return htmltemplate.HTML(strings.Join(lines, "<br>\n"))
}
