package helpdesk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// BenchmarkDispatch measures notifications per second from the outbox to a
// local SMTP server: 5,000 rows per iteration, with 1 and 4 workers.
func BenchmarkDispatch(b *testing.B) {
	const rows = 5000
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			s := newStore(b)
			r := newRelay(b)
			r.discard = true
			d := newDispatcher(b, s, r, nil, func(c *helpdesk.DispatcherConfig) { c.Workers = workers; c.Poll = 20 * time.Millisecond })
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				now := time.Now()
				var ms []helpdesk.OutMail
				for j := range rows {
					ms = append(ms, outMail(fmt.Sprintf("b%d-%d@example.com", i, j), fmt.Sprintf("c%d@acme.example", j), nil, false, now))
				}
				err := s.WithTx(context.Background(), func(tx *sqlx.Tx) error {
					_, err := helpdesk.EnqueueBatch(context.Background(), tx, ms, nil, helpdesk.Budget{})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				_, before, _ := r.counts()
				b.StartTimer()
				start := time.Now()
				runUntil(b, []*helpdesk.Dispatcher{d}, func() bool { _, total, _ := r.counts(); return total-before >= rows })
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(rows*b.N)/elapsed.Seconds(), "mails/s")
		})
	}
}
