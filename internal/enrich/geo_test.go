package enrich

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// openTestGeo opens a database from the corpus and closes it after the test.
func openTestGeo(t testing.TB, rel string) *Geo {
	t.Helper()

	geo, err := OpenGeo(corpusPath(t, rel))
	if err != nil {
		t.Fatalf("open geo: %v", err)
	}
	t.Cleanup(func() {
		if err := geo.Close(); err != nil {
			t.Errorf("close geo: %v", err)
		}
	})
	return geo
}

func TestGeoCountry(t *testing.T) {
	type lookup struct{ ip, want string }
	// The networks listed for the test databases (SOURCES.md); each
	// database covers a slightly different set.
	common := []lookup{
		{ip: "81.2.69.142", want: "GB"},
		{ip: "81.2.69.160", want: "GB"},
		{ip: "2.125.160.216", want: "GB"},
		{ip: "89.160.20.112", want: "SE"},
		{ip: "89.160.20.200", want: "SE"},
		{ip: "216.160.83.56", want: "US"},
		{ip: "202.196.224.1", want: "PH"},
		{ip: "67.43.156.1", want: "BT"},
		{ip: "2001:218::1", want: "JP"},
		{ip: "2001:220::1", want: "KR"},
		{ip: "::ffff:81.2.69.142", want: "GB"},
		{ip: "1.1.1.1", want: ""},
		{ip: "127.0.0.1", want: ""},
		{ip: "10.0.0.1", want: ""},
		{ip: "::1", want: ""},
	}
	databases := []struct {
		file  string
		extra []lookup
	}{
		{file: "GeoIP2-City-Test.mmdb", extra: []lookup{
			{ip: "175.16.199.1", want: "CN"}, {ip: "214.78.120.1", want: "US"},
			{ip: "214.0.0.1", want: "SG"}, {ip: "214.0.1.1", want: "AU"},
		}},
		{file: "GeoLite2-City-Test.mmdb", extra: []lookup{
			{ip: "175.16.199.1", want: "CN"}, {ip: "214.78.1.1", want: "US"},
		}},
		{file: "GeoIP2-Country-Test.mmdb", extra: []lookup{
			{ip: "175.16.199.1", want: "CN"}, {ip: "214.78.120.1", want: "US"},
		}},
		{file: "GeoLite2-Country-Test.mmdb", extra: []lookup{
			{ip: "50.114.0.1", want: "US"}, {ip: "111.235.160.1", want: "CN"},
			{ip: "217.65.48.1", want: "GI"},
		}},
	}
	for _, database := range databases {
		t.Run(database.file, func(t *testing.T) {
			geo := openTestGeo(t, "maxmind-db/test-data/"+database.file)
			for _, tt := range append(append([]lookup(nil), common...), database.extra...) {
				t.Run(tt.ip, func(t *testing.T) {
					if got := geo.Country(netip.MustParseAddr(tt.ip)); got != tt.want {
						t.Errorf("Country(%s) = %q, want %q", tt.ip, got, tt.want)
					}
				})
			}
		})
	}
}

func TestGeoCountryWithoutData(t *testing.T) {
	geo := openTestGeo(t, "maxmind-db/test-data/GeoIP2-City-Test.mmdb")
	tests := []struct {
		name string
		geo  *Geo
		ip   netip.Addr
	}{
		{name: "nil geo", geo: nil, ip: netip.MustParseAddr("81.2.69.142")},
		{name: "zero address", geo: geo, ip: netip.Addr{}},
		{name: "empty record", geo: geo, ip: netip.MustParseAddr("2.3.3.1")},
		{name: "anycast without country", geo: geo, ip: netip.MustParseAddr("214.1.1.1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.geo.Country(tt.ip); got != "" {
				t.Errorf("Country(%v) = %q, want \"\"", tt.ip, got)
			}
		})
	}

	closed, err := OpenGeo(corpusPath(t, "maxmind-db/test-data/GeoIP2-City-Test.mmdb"))
	if err != nil {
		t.Fatalf("open geo: %v", err)
	}
	if err := closed.Close(); err != nil {
		t.Fatalf("close geo: %v", err)
	}
	if got := closed.Country(netip.MustParseAddr("81.2.69.142")); got != "" {
		t.Errorf("Country after Close = %q, want \"\"", got)
	}
	if err := closed.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestGeoCountryConcurrentWithClose(t *testing.T) {
	geo, err := OpenGeo(corpusPath(t, "maxmind-db/test-data/GeoIP2-City-Test.mmdb"))
	if err != nil {
		t.Fatalf("open geo: %v", err)
	}
	ip := netip.MustParseAddr("81.2.69.142")

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 2000 {
				if got := geo.Country(ip); got != "GB" && got != "" {
					t.Errorf("Country = %q, want GB or \"\"", got)
					return
				}
			}
		})
	}
	if err := geo.Close(); err != nil {
		t.Errorf("close geo: %v", err)
	}
	wg.Wait()
}

func TestOpenGeoRejects(t *testing.T) {
	var files []string
	badDir := corpusPath(t, "maxmind-db/bad-data")
	err := filepath.WalkDir(badDir, func(path string, entry os.DirEntry, err error) error {
		if err == nil && !entry.IsDir() && strings.HasSuffix(path, ".mmdb") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("list bad databases: %v", err)
	}
	for _, name := range []string{
		"GeoIP2-City-Test-Broken-Double-Format.mmdb",
		"GeoIP2-City-Test-Invalid-Node-Count.mmdb",
		"MaxMind-DB-test-broken-pointers-24.mmdb",
		"MaxMind-DB-test-broken-search-tree-24.mmdb",
		// Valid files that hold no countries.
		"GeoLite2-ASN-Test.mmdb",
		"GeoIP2-Anonymous-IP-Test.mmdb",
		"MaxMind-DB-test-ipv4-24.mmdb",
		"MaxMind-DB-test-mixed-24.mmdb",
		"MaxMind-DB-no-ipv4-search-tree.mmdb",
	} {
		files = append(files, corpusPath(t, "maxmind-db/test-data/"+name))
	}
	files = append(files, filepath.Join(t.TempDir(), "missing.mmdb"))
	if len(files) < 30 {
		t.Fatalf("want 30+ files to reject, found %d", len(files))
	}

	rejected := 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			geo, err := OpenGeo(file)
			if err == nil {
				geo.Close()
				t.Errorf("OpenGeo(%s) accepted the file", file)
				return
			}
			rejected++
			if !strings.Contains(err.Error(), file) {
				t.Errorf("error %q does not name the file", err)
			}
			t.Logf("rejected: %v", err)
		})
	}
	t.Logf("OpenGeo rejected %d of %d bad or unsuitable files", rejected, len(files))
}
