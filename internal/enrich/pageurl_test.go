package enrich

import (
	"errors"
	"strings"
	"testing"
)

func TestPageKey(t *testing.T) {
	tests := []struct {
		raw     string
		want    string
		wantErr bool
	}{
		{raw: "https://shop.example.com/cart#/step2", want: "shop.example.com/cart#/step2"},
		{raw: "https://WWW.Shop.Example.com/cart/?id=7#/step2/?x=1", want: "shop.example.com/cart#/step2"},
		{raw: "http://example.com", want: "example.com/"},
		{raw: "http://example.com/", want: "example.com/"},
		{raw: "https://example.com//", want: "example.com/"},
		{raw: "https://example.com/blog/post/", want: "example.com/blog/post"},
		{raw: "https://example.com/Blog/Post", want: "example.com/Blog/Post"},
		{raw: "https://example.com/a?utm_source=x&id=1", want: "example.com/a"},
		{raw: "https://example.com/docs#install", want: "example.com/docs"},
		{raw: "https://example.com/#", want: "example.com/"},
		{raw: "https://example.com/#/", want: "example.com/"},
		{raw: "https://example.com/#!/", want: "example.com/"},
		{raw: "https://example.com/app#!/users/42", want: "example.com/app#!/users/42"},
		{raw: "http://localhost:3000/todos#/active", want: "localhost:3000/todos#/active"},
		{raw: "https://example.com:443/x", want: "example.com/x"},
		{raw: "http://example.com:80/x", want: "example.com/x"},
		{raw: "https://example.com:8443/x", want: "example.com:8443/x"},
		{raw: "https://example.com./x", want: "example.com/x"},
		{raw: "https://bücher.example/straße", want: "xn--bcher-kva.example/stra%C3%9Fe"},
		{raw: "https://example.com/caf%c3%a9", want: "example.com/caf%C3%A9"},
		{raw: "https://example.com/%7Euser", want: "example.com/~user"},
		{raw: "https://[2001:db8::1]:8080/x", want: "[2001:db8::1]:8080/x"},
		{raw: "  https://example.com/x  ", want: "example.com/x"},
		{raw: "", wantErr: true},
		{raw: "/relative/path", wantErr: true},
		{raw: "example.com/no-scheme", wantErr: true},
		{raw: "ftp://example.com/file", wantErr: true},
		{raw: "javascript:alert(1)", wantErr: true},
		{raw: "https:///no-host", wantErr: true},
		{raw: "https://exa mple.com/", wantErr: true},
		{raw: "https://example.com/" + strings.Repeat("a", maxPageURLLength), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(truncate(tt.raw, 60), func(t *testing.T) {
			got, err := PageKey(tt.raw)
			if tt.wantErr {
				if err == nil || !errors.Is(err, ErrPageURL) {
					t.Fatalf("PageKey(%q) = %q, %v; want an ErrPageURL error", tt.raw, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("PageKey(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("PageKey(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestUTM(t *testing.T) {
	tests := []struct {
		name                     string
		raw                      string
		source, medium, campaign string
	}{
		{name: "all three",
			raw:    "https://example.com/?utm_source=newsletter&utm_medium=email&utm_campaign=spring+sale",
			source: "newsletter", medium: "email", campaign: "spring sale"},
		{name: "none", raw: "https://example.com/?id=1"},
		{name: "some", raw: "https://example.com/p?utm_source=google", source: "google"},
		{name: "escaped and padded", raw: "https://example.com/?utm_source=%20T%C3%A9l%C3%A9%20&utm_medium=cpc",
			source: "Télé", medium: "cpc"},
		{name: "first value wins", raw: "https://example.com/?utm_source=a&utm_source=b", source: "a"},
		{name: "in a route query", raw: "https://example.com/#/page?utm_source=app&utm_campaign=c",
			source: "app", campaign: "c"},
		{name: "query before route", raw: "https://example.com/?utm_source=q#/page?utm_source=r", source: "q"},
		{name: "malformed pair kept out", raw: "https://example.com/?utm_source=ok&utm_medium=%zz", source: "ok"},
		{name: "cut to length", raw: "https://example.com/?utm_campaign=" + strings.Repeat("x", 500),
			campaign: strings.Repeat("x", maxUTMLength)},
		{name: "unparsable", raw: "http://[::1/?utm_source=x"},
		{name: "empty", raw: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source, medium, campaign := UTM(tt.raw)
			if source != tt.source || medium != tt.medium || campaign != tt.campaign {
				t.Errorf("UTM(%q) = %q, %q, %q; want %q, %q, %q", tt.raw,
					source, medium, campaign, tt.source, tt.medium, tt.campaign)
			}
		})
	}
}
