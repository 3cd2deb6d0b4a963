package lifecycle

import (
	"strings"
	"testing"
	"time"
)

func BenchmarkApply_CustomerReopensSolvedCase(b *testing.B) {
	c, p := caseIn(Solved), DefaultPolicy()
	ev := Event{Kind: CustomerReply, Text: "Thanks, but it still fails with error 42 after the update."}
	for b.Loop() {
		Apply(c, ev, p, now)
	}
}

func BenchmarkTimers_SeoulBusinessHoursSLA(b *testing.B) {
	p := DefaultPolicy()
	p.SLA = seoulSLA(b)
	c := NewCase(S3, PlanBasic, time.Date(2026, time.November, 20, 17, 0, 0, 0, p.SLA.Hours.Location), p)
	at := c.FirstResponseDue.Add(-time.Hour)
	for b.Loop() {
		Timers(c, p, at)
	}
}

func BenchmarkFirstResponseDue_OverAWeekendAndHolidays(b *testing.B) {
	p := seoulSLA(b, Date{2026, time.November, 23}, Date{2026, time.November, 24})
	created := time.Date(2026, time.November, 20, 17, 0, 0, 0, p.Hours.Location)
	for b.Loop() {
		FirstResponseDue(S3, created, p)
	}
}

func BenchmarkParseCommands_AgentReply(b *testing.B) {
	body := "#status pending\r\n#assign me\r\n#severity S2\r\n\r\n" + strings.Repeat("고객님, 로그를 보내 주세요.\r\n", 40)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		ParseCommands(body)
	}
}

func BenchmarkIsThankYou(b *testing.B) {
	for _, s := range []string{"Hi Sarah,\n\nThanks a lot, that fixed it!\n\nBest regards,\nTom", "정말감사합니다. 좋은 하루 되세요.",
		strings.Repeat("This is a long reply that says a lot more than thanks. ", 20)} {
		b.Run(strings.Fields(s)[0], func(b *testing.B) {
			for b.Loop() {
				IsThankYou(s)
			}
		})
	}
}
