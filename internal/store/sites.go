package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Site is a website being tracked.
type Site struct {
	ID            int64
	Key           string   // public key used in the snippet and by the tracker
	Name          string   // shown in the dashboard; the first domain by default
	Domains       []string // host names pages may be served from
	Timezone      string   // IANA name; days and daily figures follow it
	SampleRate    float64  // share of sessions recorded, 0–1
	MaskText      bool     // mask all page text in recordings, not only inputs
	HonourDNT     bool     // honour Do-Not-Track and Global Privacy Control
	RetentionDays int
	CreatedAt     int64
	UpdatedAt     int64
}

// Location returns the site's time zone, UTC when it cannot be loaded.
func (s *Site) Location() *time.Location {
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

const siteColumns = `id, site_key, name, domains, timezone, sample_rate, mask_text,
	honour_dnt, retention_days, created_at, updated_at`

func scanSite(row interface{ Scan(...any) error }) (Site, error) {
	var s Site
	var domains string
	err := row.Scan(&s.ID, &s.Key, &s.Name, &domains, &s.Timezone, &s.SampleRate,
		&s.MaskText, &s.HonourDNT, &s.RetentionDays, &s.CreatedAt, &s.UpdatedAt)
	s.Domains = strings.Fields(domains)
	return s, err
}

// CreateSite stores a new site, filling in its ID, key and times.
func (s *Store) CreateSite(ctx context.Context, site *Site) error {
	if len(site.Domains) == 0 {
		return fmt.Errorf("create site: at least one domain: %w", ErrConflict)
	}
	if site.Name == "" {
		site.Name = site.Domains[0]
	}
	if site.Timezone == "" {
		site.Timezone = "UTC"
	}
	if _, err := time.LoadLocation(site.Timezone); err != nil {
		return fmt.Errorf("create site: time zone %q: %w", site.Timezone, err)
	}
	if site.RetentionDays == 0 {
		site.RetentionDays = 365
	}
	key, err := randomString(12)
	if err != nil {
		return fmt.Errorf("create site: %w", err)
	}
	site.Key = key
	site.CreatedAt = s.now().UnixMilli()
	site.UpdatedAt = site.CreatedAt

	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create site: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM sites`).
		Scan(&site.ID); err != nil {
		return fmt.Errorf("create site: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sites (`+siteColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		site.ID, site.Key, site.Name, strings.Join(site.Domains, " "), site.Timezone,
		site.SampleRate, site.MaskText, site.HonourDNT, site.RetentionDays,
		site.CreatedAt, site.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create site: %w", err)
	}
	return wrap(tx.Commit(), "create site")
}

// SiteByKey returns the site with the given public key.
func (s *Store) SiteByKey(ctx context.Context, key string) (*Site, error) {
	site, err := scanSite(s.read.QueryRowContext(ctx,
		`SELECT `+siteColumns+` FROM sites WHERE site_key = ?`, key))
	if err != nil {
		return nil, wrap(err, "site "+key)
	}
	return &site, nil
}

// SiteByID returns the site with the given id.
func (s *Store) SiteByID(ctx context.Context, id int64) (*Site, error) {
	site, err := scanSite(s.read.QueryRowContext(ctx,
		`SELECT `+siteColumns+` FROM sites WHERE id = ?`, id))
	if err != nil {
		return nil, wrap(err, fmt.Sprintf("site %d", id))
	}
	return &site, nil
}

// SitesChangedSince returns the sites created or changed at or after the given
// time (Unix ms), oldest change first; 0 returns every site.
func (s *Store) SitesChangedSince(ctx context.Context, since int64) ([]Site, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+siteColumns+` FROM sites
		WHERE updated_at >= ? ORDER BY updated_at`, since)
	if err != nil {
		return nil, wrap(err, "list sites")
	}
	defer rows.Close()
	var out []Site
	for rows.Next() {
		site, err := scanSite(rows)
		if err != nil {
			return nil, wrap(err, "list sites")
		}
		out = append(out, site)
	}
	return out, wrap(rows.Err(), "list sites")
}

// CreateToken stores a new API token that can read the given sites and
// returns it; only its hash is kept.
func (s *Store) CreateToken(ctx context.Context, name string, siteIDs []int64) (string, error) {
	secret, err := randomString(32)
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	token := "lpt_" + secret

	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	defer tx.Rollback()
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM tokens`).
		Scan(&id); err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, hash, name, created_at)
		VALUES (?, ?, ?, ?)`, id, hashToken(token), name, s.now().UnixMilli()); err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	for _, site := range siteIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO token_sites (token_id, site_id)
			VALUES (?, ?)`, id, site); err != nil {
			return "", fmt.Errorf("create token: site %d: %w", site, err)
		}
	}
	return token, wrap(tx.Commit(), "create token")
}

// TokenSites returns the ids of the sites a token may read; ErrNotFound when
// the token is unknown.
func (s *Store) TokenSites(ctx context.Context, token string) ([]int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT t.id, ts.site_id FROM tokens t
		LEFT JOIN token_sites ts ON ts.token_id = t.id WHERE t.hash = ?`, hashToken(token))
	if err != nil {
		return nil, wrap(err, "token sites")
	}
	defer rows.Close()
	found := false
	var sites []int64
	for rows.Next() {
		var id int64
		var site sql.NullInt64
		if err := rows.Scan(&id, &site); err != nil {
			return nil, wrap(err, "token sites")
		}
		found = true
		if site.Valid {
			sites = append(sites, site.Int64)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "token sites")
	}
	if !found {
		return nil, fmt.Errorf("token: %w", ErrNotFound)
	}
	return sites, nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// randomString returns n random characters from a lower-case alphabet
// without look-alikes, for site keys and tokens.
func randomString(n int) (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	for i, b := range buf {
		buf[i] = alphabet[int(b)%len(alphabet)]
	}
	return string(buf), nil
}

// UpdateSite stores a site's changed settings (not its key or creation
// time) and marks it changed, so ingest caches pick it up.
func (s *Store) UpdateSite(ctx context.Context, site *Site) error {
	if len(site.Domains) == 0 {
		return fmt.Errorf("update site: at least one domain: %w", ErrConflict)
	}
	if _, err := time.LoadLocation(site.Timezone); err != nil {
		return fmt.Errorf("update site: time zone %q: %w", site.Timezone, err)
	}
	site.UpdatedAt = max(s.now().UnixMilli(), site.UpdatedAt+1)
	res, err := s.write.ExecContext(ctx, `UPDATE sites SET name = ?, domains = ?, timezone = ?,
		sample_rate = ?, mask_text = ?, honour_dnt = ?, retention_days = ?, updated_at = ?
		WHERE id = ?`, site.Name, strings.Join(site.Domains, " "), site.Timezone,
		site.SampleRate, site.MaskText, site.HonourDNT, site.RetentionDays, site.UpdatedAt,
		site.ID)
	if err != nil {
		return fmt.Errorf("update site: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("update site %d: %w", site.ID, ErrNotFound)
	}
	return nil
}
