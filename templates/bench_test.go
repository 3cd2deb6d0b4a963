package templates

import (
	"testing"
	"time"
)

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender_CommentAdded(b *testing.B) {
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	d := Sample(CommentAdded)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Render("ko", d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender_Kinds renders each kind's sample in Korean, the zone moved
// as the daemon does: the per-notification cost of a new case is
// case_received plus agent_new_case.
func BenchmarkRender_Kinds(b *testing.B) {
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []Kind{CaseReceived, AgentNewCase, CommentAdded, AgentCustomerReplied} {
		b.Run(string(k), func(b *testing.B) {
			d := Sample(k)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.RenderIn("en", seoul, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
