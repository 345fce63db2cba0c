package enrich

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Geo answers which country an address is in, from a MaxMind DB file of the
// City or Country kind (GeoLite2, GeoIP2, or another database with the same
// layout). It is safe for concurrent use.
type Geo struct {
	// mu keeps Close from unmapping the file while a look-up reads it.
	mu     sync.RWMutex
	reader *maxminddb.Reader
	// countryPath is kept here so a look-up does not build it anew.
	countryPath []any
	// codes holds the *string each look-up decodes into: handing the
	// decoder a pointer would otherwise cost an allocation per look-up.
	codes sync.Pool
}

// geoProbeRecords is how many records OpenGeo decodes to check the layout.
const geoProbeRecords = 64

// OpenGeo opens and fully verifies a MaxMind DB file. It rejects a file
// that is corrupt anywhere, not just where a first look-up would read, and a
// database that does not hold countries, so that a bad download fails at
// start-up instead of at some visitor's address.
func OpenGeo(path string) (*Geo, error) {
	reader, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open geo database %s: %w", path, err)
	}

	if err := checkGeo(reader); err != nil {
		closeErr := reader.Close()
		return nil, errors.Join(fmt.Errorf("check geo database %s: %w", path, err), closeErr)
	}

	geo := &Geo{reader: reader, countryPath: []any{"country", "iso_code"}}
	geo.codes.New = func() any { return new(string) }
	return geo, nil
}

// checkGeo verifies the whole file, then checks that it is a City or Country
// database whose records decode the way Country reads them.
func checkGeo(reader *maxminddb.Reader) error {
	if err := reader.Verify(); err != nil {
		return fmt.Errorf("verify: %w", err)
	}

	kind := reader.Metadata.DatabaseType
	if !strings.Contains(kind, "City") && !strings.Contains(kind, "Country") &&
		!strings.Contains(kind, "Enterprise") {
		return fmt.Errorf("database type %q is not a City or Country database", kind)
	}

	probed, withCountry := 0, 0
	for result := range reader.Networks() {
		var record struct {
			Country struct {
				ISOCode string `maxminddb:"iso_code"`
			} `maxminddb:"country"`
		}
		if err := result.Decode(&record); err != nil {
			return fmt.Errorf("decode record for %s: %w", result.Prefix(), err)
		}
		if record.Country.ISOCode != "" {
			withCountry++
		}
		probed++
		if probed == geoProbeRecords {
			break
		}
	}
	if withCountry == 0 {
		return fmt.Errorf("none of the first %d records has a country", probed)
	}

	return nil
}

// Country returns the ISO 3166-1 alpha-2 code of the country ip is in, such
// as "GB". It returns "" when the address is not in the database, the record
// has no country (anycast and satellite networks), the Geo is nil or closed,
// or the record cannot be read.
func (g *Geo) Country(ip netip.Addr) string {
	if g == nil || !ip.IsValid() {
		return ""
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.reader == nil {
		return ""
	}

	result := g.reader.Lookup(ip.Unmap())
	if !result.Found() {
		return ""
	}
	code := g.codes.Get().(*string)
	defer g.codes.Put(code)
	*code = ""
	if err := result.DecodePath(code, g.countryPath...); err != nil {
		return ""
	}
	return *code
}

// Close releases the database file. Country answers "" afterwards.
func (g *Geo) Close() error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reader == nil {
		return nil
	}

	err := g.reader.Close()
	g.reader = nil
	if err != nil {
		return fmt.Errorf("close geo database: %w", err)
	}
	return nil
}
