package lifecycle

import (
	"slices"
	"strings"
	"testing"
)

func TestParseCommands(t *testing.T) {
	c := func(name, arg, line string) Command { return Command{Name: name, Arg: arg, Line: line} }
	tests := []struct {
		name string
		body string
		want []Command
		rest string
	}{
		{"one command then the comment", "#solve\nFixed in 2.1.", []Command{c("solve", "", "#solve")}, "Fixed in 2.1."},
		{"Korean text after commands with CRLF", "#status pending\r\n#assign me\r\n\r\n고객님, 로그를 보내 주세요.\r\n감사합니다.\r\n",
			[]Command{c("status", "pending", "#status pending"), c("assign", "me", "#assign me")}, "고객님, 로그를 보내 주세요.\r\n감사합니다.\r\n"},
		{"leading blank lines and any case", "\n\n  #Solve  \n\nText", []Command{c("solve", "", "#Solve")}, "Text"},
		{"a number is no command", "#1 priority is the outage", nil, "#1 priority is the outage"},
		{"an unknown word is no command", "#solved\nok", nil, "#solved\nok"},
		{"a hash and a space is no command", "# solve", nil, "# solve"},
		{"an unknown word ends the block and stays text", "#solve\n#urgent please\n#hold", []Command{c("solve", "", "#solve")}, "#urgent please\n#hold"},
		{"commands only count at the top", "Hello\n#solve", nil, "Hello\n#solve"},
		{"a quoted command is no command", "> #solve\nok", nil, "> #solve\nok"},
		{"a reply marker line is no command", "##- Please type your reply above this line -##\n#solve", nil, "##- Please type your reply above this line -##\n#solve"},
		{"a command with the marker on its line is no command", "#solve ##- Please type your reply above this line -##", nil, "#solve ##- Please type your reply above this line -##"},
		{"the marker ends the block", "#hold\n##- 이 줄 위에 답장을 입력해 주세요 -##\nold", []Command{c("hold", "", "#hold")}, "##- 이 줄 위에 답장을 입력해 주세요 -##\nold"},
		{"full-width hash of CJK input", "＃solve\n完了しました。", []Command{c("solve", "", "＃solve")}, "完了しました。"},
		{"colon after the name", "#status: solved\n#severity:S1", []Command{c("status", "solved", "#status: solved"), c("severity", "S1", "#severity:S1")}, ""},
		{"arguments keep their case and inner spaces", "#escalate  서비스가 계속 중단됩니다  \n#rating bad  too slow", []Command{
			c("escalate", "서비스가 계속 중단됩니다", "#escalate  서비스가 계속 중단됩니다"), c("rating", "bad  too slow", "#rating bad  too slow")}, ""},
		{"tabs and a byte order mark", "\ufeff\t#internal\t\nnote", []Command{c("internal", "", "#internal")}, "note"},
		{"a hash inside the first line is text", "Please see #12", nil, "Please see #12"},
		{"only commands leave no rest", "#solve\n", []Command{c("solve", "", "#solve")}, ""},
		{"every command name", "#status open\n#solve\n#pending\n#hold\n#severity S2\n#assign a@b.example\n#internal\n#merge 12\n#escalate x\n#rating good", []Command{
			c("status", "open", "#status open"), c("solve", "", "#solve"), c("pending", "", "#pending"), c("hold", "", "#hold"),
			c("severity", "S2", "#severity S2"), c("assign", "a@b.example", "#assign a@b.example"), c("internal", "", "#internal"),
			c("merge", "12", "#merge 12"), c("escalate", "x", "#escalate x"), c("rating", "good", "#rating good")}, ""},
		{"empty body", "", nil, ""},
		{"blank body without commands is kept", "\n  \n", nil, "\n  \n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest := ParseCommands(tt.body)
			if !slices.Equal(got, tt.want) {
				t.Errorf("commands\n got %q\nwant %q", got, tt.want)
			}
			if rest != tt.rest {
				t.Errorf("rest %q, want %q", rest, tt.rest)
			}
		})
	}
}

func FuzzParseCommands(f *testing.F) {
	for _, s := range []string{"", "#solve\nx", "#status pending\r\n#assign me\r\n\r\n본문", "> #solve", "#1 x",
		"##- a -##\n#solve", "＃hold\n", "\ufeff#internal", "#merge 12\n#merge", "#\n#", "#status:", "\r\r\n#solve\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		cmds, rest := ParseCommands(body)
		if !strings.HasSuffix(body, rest) {
			t.Fatalf("rest %q is not a suffix of %q", rest, body)
		}
		if len(cmds) == 0 && rest != body {
			t.Fatalf("no commands but rest %q != body", rest)
		}
		n := len(rest)
		for _, c := range cmds {
			if !strings.Contains(body, c.Line) || !knownCommand(c.Name) || !strings.Contains(c.Line, c.Arg) {
				t.Fatalf("command %+v not from %q", c, body)
			}
			if strings.Contains(rest, "\n") && strings.Contains(c.Line, "\n") {
				t.Fatalf("command line spans lines: %q", c.Line)
			}
			n += len(c.Line)
		}
		if n > len(body) {
			t.Fatalf("commands and rest (%d bytes) are more than the input (%d)", n, len(body))
		}
		if again, rest2 := ParseCommands(rest); len(cmds) > 0 && (len(again) != 0 || rest2 != rest) {
			t.Fatalf("the rest %q still starts with commands %q", rest, again)
		}
	})
}
