package templates

import "testing"

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
