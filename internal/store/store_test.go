package store

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"sync"
	"testing"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "loupe.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSitesAndTokens(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := &Site{Domains: []string{"shop.example.com"}, Timezone: "Europe/Paris"}
	b := &Site{Domains: []string{"blog.example.org"}}
	for _, site := range []*Site{a, b} {
		if err := s.CreateSite(ctx, site); err != nil {
			t.Fatal(err)
		}
	}
	if a.ID == b.ID || a.Key == b.Key || len(a.Key) != 12 {
		t.Fatalf("sites not distinct: %+v %+v", a, b)
	}
	got, err := s.SiteByKey(ctx, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID || got.Domains[0] != "shop.example.com" || got.Timezone != "Europe/Paris" ||
		got.SampleRate != 0 || got.RetentionDays != 365 {
		t.Fatalf("SiteByKey = %+v", got)
	}
	if _, err := s.SiteByKey(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown key: err = %v", err)
	}
	if err := s.CreateSite(ctx, &Site{Domains: []string{"x.example"}, Timezone: "Mars/Base"}); err == nil {
		t.Fatal("bad time zone accepted")
	}

	token, err := s.CreateToken(ctx, "ci", []int64{a.ID})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := s.TokenSites(ctx, token)
	if err != nil || len(ids) != 1 || ids[0] != a.ID {
		t.Fatalf("TokenSites = %v, %v", ids, err)
	}
	if _, err := s.TokenSites(ctx, token+"x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown token: err = %v", err)
	}

	changed, err := s.SitesChangedSince(ctx, 0)
	if err != nil || len(changed) != 2 {
		t.Fatalf("SitesChangedSince(0) = %d sites, %v", len(changed), err)
	}
}

// TestTwoProcessesWrite opens the same file twice, as `loupe sites add` does
// beside a running server, and writes from both at once.
func TestTwoProcessesWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "loupe.db")
	one, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	two, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer two.Close()

	var wg sync.WaitGroup
	for i, s := range []*Store{one, two, one, two} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				err := s.Write(ctx, func(tx *Tx) error {
					_, err := tx.ClaimBatches([]BatchKey{{SessionID: int64(i + 1),
						Seq: int64(j + 1)}})
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var n int
	if err := one.read.QueryRow(`SELECT COUNT(*) FROM batches`).Scan(&n); err != nil || n != 80 {
		t.Fatalf("batches = %d, %v; want 80", n, err)
	}
}

func TestClaimBatchesOnce(t *testing.T) {
	s := openTest(t)
	a, b, c := BatchKey{7, 1}, BatchKey{7, 2}, BatchKey{8, 1}
	var first, second map[BatchKey]bool
	err := s.Write(context.Background(), func(tx *Tx) error {
		var err error
		if first, err = tx.ClaimBatches([]BatchKey{a, b, a}); err != nil {
			return err
		}
		second, err = tx.ClaimBatches([]BatchKey{b, c})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(first, map[BatchKey]bool{a: true, b: true}) {
		t.Errorf("first claims = %v, want %v and %v once each", first, a, b)
	}
	if !maps.Equal(second, map[BatchKey]bool{c: true}) {
		t.Errorf("second claims = %v, want only %v", second, c)
	}
}

func TestMigrateTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "loupe.db")
	for range 2 {
		s, err := OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

// TestPragmas checks the settings each connection opens with: above all a
// sync on every commit, which the log's promise to the browser rests on.
func TestPragmas(t *testing.T) {
	s := openTest(t)
	for _, tt := range []struct {
		pragma string
		want   string
	}{
		{"synchronous", "2"}, // FULL
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"cache_size", "-65536"},
		{"wal_autocheckpoint", "10000"},
		{"mmap_size", "268435456"},
	} {
		t.Run(tt.pragma, func(t *testing.T) {
			var got string
			if err := s.write.QueryRow(`PRAGMA ` + tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
			}
		})
	}
}
