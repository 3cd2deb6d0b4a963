package lifecycle

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Command names, as written after '#'.
const (
	CmdStatus   = "status"   // #status open|pending|on_hold|solved (agents)
	CmdSolve    = "solve"    // agents; customers too: the customer is done with the case
	CmdClose    = "close"    // the same as #solve (a customer's word for it)
	CmdPending  = "pending"  // agents
	CmdHold     = "hold"     // agents
	CmdSeverity = "severity" // #severity S1..S4 (agents; customers within their plan)
	CmdAssign   = "assign"   // #assign EMAIL|me (agents)
	CmdInternal = "internal" // the comment is internal (agents)
	CmdMerge    = "merge"    // #merge N: merge this case into case N (agents)
	CmdEscalate = "escalate" // #escalate <reason> (customers)
	CmdRating   = "rating"   // #rating good|bad [comment]: a survey answer (customers)
)

var commandNames = [...]string{CmdStatus, CmdSolve, CmdClose, CmdPending, CmdHold, CmdSeverity, CmdAssign,
	CmdInternal, CmdMerge, CmdEscalate, CmdRating, CmdDiagnostics, CmdConsent, CmdApprove, CmdDeny}

func knownCommand(name string) bool {
	for _, n := range commandNames {
		if n == name {
			return true
		}
	}
	return false
}

// Command is one #command line.
type Command struct {
	Name string // lower case, one of the Cmd names
	Arg  string // the rest of the line, trimmed; "" when none
	Line string // the line as written, trimmed, e.g. "#assign bob@example.com"
}

// ParseCommands splits the #commands off the top of a reply's text.
//
// The command block is the leading lines that are blank or hold one command
// each: '#' (or the full-width '＃' of CJK input methods) right before a known
// command name (any case), then the end of the line, a space or a ':'. The
// first other line ends the block and rest starts there, so that "#1 priority
// is..." or "#solved" (no known name), a quoted "> #solve" and a reply-marker
// line ("##- ... -##") stay text. rest is always a suffix of body (line
// endings, CRLF included, kept); without commands it is body itself. Whether
// a command is allowed is decided by Apply.
func ParseCommands(body string) (cmds []Command, rest string) {
	pos := 0
	for pos < len(body) {
		end := strings.IndexByte(body[pos:], '\n')
		next := len(body)
		if end >= 0 {
			end += pos
			next = end + 1
		} else {
			end = len(body)
		}
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(body[pos:end]), "\ufeff"))
		if line != "" {
			cmd, ok := parseCommand(line)
			if !ok {
				break
			}
			cmds = append(cmds, cmd)
		}
		pos = next
	}
	if len(cmds) == 0 {
		return nil, body
	}
	return cmds, body[pos:]
}

// parseCommand parses one trimmed line.
func parseCommand(line string) (Command, bool) {
	if strings.Contains(line, "##-") && strings.Contains(line, "-##") {
		return Command{}, false
	}
	s, ok := strings.CutPrefix(line, "#")
	if !ok {
		if s, ok = strings.CutPrefix(line, "＃"); !ok {
			return Command{}, false
		}
	}
	n := 0
	for n < len(s) && (s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z') {
		n++
	}
	name := strings.ToLower(s[:n])
	if !knownCommand(name) {
		return Command{}, false
	}
	arg, colon := strings.CutPrefix(s[n:], ":")
	if r, _ := utf8.DecodeRuneInString(arg); !colon && arg != "" && !unicode.IsSpace(r) {
		return Command{}, false // "#solved", "#status-x": not this command
	}
	return Command{Name: name, Arg: strings.TrimSpace(arg), Line: line}, true
}
