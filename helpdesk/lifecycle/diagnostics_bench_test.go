package lifecycle

import (
	"strings"
	"testing"
)

// BenchmarkMissingDiagnostics: short first mails (the figure that matters:
// it runs for every new case).
func BenchmarkMissingDiagnostics(b *testing.B) {
	for _, m := range []struct{ name, subject, text string }{
		{"plain", "Printer 3 does not print",
			strings.Repeat("The printer on the third floor does not print since the update. ", 6) + "\n\nThanks,\nMinsu\n"},
		{"time-and-error", "Slow response times on the API since Monday",
			"Hello support team,\n\nsince this morning the problem described in the subject keeps happening on three of our machines.\n\n" +
				"We restarted the service and cleared the cache, but nothing changed. The error log says \"connection reset by peer\".\n\n" +
				"Our account number is ACME-4711 and the contract runs until the end of the year.\n\n-- \nAlice Walker\n"},
		{"ko", "청구서 10234 금액 오류 문의",
			"안녕하세요, 지원팀 여러분.\n\n오늘 아침부터 제목에 적은 문제가 계속 발생하고 있습니다.\n\n서비스를 재시작하고 캐시도 지웠지만 달라진 것이 없습니다.\n\n-- \n김민준\n"},
	} {
		b.Run(m.name, func(b *testing.B) {
			for b.Loop() {
				MissingDiagnostics(m.subject, m.text, 0)
			}
		})
	}
}
