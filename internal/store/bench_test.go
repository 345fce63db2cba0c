package store_test

import (
	"context"
	"sync"
	"testing"

	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/store/storetest"
)

// The benchmarks run every dashboard query on a seeded site of 100,000
// sessions, about 300,000 page views and 1,000,000 clicks over 30 days. The
// database is built once and kept in the temporary folder, under a name
// that changes with the seed and the migrations, so later runs start at
// once:
//
//	go test ./internal/store -run '^$' -bench . -benchtime 20x
var bench struct {
	once sync.Once
	path string
	sum  storetest.SeedSummary
	err  error
}

// benchStore opens the seeded benchmark database, building it on first use.
func benchStore(b *testing.B) (*store.Store, storetest.SeedSummary) {
	b.Helper()
	bench.once.Do(func() {
		bench.path, bench.sum, bench.err = storetest.SeededFile(context.Background(),
			storetest.SeedOptions{Seed: 1}, b.Logf)
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	st, err := store.OpenSQLite(context.Background(), bench.path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st, bench.sum
}
