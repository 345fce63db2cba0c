package enrich

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the visitor's address: the connection's remote address,
// or, only when that address is in trusted (the --trusted-proxies setting),
// the right-most address in X-Forwarded-For that is not itself trusted, or
// X-Real-IP when there is no X-Forwarded-For.
//
// Reading from the right matters: every trusted proxy appends the address it
// received the request from, so the entries to the left of the first
// untrusted one are whatever the client chose to send. It returns the zero
// Addr when the remote address cannot be read.
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	remote := parseHostAddr(r.RemoteAddr)
	if !remote.IsValid() || !isTrusted(remote, trusted) {
		return remote
	}

	// Several X-Forwarded-For lines form one list, in order.
	forwarded := r.Header.Values("X-Forwarded-For")
	closest := remote
	for i := len(forwarded) - 1; i >= 0; i-- {
		rest := forwarded[i]
		for rest != "" {
			var entry string
			if comma := strings.LastIndexByte(rest, ','); comma >= 0 {
				entry, rest = rest[comma+1:], rest[:comma]
			} else {
				entry, rest = rest, ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}

			addr := parseHostAddr(entry)
			if !addr.IsValid() {
				// A trusted proxy writes addresses; anything else came from
				// further left, so the closest hop read so far is the best
				// answer.
				return closest
			}
			if !isTrusted(addr, trusted) {
				return addr
			}
			closest = addr
		}
	}
	if len(forwarded) > 0 {
		// Every hop was a trusted address: the visitor is inside the
		// trusted networks.
		return closest
	}

	if realIP := parseHostAddr(strings.TrimSpace(r.Header.Get("X-Real-IP"))); realIP.IsValid() {
		return realIP
	}
	return remote
}

// parseHostAddr reads an address written as "addr", "addr:port" or
// "[addr]:port", with IPv4-mapped IPv6 addresses unmapped and zones dropped.
// It returns the zero Addr for anything else. The port is not checked: only
// the address matters here, and splitting by hand spares the hot path the
// error values a failed parse allocates.
func parseHostAddr(s string) netip.Addr {
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}
		}
		if rest := s[end+1:]; rest != "" && rest[0] != ':' {
			return netip.Addr{}
		}
		s = s[1:end]
	case strings.Count(s, ":") == 1:
		s = s[:strings.IndexByte(s, ':')]
	}

	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap().WithZone("")
}

// isTrusted reports whether addr is inside one of the trusted prefixes.
func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, prefix := range trusted {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// ParsePrefixes reads a list of networks and addresses separated by commas or
// spaces, such as the --trusted-proxies setting "10.0.0.0/8, 127.0.0.1, ::1".
// A single address becomes a /32 or /128 prefix. An empty list gives nil.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	fields := strings.FieldsFunc(list, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})

	var prefixes []netip.Prefix
	for _, field := range fields {
		prefix, err := parsePrefix(field)
		if err != nil {
			return nil, fmt.Errorf("parse prefix %q: %w", field, err)
		}
		prefixes = append(prefixes, prefix)
	}
	return prefixes, nil
}

// parsePrefix reads one network or address. Host bits are cleared, and an
// IPv4-mapped IPv6 network becomes the IPv4 network, since ClientIP compares
// unmapped addresses.
func parsePrefix(field string) (netip.Prefix, error) {
	if !strings.Contains(field, "/") {
		addr, err := netip.ParseAddr(field)
		if err != nil {
			return netip.Prefix{}, err
		}
		addr = addr.Unmap().WithZone("")
		return netip.PrefixFrom(addr, addr.BitLen()), nil
	}

	prefix, err := netip.ParsePrefix(field)
	if err != nil {
		return netip.Prefix{}, err
	}
	if addr := prefix.Addr(); addr.Is4In6() && prefix.Bits() >= 96 {
		prefix = netip.PrefixFrom(addr.Unmap(), prefix.Bits()-96)
	}
	return prefix.Masked(), nil
}
