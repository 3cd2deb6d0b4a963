// Package mail parses inbound MIME messages into a safe, flat view.
//
// Guarantees:
//   - Parse never fails on malformed input: a header line without a colon, an
//     unknown transfer encoding or charset, a multipart without boundary or
//     close delimiter, broken base64 or quoted-printable all degrade to a
//     best-effort result with Warnings. It returns an error only when reading
//     its input or the caller's AttachmentSink fails.
//   - Every string it returns is valid UTF-8 without NUL bytes: undeclared or
//     wrongly declared 8-bit text is read by its bytes (see SafeString): UTF-8
//     with only its invalid bytes replaced, EUC-KR/CP949, Shift_JIS,
//     ISO-2022-JP, KOI8-R/CP1251, GB18030, else windows-1252; what was
//     guessed is listed in Message.CharsetGuesses.
//   - Attachments stream: with an AttachmentSink, memory use does not grow
//     with attachment size. Text and HTML bodies are kept in memory, capped.
//   - A message without a usable Message-ID gets a stable synthetic one,
//     derived from its content, so a second delivery gets the same id.
//   - Parse does not keep the raw bytes; the caller stores them.
//
// Headers and MIME structure are read by a lenient reader of this package;
// charsets are decoded with github.com/emersion/go-message/charset and
// address lists with go-message's parser, with a lenient fallback. The
// package knows nothing about cases or SQL.
package mail
