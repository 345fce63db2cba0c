package enrich

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted, err := ParsePrefixes("10.0.0.0/8, 127.0.0.1, ::1, fd00::/8")
	if err != nil {
		t.Fatalf("parse prefixes: %v", err)
	}
	tests := []struct {
		name      string
		remote    string
		forwarded []string
		realIP    string
		trusted   []netip.Prefix
		want      string
	}{
		{name: "direct visitor", remote: "203.0.113.7:5123", want: "203.0.113.7"},
		{name: "spoofed header from untrusted peer", remote: "203.0.113.7:5123",
			forwarded: []string{"1.2.3.4"}, realIP: "5.6.7.8", trusted: trusted, want: "203.0.113.7"},
		{name: "no trusted proxies configured", remote: "10.0.0.2:80",
			forwarded: []string{"198.51.100.9"}, want: "10.0.0.2"},
		{name: "one trusted proxy", remote: "10.0.0.2:80",
			forwarded: []string{"198.51.100.9"}, trusted: trusted, want: "198.51.100.9"},
		{name: "trusted chain", remote: "127.0.0.1:80",
			forwarded: []string{"198.51.100.9, 10.1.1.1, 10.2.2.2"}, trusted: trusted, want: "198.51.100.9"},
		{name: "client spoofs the left of the chain", remote: "10.0.0.2:80",
			forwarded: []string{"6.6.6.6, 198.51.100.9"}, trusted: trusted, want: "198.51.100.9"},
		{name: "chain split over header lines", remote: "10.0.0.2:80",
			forwarded: []string{"6.6.6.6, 198.51.100.9", "10.3.3.3"}, trusted: trusted, want: "198.51.100.9"},
		{name: "garbage left of the first untrusted hop", remote: "10.0.0.2:80",
			forwarded: []string{"not-an-ip, 198.51.100.9"}, trusted: trusted, want: "198.51.100.9"},
		{name: "garbage written as a hop", remote: "10.0.0.2:80",
			forwarded: []string{"198.51.100.9, bogus, 10.1.1.1"}, trusted: trusted, want: "10.1.1.1"},
		{name: "every hop trusted", remote: "10.0.0.2:80",
			forwarded: []string{"10.9.9.9, 10.1.1.1"}, trusted: trusted, want: "10.9.9.9"},
		{name: "hops with ports and brackets", remote: "[::1]:443",
			forwarded: []string{"[2001:db8::5]:1234, 10.1.1.1:80"}, trusted: trusted, want: "2001:db8::5"},
		{name: "empty entries skipped", remote: "10.0.0.2:80",
			forwarded: []string{" , 198.51.100.9 ,, "}, trusted: trusted, want: "198.51.100.9"},
		{name: "X-Real-IP from trusted proxy", remote: "10.0.0.2:80",
			realIP: "198.51.100.10", trusted: trusted, want: "198.51.100.10"},
		{name: "invalid X-Real-IP", remote: "10.0.0.2:80",
			realIP: "nope", trusted: trusted, want: "10.0.0.2"},
		{name: "IPv4-mapped remote is unmapped", remote: "[::ffff:10.0.0.2]:80",
			forwarded: []string{"198.51.100.9"}, trusted: trusted, want: "198.51.100.9"},
		{name: "IPv6 remote with zone", remote: "[fe80::1%eth0]:80", want: "fe80::1"},
		{name: "remote without port", remote: "203.0.113.7", want: "203.0.113.7"},
		{name: "unreadable remote", remote: "@",
			forwarded: []string{"1.2.3.4"}, trusted: trusted, want: "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/i", nil)
			r.RemoteAddr = tt.remote
			for _, line := range tt.forwarded {
				r.Header.Add("X-Forwarded-For", line)
			}
			if tt.realIP != "" {
				r.Header.Set("X-Real-IP", tt.realIP)
			}

			if got := ClientIP(r, tt.trusted).String(); got != tt.want {
				t.Errorf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	tests := []struct {
		name    string
		list    string
		want    []string
		wantErr bool
	}{
		{name: "empty", list: "", want: nil},
		{name: "blank", list: " , ", want: nil},
		{name: "mixed", list: "10.0.0.0/8, 127.0.0.1 ::1\tfd00::/8",
			want: []string{"10.0.0.0/8", "127.0.0.1/32", "::1/128", "fd00::/8"}},
		{name: "host bits cleared", list: "192.168.1.77/24", want: []string{"192.168.1.0/24"}},
		{name: "IPv4-mapped", list: "::ffff:10.0.0.0/104, ::ffff:1.2.3.4",
			want: []string{"10.0.0.0/8", "1.2.3.4/32"}},
		{name: "bad address", list: "10.0.0.0/8, 300.1.1.1", wantErr: true},
		{name: "bad bits", list: "10.0.0.0/33", wantErr: true},
		{name: "hostname", list: "proxy.internal", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefixes, err := ParsePrefixes(tt.list)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParsePrefixes(%q) = %v, want an error", tt.list, prefixes)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrefixes(%q): %v", tt.list, err)
			}

			var got []string
			for _, prefix := range prefixes {
				got = append(got, prefix.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParsePrefixes(%q) = %v, want %v", tt.list, got, tt.want)
			}
		})
	}
}
