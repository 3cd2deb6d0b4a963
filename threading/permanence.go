package threading

import (
	"regexp"
	"strings"
)

// A bounce that is not an RFC 3464 report has no Action field: qmail's
// "failure notice", Exim's and many appliances' own texts. Such a bounce is
// permanent when its status code is 5.x.x or its text says the delivery
// failed for good ("This is a permanent error; I've given up", "Sorry, I
// couldn't deliver"), unless the text says the server is still trying (a
// delay warning such as qmail's "This is not a permanent error").

// bounceExplanationBytes is how much of a bounce's text is read for those
// phrases: the explanation comes first, the returned message (whose text is
// anyone's) after it.
const bounceExplanationBytes = 4 << 10

var (
	stillTryingRe = regexp.MustCompile(`(?i)not (a )?permanent (error|failure)|(will|shall) (continue to |keep )?(try|retry|attempt)|` +
		`still (be )?(trying|retrying)|will be retried|(delivery|message) (has been |is |was )?delayed|` +
		`delivery delay|has not yet been delivered|not been delivered yet|no action is required`)
	gaveUpRe = regexp.MustCompile(`(?i)permanent(ly)? (fatal )?(error|failure)|failed permanently|permanently (rejected|failed|undeliverable)|` +
		`i'?ve given up|i have given up|sorry,? i couldn'?t (deliver|find)|could not be delivered and will not be retried`)
)

// permanentWithoutAction decides whether a bounce without an RFC 3464 Action
// is a permanent failure, from its status code and its text.
func permanentWithoutAction(status, text string) bool {
	if len(text) > bounceExplanationBytes {
		text = text[:bounceExplanationBytes]
	}
	if stillTryingRe.MatchString(text) {
		return false
	}
	return strings.HasPrefix(status, "5.") || gaveUpRe.MatchString(text)
}
