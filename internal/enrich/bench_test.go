package enrich

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
)

const benchUserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 " +
	"(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"

func BenchmarkParse(b *testing.B) {
	hints := Hints{
		UA:       `"Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"`,
		Mobile:   "?0",
		Platform: `"Windows"`, PlatformVersion: `"15.0.0"`,
	}

	b.Run("cached", func(b *testing.B) {
		parser := newTestParser(b)
		parser.Parse(benchUserAgent, hints)
		b.ReportAllocs()
		for b.Loop() {
			parser.Parse(benchUserAgent, hints)
		}
	})
	b.Run("cached parallel", func(b *testing.B) {
		parser := newTestParser(b)
		parser.Parse(benchUserAgent, hints)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				parser.Parse(benchUserAgent, hints)
			}
		})
	})
	b.Run("uncached", func(b *testing.B) {
		parser := newTestParser(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			// A new version each time defeats both caches.
			i++
			parser.Parse(benchUserAgent+" Build/"+strconv.Itoa(i), hints)
		}
	})
}

func BenchmarkClientIP(b *testing.B) {
	trusted, err := ParsePrefixes("10.0.0.0/8, 172.16.0.0/12, 127.0.0.1, ::1")
	if err != nil {
		b.Fatalf("parse prefixes: %v", err)
	}
	tests := []struct {
		name      string
		remote    string
		forwarded string
	}{
		{name: "direct", remote: "203.0.113.7:5123"},
		{name: "behind two proxies", remote: "10.0.0.2:80", forwarded: "198.51.100.9, 172.16.5.5"},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodPost, "/i", nil)
			r.RemoteAddr = tt.remote
			if tt.forwarded != "" {
				r.Header.Set("X-Forwarded-For", tt.forwarded)
			}
			b.ReportAllocs()
			for b.Loop() {
				if !ClientIP(r, trusted).IsValid() {
					b.Fatal("no address")
				}
			}
		})
	}
}

func BenchmarkCountry(b *testing.B) {
	geo := openTestGeo(b, "maxmind-db/test-data/GeoIP2-City-Test.mmdb")
	tests := []struct {
		name string
		ip   netip.Addr
	}{
		{name: "found", ip: netip.MustParseAddr("81.2.69.142")},
		{name: "not found", ip: netip.MustParseAddr("1.1.1.1")},
		{name: "IPv6", ip: netip.MustParseAddr("2001:218::1")},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				geo.Country(tt.ip)
			}
		})
	}
	b.Run("found parallel", func(b *testing.B) {
		ip := netip.MustParseAddr("81.2.69.142")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				geo.Country(ip)
			}
		})
	})
}

func BenchmarkParseReferrer(b *testing.B) {
	ParseReferrer("https://semalt.com/", nil)
	b.ReportAllocs()
	for b.Loop() {
		ParseReferrer("https://www.google.co.uk/search?q=loupe", []string{"example.com"})
	}
}

func BenchmarkPageKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PageKey("https://www.shop.example.com/cart/?id=7#/step2"); err != nil {
			b.Fatal(err)
		}
	}
}
