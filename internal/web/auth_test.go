package web

import (
	"strings"
	"testing"
	"time"
)

func TestPasswordHash(t *testing.T) {
	h, err := hashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not argon2id with the chosen parameters", h)
	}
	h2, _ := hashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	if !checkPassword(h, "correct horse battery") {
		t.Error("the right password is refused")
	}
	for _, wrong := range []string{"", "correct horse batter", "Correct horse battery"} {
		if checkPassword(h, wrong) {
			t.Errorf("%q accepted", wrong)
		}
	}
	for _, bad := range []string{"", "$argon2id$", "$2a$10$abcdefghijklmnopqrstuv",
		strings.Replace(h, "m=19456", "m=99999999", 1), strings.Replace(h, "v=19", "v=16", 1)} {
		if checkPassword(bad, "correct horse battery") {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(time.Minute, 3)
	now := time.Unix(1_800_000_000, 0)
	for i := range 3 {
		if !l.allow("a", now) {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	if l.allow("a", now) {
		t.Error("fourth attempt allowed")
	}
	if !l.allow("b", now) {
		t.Error("another key is throttled too")
	}
	if !l.allow("a", now.Add(61*time.Second)) {
		t.Error("no attempt after the interval")
	}
	if l.allow("a", now.Add(62*time.Second)) {
		t.Error("more than one attempt regained per interval")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/sites/abc/overview?from=x": "/sites/abc/overview?from=x",
		"":                           "/sites",
		"//evil.example/":            "/sites",
		"/\\evil.example":            "/sites",
		"https://evil.example/":      "/sites",
		"javascript:alert(1)":        "/sites",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1\u202f000",
		1234567: "1\u202f234\u202f567", -4500: "-4\u202f500"} {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", n, got, want)
		}
	}
	for secs, want := range map[float64]string{0: "0 s", 59.4: "59 s", 61: "1 min 1 s",
		3725: "1 h 2 min"} {
		if got := formatDuration(secs); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", secs, got, want)
		}
	}
}

func TestSelectorTail(t *testing.T) {
	for in, want := range map[string]string{
		"#buy":                                   "#buy",
		"main > a.btn":                           "main > a.btn",
		"#page-top > header > div.container > a": "… div.container > a",
		"body > div:nth-child(3) > p > span.price": "… p > span.price",
	} {
		if got := selectorTail(in); got != want {
			t.Errorf("selectorTail(%q) = %q, want %q", in, got, want)
		}
	}
}
