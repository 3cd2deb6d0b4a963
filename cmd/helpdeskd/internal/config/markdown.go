package config

import "strings"

// MarkdownTable is the configuration reference of README.md: one row per
// setting, in documentation order.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| variable | TOML key | default | meaning |\n|---|---|---|---|\n")
	for _, s := range Settings() {
		key := s.Key
		if s.IsMailbox() {
			key = "[[mailboxes]] " + key
		}
		def := "–"
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		b.WriteString("| `" + s.Env + "` | `" + key + "` | " + def + " | " + s.Doc + " |\n")
	}
	return b.String()
}
