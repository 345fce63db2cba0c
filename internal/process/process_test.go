package process

import (
	"testing"
	"time"
)

func TestDayFollowsTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		at   time.Time
		loc  *time.Location
		want int
	}{
		{"utc midnight", time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), time.UTC, 20261204},
		{"late evening utc is next day in berlin",
			time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC), berlin, 20261205},
		{"before the spring change", time.Date(2026, 3, 28, 22, 59, 0, 0, time.UTC), berlin, 20260328},
		{"after the spring change", time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC), berlin, 20260329},
		{"autumn change, first 02:30", time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), berlin, 20261025},
		{"autumn change, last hour", time.Date(2026, 10, 25, 22, 59, 0, 0, time.UTC), berlin, 20261025},
		{"autumn change, next day", time.Date(2026, 10, 25, 23, 0, 0, 0, time.UTC), berlin, 20261026},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Day(tt.at.UnixMilli(), tt.loc); got != tt.want {
				t.Fatalf("Day(%v) = %d, want %d", tt.at, got, tt.want)
			}
		})
	}
}

func TestClockPlacesEvents(t *testing.T) {
	received := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC).UnixMilli()
	tests := []struct {
		name  string
		sent  int64
		event int64
		want  int64
	}{
		{"right clock", received - 20, received - 1020, received - 1000},
		{"clock years ahead", received + 5*365*86400000, received + 5*365*86400000 - 3000,
			received - 3000},
		{"clock behind", received - 3600000, received - 3600000 - 500, received - 500},
		{"event claims to be a week old", received, received - 7*86400000,
			received - maxEventAge.Milliseconds()},
		{"event after the send", received, received + 60000, received},
		{"no time", received, 0, received},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clock{received: received, offset: received - tt.sent}
			if got := c.at(tt.event); got != tt.want {
				t.Fatalf("at = %d, want %d (off by %d ms)", got, tt.want, got-tt.want)
			}
		})
	}
}
