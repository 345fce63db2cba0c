// Package config owns Loupe's settings: the Config struct, its command-line
// flags, the LOUPE_* environment variables behind them, defaults and
// validation. It reads no files and starts nothing.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"loupe.dev/loupe/internal/enrich"
)

// Config is everything `loupe serve` can be told. Each field names its flag,
// its environment variable and its default; a flag wins over the variable.
type Config struct {
	// Addr is the HTTP listen address. --addr, LOUPE_ADDR, default ":8080".
	Addr string
	// Data is the folder for the embedded stores (SQLite file, log, blobs).
	// --data, LOUPE_DATA, default "./loupe-data".
	Data string
	// Roles picks what this process runs: any of ingest, process, web, or all.
	// --roles, LOUPE_ROLES, default "all".
	Roles []string
	// GeoIPDB is a MaxMind City or Country database used to find a visitor's
	// country; empty disables countries. --geoip-db, LOUPE_GEOIP_DB, default "".
	GeoIPDB string
	// ReferrerSpamList is a file of referrer-spam host names, one a line (the
	// format of Matomo's referrer-spam-list); visits they refer are dropped.
	// --referrer-spam-list, LOUPE_REFERRER_SPAM_LIST, default "" (none).
	ReferrerSpamList string
	// TrustedProxies lists the proxies whose X-Forwarded-For is believed, as
	// addresses or CIDR prefixes separated by commas. --trusted-proxies,
	// LOUPE_TRUSTED_PROXIES, default "" (believe no forwarded header).
	TrustedProxies []netip.Prefix
	// MaxBody bounds a compressed ingest body in bytes. --max-body,
	// LOUPE_MAX_BODY, default 4 MiB.
	MaxBody int64
	// MaxBatch bounds a decompressed ingest body in bytes. --max-batch,
	// LOUPE_MAX_BATCH, default 16 MiB.
	MaxBatch int64
	// SiteRefresh is how often the site cache looks for new or changed sites.
	// --site-refresh, LOUPE_SITE_REFRESH, default 2s.
	SiteRefresh time.Duration
	// LogFormat is text, json or auto (text on a terminal, JSON otherwise).
	// --log-format, LOUPE_LOG_FORMAT, default "auto".
	LogFormat string
	// PublicURL is where browsers reach this server, for the snippet and the
	// setup link; empty means http://localhost and the listen port.
	// --public-url, LOUPE_PUBLIC_URL, default "".
	PublicURL string
	// LogLevel is debug, info, warn or error. --log-level, LOUPE_LOG_LEVEL,
	// default "info".
	LogLevel string
}

// Default returns the settings `loupe serve` uses when told nothing.
func Default() Config {
	return Config{
		Addr:        ":8080",
		Data:        "./loupe-data",
		Roles:       []string{RoleIngest, RoleProcess, RoleWeb},
		MaxBody:     4 << 20,
		MaxBatch:    16 << 20,
		SiteRefresh: 2 * time.Second,
		LogFormat:   "auto",
		LogLevel:    "info",
	}
}

// The roles a process can run.
const (
	RoleIngest  = "ingest"
	RoleProcess = "process"
	RoleWeb     = "web"
)

// Has reports whether the process runs role.
func (c *Config) Has(role string) bool {
	for _, r := range c.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Paths inside the data folder.
func (c *Config) SQLitePath() string { return filepath.Join(c.Data, "loupe.db") }

// LogDir is where the embedded log keeps its files.
func (c *Config) LogDir() string { return filepath.Join(c.Data, "log") }

// BlobDir is where recording chunks are kept.
func (c *Config) BlobDir() string { return filepath.Join(c.Data, "blobs") }

// Flags registers every serve flag on fs, with defaults taken from the
// environment, and returns a function that finishes parsing into a Config
// once fs.Parse has run, reporting every problem at once.
func Flags(fs *flag.FlagSet, getenv func(string) string) func() (Config, error) {
	c := Default()
	var problems []error
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	envDuration := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", name, err))
			return def
		}
		return d
	}
	fs.StringVar(&c.Addr, "addr", env("LOUPE_ADDR", c.Addr), "HTTP listen address (LOUPE_ADDR)")
	fs.StringVar(&c.Data, "data", env("LOUPE_DATA", c.Data),
		"folder for the embedded stores: SQLite file, log and blobs (LOUPE_DATA)")
	roles := fs.String("roles", env("LOUPE_ROLES", "all"),
		"roles this process runs: all, or a comma list of ingest, process, web (LOUPE_ROLES)")
	fs.StringVar(&c.GeoIPDB, "geoip-db", env("LOUPE_GEOIP_DB", ""),
		"MaxMind City or Country database for visitor countries; empty disables (LOUPE_GEOIP_DB)")
	fs.StringVar(&c.ReferrerSpamList, "referrer-spam-list", env("LOUPE_REFERRER_SPAM_LIST", ""),
		"file of referrer-spam host names, one a line; visits they refer are dropped "+
			"(LOUPE_REFERRER_SPAM_LIST)")
	proxies := fs.String("trusted-proxies", env("LOUPE_TRUSTED_PROXIES", ""),
		"comma list of proxy addresses or CIDR prefixes whose X-Forwarded-For is believed "+
			"(LOUPE_TRUSTED_PROXIES)")
	maxBody := fs.String("max-body", env("LOUPE_MAX_BODY", "4MiB"),
		"largest compressed ingest body (LOUPE_MAX_BODY)")
	maxBatch := fs.String("max-batch", env("LOUPE_MAX_BATCH", "16MiB"),
		"largest decompressed ingest body (LOUPE_MAX_BATCH)")
	fs.DurationVar(&c.SiteRefresh, "site-refresh", envDuration("LOUPE_SITE_REFRESH", c.SiteRefresh),
		"how often ingest looks for new or changed sites (LOUPE_SITE_REFRESH)")
	fs.StringVar(&c.LogFormat, "log-format", env("LOUPE_LOG_FORMAT", c.LogFormat),
		"log format: auto (text on a terminal, JSON otherwise), text or json (LOUPE_LOG_FORMAT)")
	fs.StringVar(&c.PublicURL, "public-url", env("LOUPE_PUBLIC_URL", ""),
		"where browsers reach this server, e.g. https://stats.example.com (LOUPE_PUBLIC_URL)")
	fs.StringVar(&c.LogLevel, "log-level", env("LOUPE_LOG_LEVEL", c.LogLevel),
		"log level: debug, info, warn or error (LOUPE_LOG_LEVEL)")

	return func() (Config, error) {
		if *roles == "all" {
			c.Roles = Default().Roles
		} else {
			c.Roles = nil
			for _, r := range strings.Split(*roles, ",") {
				r = strings.TrimSpace(r)
				switch r {
				case RoleIngest, RoleProcess, RoleWeb:
					c.Roles = append(c.Roles, r)
				default:
					problems = append(problems, fmt.Errorf("--roles: unknown role %q", r))
				}
			}
		}
		var err error
		if c.TrustedProxies, err = enrich.ParsePrefixes(*proxies); err != nil {
			problems = append(problems, fmt.Errorf("--trusted-proxies: %w", err))
		}
		if c.MaxBody, err = ParseSize(*maxBody); err != nil {
			problems = append(problems, fmt.Errorf("--max-body: %w", err))
		}
		if c.MaxBatch, err = ParseSize(*maxBatch); err != nil {
			problems = append(problems, fmt.Errorf("--max-batch: %w", err))
		}
		problems = append(problems, c.validate()...)
		if len(problems) > 0 {
			return c, fmt.Errorf("invalid configuration: %w", errors.Join(problems...))
		}
		return c, nil
	}
}

func (c *Config) validate() []error {
	var problems []error
	if c.Data == "" {
		problems = append(problems, errors.New("--data: must not be empty"))
	}
	if c.MaxBody <= 0 || c.MaxBatch < c.MaxBody {
		problems = append(problems, errors.New("--max-batch must be at least --max-body, both positive"))
	}
	if c.MaxBatch > 32<<20 {
		problems = append(problems, errors.New("--max-batch: at most 32MiB"))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" &&
			u.Scheme != "https") || u.Host == "" {
			problems = append(problems, errors.New("--public-url: want http(s)://host[:port]"))
		}
	}
	if c.SiteRefresh < 100*time.Millisecond {
		problems = append(problems, errors.New("--site-refresh: at least 100ms"))
	}
	switch c.LogFormat {
	case "auto", "text", "json":
	default:
		problems = append(problems, fmt.Errorf("--log-format: %q is not auto, text or json", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		problems = append(problems, fmt.Errorf("--log-level: %q is not debug, info, warn or error", c.LogLevel))
	}
	for flag, path := range map[string]string{"--geoip-db": c.GeoIPDB,
		"--referrer-spam-list": c.ReferrerSpamList} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", flag, err))
		}
	}
	return problems
}

// ParseSize parses a byte count such as "512", "64KiB", "4MiB" or "1GiB".
func ParseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			var n int64
			if _, err := fmt.Sscanf(num, "%d", &n); err != nil || n < 0 || fmt.Sprint(n) != num {
				return 0, fmt.Errorf("size %q: want a whole number with KiB, MiB or GiB", s)
			}
			return n * u.mult, nil
		}
	}
	return 0, fmt.Errorf("size %q: want a whole number with KiB, MiB or GiB", s)
}
