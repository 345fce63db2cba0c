package web

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"loupe.dev/loupe/internal/store"
)

func TestDateRange(t *testing.T) {
	site := &store.Site{Timezone: "Europe/Berlin"}
	now := time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC) // 5 December in Berlin
	for _, tt := range []struct {
		query      string
		from, to   int
		wantStatus int
	}{
		{"", 20261106, 20261205, 0},
		{"?from=2026-11-01&to=2026-11-30", 20261101, 20261130, 0},
		{"?to=2026-02-28", 20260130, 20260228, 0},
		{"?from=0202-01-01&to=2026-01-01", 0, 0, 400},
		{"?from=2026-12-05&to=2026-12-04", 0, 0, 400},
		{"?from=2020-01-01&to=2026-01-01", 0, 0, 400},
		{"?from=yesterday", 0, 0, 400},
	} {
		r := httptest.NewRequest("GET", "/x"+tt.query, nil)
		rng, err := dateRange(r, site, now)
		var ce *clientError
		switch {
		case tt.wantStatus != 0:
			if !errors.As(err, &ce) || ce.status != tt.wantStatus {
				t.Errorf("%s: error %v, want a %d", tt.query, err, tt.wantStatus)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.query, err)
		case rng.FromDay != tt.from || rng.ToDay != tt.to:
			t.Errorf("%s: days %d to %d, want %d to %d", tt.query, rng.FromDay, rng.ToDay,
				tt.from, tt.to)
		}
	}
}
