// Package store owns the SQL store: sites, tokens, sessions, page views,
// clicks, events, recording chunk lists and the heatmap roll-ups, behind one
// behaviour for SQLite (the default, a file in the data folder) and, later,
// PostgreSQL. It knows SQL and nothing of HTTP, the log or the browser.
package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, so the binary needs no cgo
)

// Errors the store returns; callers test them with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQL store. Writes go through one connection, so SQLite never
// sees two writers and "database is locked" cannot reach a caller; reads use
// a pool that WAL lets run beside the writer.
type Store struct {
	write *sql.DB
	read  *sql.DB
	now   func() time.Time
	// Values of closed days, kept so that a range re-reads only its open
	// days: traffic figures for Stats, click counts by element for
	// HeatSelectors.
	days        dayCache[siteDay, *dayFigures]
	selectors   dayCache[heatDay, map[string]int64]
	cells       dayCache[heatDay, []ElementCell]
	clickPoints dayCache[heatDay, []PointCell]
	movePoints  dayCache[heatDay, []PointCell]
}

// OpenSQLite opens (creating if needed) the SQLite file at path and brings
// its schema up to date.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	// Durability first: WAL with a sync on every commit, so that a group the
	// log was told is written survives a power cut. The rest costs no
	// safety: reads of the database file through mmap, temporary tables in
	// memory, and a WAL checkpoint about every 40 MB rather than 4 MB, so
	// that a hot page (a roll-up cell, a live session) is copied back into
	// the database once for many commits, with the WAL cut back to 64 MB
	// after one.
	dsn := "file:" + path + "?_txlock=immediate"
	for _, pragma := range []string{"busy_timeout(15000)", "journal_mode(WAL)",
		"synchronous(FULL)", "foreign_keys(1)", "temp_store(MEMORY)", "mmap_size(268435456)",
		"wal_autocheckpoint(10000)", "journal_size_limit(67108864)"} {
		dsn += "&_pragma=" + pragma
	}
	// The writer keeps a 64 MB page cache (the default is 2 MB) for the
	// pages a group changes; readers read through mmap and need little.
	write, err := sql.Open("sqlite", dsn+"&_pragma=cache_size(-65536)")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", dsn+"&mode=ro")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// Keep every reader open: the dashboard runs several reads at once, and
	// a new connection reads the whole schema again before its first query.
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)

	s := &Store{write: write, read: read, now: time.Now}
	s.cells.weigh = func(c []ElementCell) int { return len(c) }
	s.cells.limit = elementCellsKept
	for _, c := range []*dayCache[heatDay, []PointCell]{&s.clickPoints, &s.movePoints} {
		c.weigh = func(c []PointCell) int { return len(c) }
		c.limit = pointCellsKept
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
	return errors.Join(s.write.Close(), s.read.Close())
}

// migrate applies, in order and one transaction each, every embedded
// migration not yet recorded in schema_migrations.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		if err := s.applyMigration(ctx, name, version); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, name, version string) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", version, err)
	}
	defer tx.Rollback()

	var n int
	err = tx.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n)
	if err != nil || n > 0 {
		return wrap(err, "migration "+version)
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return fmt.Errorf("migration %s: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %s: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		version, s.now().UnixMilli()); err != nil {
		return fmt.Errorf("migration %s: %w", version, err)
	}
	return wrap(tx.Commit(), "migration "+version)
}

// wrap names the operation in a non-nil error and maps sql.ErrNoRows to
// ErrNotFound.
func wrap(err error, op string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// Check reports whether the store answers, for /readyz.
func (s *Store) Check(ctx context.Context) error {
	return wrap(s.read.PingContext(ctx), "ping store")
}

// SchemaDigest names the schema the embedded migrations make, for files
// built by tests and kept between runs.
func SchemaDigest() string {
	h := sha256.New()
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	for _, name := range names {
		body, _ := migrations.ReadFile(name)
		fmt.Fprintf(h, "%s %d\n", name, len(body))
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
