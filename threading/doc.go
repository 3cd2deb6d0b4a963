// Package threading holds the pure decisions of the helpdesk's email channel:
// how an inbound message is classified (human, auto-reply, bounce, list, loop),
// which case it belongs to, and the reply tokens and subject tags that carry a
// case number through a mail client.
//
// It imports no other package of this module and does no I/O: every function
// is a deterministic function of its arguments (time is passed in, never read).
package threading
