package process

import (
	"context"
	"testing"

	"loupe.dev/loupe/internal/wire"
)

// BenchmarkHandle writes groups of 128 log messages, one batch each, as the
// consumer hands them over, into a real SQLite file and blob folder. "new"
// is the load a flood of first visits makes (every batch opens a session);
// "mixed" makes half the batches follow-ups of sessions under way, some of
// them opened in the same group; "unrecorded" is "mixed" for sessions not
// sampled for recording, which leaves the SQL store alone to measure.
func BenchmarkHandle(b *testing.B) {
	for _, bb := range []struct {
		name       string
		followUp   float64
		unrecorded bool
	}{
		{"new", 0, false},
		{"mixed", 0.5, false},
		{"unrecorded", 0.5, true},
	} {
		b.Run(bb.name, func(b *testing.B) {
			const group = 128
			tp := newTestProcessor(b)
			l := newLoad(b, tp.site.ID, 1)
			l.unrecorded = bb.unrecorded
			ctx := context.Background()
			var batches int
			for b.Loop() {
				b.StopTimer()
				recs := make([]wire.Record, group)
				for i := range recs {
					recs[i] = l.record(bb.followUp)
				}
				msgs := messages(recs)
				b.StartTimer()

				if err := tp.Handle(ctx, msgs); err != nil {
					b.Fatal(err)
				}
				batches += group
			}
			b.ReportMetric(float64(batches)/b.Elapsed().Seconds(), "batches/s")
		})
	}
}
