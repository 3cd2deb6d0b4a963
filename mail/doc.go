// Package mail parses inbound MIME messages into a safe, flat view.
//
// Parsing never fails on malformed input: it degrades to a best-effort result
// with warnings, and every string it returns is valid UTF-8 without NUL bytes.
// The package knows nothing about cases or SQL.
package mail
