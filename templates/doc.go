// Package templates renders the helpdesk's notification mails (subject, plain
// text and HTML; English and Korean) from embedded templates with typed data.
package templates
