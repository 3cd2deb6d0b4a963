package lifecycle

import (
	"strings"
	"testing"
)

// BenchmarkMissingDiagnostics: a typical short first mail (the figure that
// matters: it runs for every new case).
func BenchmarkMissingDiagnostics(b *testing.B) {
	subject := "Printer 3 does not print"
	text := strings.Repeat("The printer on the third floor does not print since the update. ", 6) + "\n\nThanks,\nMinsu\n"
	for i := 0; i < b.N; i++ {
		MissingDiagnostics(subject, text, 0)
	}
}
