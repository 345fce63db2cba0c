package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	finish := Flags(fs, func(k string) string { return env[k] })
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return finish()
}

func TestDefaults(t *testing.T) {
	c, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.Data != "./loupe-data" || len(c.Roles) != 3 ||
		c.MaxBody != 4<<20 || c.MaxBatch != 16<<20 || c.SiteRefresh != 2*time.Second {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestFlagBeatsEnvironment(t *testing.T) {
	env := map[string]string{"LOUPE_ADDR": ":9000", "LOUPE_DATA": "/srv/loupe",
		"LOUPE_ROLES": "ingest", "LOUPE_MAX_BODY": "1MiB", "LOUPE_TRUSTED_PROXIES": "10.0.0.0/8"}
	c, err := parse(t, []string{"--addr", ":7000"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":7000" || c.Data != "/srv/loupe" || !c.Has(RoleIngest) || c.Has(RoleWeb) ||
		c.MaxBody != 1<<20 || len(c.TrustedProxies) != 1 {
		t.Fatalf("config = %+v", c)
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	_, err := parse(t, []string{"--roles", "ingest,bogus", "--max-body", "lots",
		"--log-format", "xml", "--trusted-proxies", "not-an-ip", "--geoip-db", "/nonexistent.mmdb"}, nil)
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"--roles", "--max-body", "--log-format", "--trusted-proxies",
		"--geoip-db"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := map[string]int64{"512": 512, "64KiB": 64 << 10, "4MiB": 4 << 20, "1GiB": 1 << 30}
	for in, want := range tests {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "4 MiB", "4MB", "x"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}
