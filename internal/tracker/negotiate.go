package tracker

import (
	"strconv"
	"strings"
)

// negotiate picks the content coding for an answer from the Accept-Encoding
// header lines: "br", "gzip" or "" for identity. The highest q-value wins;
// among equals brotli beats gzip (smaller) and gzip beats identity. q=0
// refuses a coding, "*" stands for every coding not named, and identity is
// acceptable unless refused, though when it is not named it comes last: a
// client that lists a coding wants it. When even identity is refused the
// answer is identity all the same: a script the browser cannot decode helps
// no one.
func negotiate(lines []string) string {
	q := map[string]float64{}
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ",") {
			coding, weight, ok := parseCoding(part)
			if !ok {
				continue
			}
			if coding == "x-gzip" {
				coding = "gzip"
			}
			q[coding] = weight
		}
	}

	weightOf := func(coding string) float64 {
		if w, ok := q[coding]; ok {
			return w
		}
		if w, ok := q["*"]; ok {
			return w
		}
		if coding == "identity" {
			return 0.001 // the smallest q-value a client can write
		}
		return 0
	}

	best, bestWeight := "", 0.0
	// In order of preference: a later coding must weigh strictly more.
	for _, coding := range []string{"br", "gzip", "identity"} {
		if w := weightOf(coding); w > bestWeight {
			best, bestWeight = coding, w
		}
	}
	if best == "identity" {
		return ""
	}
	return best
}

// parseCoding reads one element of Accept-Encoding, such as "gzip;q=0.8".
// An element with a malformed q-value is skipped, as the RFC allows.
func parseCoding(part string) (coding string, weight float64, ok bool) {
	coding, params, _ := strings.Cut(part, ";")
	coding = strings.ToLower(strings.TrimSpace(coding))
	if coding == "" {
		return "", 0, false
	}
	weight = 1
	for param := range strings.SplitSeq(params, ";") {
		name, value, found := strings.Cut(param, "=")
		if !found || !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || w < 0 || w > 1 {
			return "", 0, false
		}
		weight = w
	}
	return coding, weight, true
}

// etagMatch reports whether an If-None-Match header lists etag, by the weak
// comparison RFC 9110 prescribes for it: a W/ prefix is ignored.
func etagMatch(lines []string, etag string) bool {
	for _, line := range lines {
		rest := line
		for {
			rest = strings.TrimLeft(rest, " \t,")
			if rest == "" {
				break
			}
			if rest[0] == '*' {
				return true
			}
			rest = strings.TrimPrefix(rest, "W/")
			if rest == "" || rest[0] != '"' {
				break // malformed; ignore the rest of the line
			}
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				break
			}
			if rest[:end+2] == etag {
				return true
			}
			rest = rest[end+2:]
		}
	}
	return false
}
