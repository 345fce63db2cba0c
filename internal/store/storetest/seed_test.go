package storetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"

	"loupe.dev/loupe/internal/store"
)

var tiny = SeedOptions{Seed: 3, Sessions: 400, Clicks: 3000, Days: 5, Timezone: "America/New_York"}

// seed writes opts into a new store and returns a plain connection to it.
func seed(t *testing.T, opts SeedOptions) (*sql.DB, SeedSummary) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "loupe.db")
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Seed(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, sum
}

// TestSeedConsistent checks that what Seed writes adds up: the summary
// counts the rows, each session's counters count its rows, and the heatmap
// roll-ups count the clicks and page views they stand for.
func TestSeedConsistent(t *testing.T) {
	db, sum := seed(t, tiny)
	for _, tt := range []struct {
		query string
		want  int64
	}{
		{`SELECT COUNT(*) FROM sessions`, sum.Sessions},
		{`SELECT COUNT(*) FROM page_views`, sum.PageViews},
		{`SELECT COUNT(*) FROM clicks`, int64(tiny.Clicks)},
		{`SELECT COUNT(*) FROM custom_events`, sum.CustomEvents},
		{`SELECT COUNT(*) FROM page_errors`, sum.Errors},
		{`SELECT COUNT(*) FROM sessions WHERE recording_bytes > 0`, sum.Recorded},
		{`SELECT SUM(page_count) FROM sessions`, sum.PageViews},
		{`SELECT SUM(click_count) FROM sessions`, int64(tiny.Clicks)},
		{`SELECT SUM(event_count) FROM sessions`, sum.CustomEvents},
		{`SELECT SUM(error_count) FROM sessions`, sum.Errors},
		{`SELECT SUM(dead_count) FROM sessions`, count(t, db, `SELECT COUNT(*) FROM clicks
			WHERE dead`)},
		{`SELECT SUM(recording_bytes) FROM sessions`, count(t, db,
			`SELECT SUM(bytes) FROM recording_chunks`)},
		{`SELECT SUM(count) FROM heat_elements`, int64(tiny.Clicks)},
		{`SELECT SUM(count) FROM heat_points WHERE kind = 'click'`, int64(tiny.Clicks)},
		{`SELECT SUM(count) FROM heat_scroll`, count(t, db, `SELECT COUNT(*) FROM page_views
			WHERE max_scroll >= 0`)},
		// Every click is inside its page view's session and after its start.
		{`SELECT COUNT(*) FROM clicks c JOIN sessions s ON s.id = c.session_id
			WHERE c.at < s.started_at OR c.at > s.last_at`, 0},
		{`SELECT COUNT(*) FROM clicks c LEFT JOIN page_views p
			ON p.session_id = c.session_id AND p.pid = c.pid WHERE p.pid IS NULL`, 0},
	} {
		if got := count(t, db, tt.query); got != tt.want {
			t.Errorf("%s = %d, want %d", tt.query, got, tt.want)
		}
	}
	if n := count(t, db, `SELECT COUNT(*) FROM sessions WHERE day < ? OR day > ?`,
		sum.Range.FromDay, sum.Range.ToDay); n != 0 {
		t.Errorf("%d sessions outside the days %d to %d", n, sum.Range.FromDay, sum.Range.ToDay)
	}
	// Rage clicks come in bursts: sessions with one have rage clicks.
	if n := count(t, db, `SELECT COUNT(*) FROM sessions WHERE rage_count > 0`); n == 0 ||
		n != count(t, db, `SELECT COUNT(DISTINCT session_id) FROM clicks WHERE rage`) {
		t.Errorf("%d sessions with rage clicks, not those with rage-flagged clicks", n)
	}
	for _, v := range []string{sum.RareCountry, sum.RareReferrer, sum.RareEvent, sum.UserID,
		sum.RareEntry} {
		if v == "" {
			t.Errorf("summary misses a rare value: %+v", sum)
		}
	}
	if len(sum.Pages) != 50 {
		t.Errorf("%d pages viewed, want 50", len(sum.Pages))
	}
}

// TestSeedDeterministic checks that a seed writes the same rows every time.
func TestSeedDeterministic(t *testing.T) {
	opts := tiny
	opts.Sessions, opts.Clicks = 100, 700
	a, _ := seed(t, opts)
	b, _ := seed(t, opts)
	if da, db := digest(t, a), digest(t, b); da != db {
		t.Errorf("two seeds differ: %s, %s", da, db)
	}
	opts.Seed++
	c, _ := seed(t, opts)
	if digest(t, a) == digest(t, c) {
		t.Error("another seed wrote the same rows")
	}
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n sql.NullInt64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n.Int64
}

// digest hashes every row the seed writes, but the site's random key and
// creation time.
func digest(t *testing.T, db *sql.DB) string {
	t.Helper()
	h := sha256.New()
	for _, table := range []string{"sessions", "page_views", "clicks", "custom_events",
		"page_errors", "recording_chunks", "heat_elements", "heat_points", "heat_scroll"} {
		rows, err := db.Query(`SELECT * FROM ` + table + ` ORDER BY 1, 2, 3, 4, 5`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(h, table, vals)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
