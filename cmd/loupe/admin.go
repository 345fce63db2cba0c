package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"loupe.dev/loupe/internal/config"
	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/tracker"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// dataFlag registers --data with its environment default.
func dataFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	def := config.Default().Data
	if v := getenv("LOUPE_DATA"); v != "" {
		def = v
	}
	return fs.String("data", def, "data folder of the Loupe to change (LOUPE_DATA)")
}

func sitesAdd(ctx context.Context, args []string, stdout, stderr io.Writer,
	getenv func(string) string) error {
	fs := flag.NewFlagSet("loupe sites add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := dataFlag(fs, getenv)
	var domains listFlag
	fs.Var(&domains, "domain", "a host name the site's pages are served from (repeatable); "+
		"www. and the bare name are one; *.example.com allows every subdomain")
	name := fs.String("name", "", "name shown in the dashboard (default: the first domain)")
	tz := fs.String("timezone", "UTC", "IANA time zone the site's days follow")
	sample := fs.Float64("sample-rate", 1, "share of sessions recorded, 0 to 1")
	maskText := fs.Bool("mask-text", false, "mask all page text in recordings, not only inputs")
	dnt := fs.Bool("honour-dnt", false, "honour Do-Not-Track and Global Privacy Control")
	retention := fs.Int("retention-days", 365, "days data is kept")
	public := fs.String("public-url", "http://localhost:8080",
		"address visitors' browsers reach Loupe at, for the snippet")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(domains) == 0 {
		return fmt.Errorf("sites add: give at least one --domain")
	}
	if *sample < 0 || *sample > 1 {
		return fmt.Errorf("sites add: --sample-rate must be from 0 to 1")
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	site := &store.Site{Name: *name, Domains: domains, Timezone: *tz, SampleRate: *sample,
		MaskText: *maskText, HonourDNT: *dnt, RetentionDays: *retention}
	if err := st.CreateSite(ctx, site); err != nil {
		return fmt.Errorf("sites add: %w", err)
	}
	fmt.Fprintf(stdout, "site key: %s\n\nPaste this into every page, before </head>:\n\n", site.Key)
	fmt.Fprintf(stdout, "%s\n", tracker.Snippet(*public, site.Key))
	return nil
}

func tokensAdd(ctx context.Context, args []string, stdout, stderr io.Writer,
	getenv func(string) string) error {
	fs := flag.NewFlagSet("loupe tokens add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := dataFlag(fs, getenv)
	var sites listFlag
	fs.Var(&sites, "site", "key of a site the token may read (repeatable)")
	name := fs.String("name", "", "a note saying what the token is for")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(sites) == 0 {
		return fmt.Errorf("tokens add: give at least one --site")
	}
	st, err := openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	var ids []int64
	for _, key := range sites {
		site, err := st.SiteByKey(ctx, key)
		if err != nil {
			return fmt.Errorf("tokens add: %w", err)
		}
		ids = append(ids, site.ID)
	}
	token, err := st.CreateToken(ctx, *name, ids)
	if err != nil {
		return fmt.Errorf("tokens add: %w", err)
	}
	fmt.Fprintln(stdout, token)
	return nil
}

func openStore(ctx context.Context, data string) (*store.Store, error) {
	cfg := config.Default()
	cfg.Data = data
	if err := mkdirData(data); err != nil {
		return nil, err
	}
	return store.OpenSQLite(ctx, cfg.SQLitePath())
}

// openExistingStore opens the store of a data folder that must already hold
// one, so that a mistyped --data is an error rather than a new empty folder.
func openExistingStore(ctx context.Context, data string) (*store.Store, error) {
	cfg := config.Default()
	cfg.Data = data
	if _, err := os.Stat(cfg.SQLitePath()); err != nil {
		return nil, fmt.Errorf("no Loupe data in %s (add a site first, or give --data): %w",
			data, err)
	}
	return store.OpenSQLite(ctx, cfg.SQLitePath())
}

func mkdirData(data string) error {
	if err := os.MkdirAll(data, 0o750); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	return nil
}
