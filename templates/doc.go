// Package templates renders the helpdesk's notification mails (subject, plain
// text and HTML; English and Korean) from embedded templates with typed data.
//
// Each notification Kind has one data type (<Kind>Data, embedding Base);
// Render refuses any other type. Guarantees:
//
//   - New parses every template of every kind, locale and part, applies the
//     operator's overrides (Options.OverrideDir, laid out like tmpl/), and
//     executes each against the kind's samples (one per status, reason and
//     target the templates branch on). A missing or broken template, a field
//     the data type lacks, or a misspelt override file fails New, naming the
//     file. Only a branch no sample takes escapes this check. Templates run
//     with missingkey=error.
//   - The recipient's locale is used when supported ("ko-KR" counts as
//     "ko"), else the configured default.
//   - The subject is one line and ends with the case tag "[Case #N]" (the
//     same in every locale; threading parses it back), added in code unless
//     already present; a mail about no case has no tag.
//   - Text and HTML begin with the reply marker line, added in code:
//     "##- Please type your reply above this line -##" or
//     "##- 이 줄 위에 답장을 입력해 주세요 -##"; the HTML follows it with a hidden
//     <div id="helpdesk-reply-marker">.
//   - {{memo "name" .Value}} renders the file's own definition "name" once
//     per distinct value and reuses the output (the severity guide and the
//     diagnostics list of an acknowledgement); values holding pointers or
//     times render every time. Overrides may use it the same way.
//   - User text (comments, subjects, names) is escaped in HTML, its line
//     breaks kept as <br>; quotes of previous messages are shortened.
//
// The package does no I/O after New and imports only the standard library.
package templates
