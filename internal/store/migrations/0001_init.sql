-- Sites, access tokens, and everything the processor writes. Written to run
-- unchanged on SQLite and PostgreSQL: 64-bit integer keys, times in Unix
-- milliseconds, days as yyyymmdd in the site's time zone.

CREATE TABLE sites (
	id             BIGINT PRIMARY KEY,
	site_key       TEXT NOT NULL UNIQUE,
	name           TEXT NOT NULL DEFAULT '',
	domains        TEXT NOT NULL,
	timezone       TEXT NOT NULL DEFAULT 'UTC',
	sample_rate    DOUBLE PRECISION NOT NULL DEFAULT 1,
	mask_text      BOOLEAN NOT NULL DEFAULT FALSE,
	honour_dnt     BOOLEAN NOT NULL DEFAULT FALSE,
	retention_days INTEGER NOT NULL DEFAULT 365,
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL
);
CREATE INDEX sites_updated ON sites (updated_at);

CREATE TABLE tokens (
	id         BIGINT PRIMARY KEY,
	hash       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL
);

CREATE TABLE token_sites (
	token_id BIGINT NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
	site_id  BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	PRIMARY KEY (token_id, site_id)
);

-- batches remembers every (session, seq) written, so a redelivered or re-sent
-- batch changes nothing.
CREATE TABLE batches (
	session_id BIGINT NOT NULL,
	seq        BIGINT NOT NULL,
	PRIMARY KEY (session_id, seq)
);

CREATE TABLE sessions (
	id              BIGINT PRIMARY KEY,
	site_id         BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	visitor_id      BIGINT,
	started_at      BIGINT NOT NULL,
	last_at         BIGINT NOT NULL,
	day             INTEGER NOT NULL,
	clock_offset    BIGINT NOT NULL DEFAULT 0,
	entry_page      TEXT NOT NULL DEFAULT '',
	exit_page       TEXT NOT NULL DEFAULT '',
	page_count      INTEGER NOT NULL DEFAULT 0,
	click_count     INTEGER NOT NULL DEFAULT 0,
	rage_count      INTEGER NOT NULL DEFAULT 0,
	dead_count      INTEGER NOT NULL DEFAULT 0,
	error_count     INTEGER NOT NULL DEFAULT 0,
	event_count     INTEGER NOT NULL DEFAULT 0,
	referrer_host   TEXT NOT NULL DEFAULT '',
	referrer_source TEXT NOT NULL DEFAULT '',
	utm_source      TEXT NOT NULL DEFAULT '',
	utm_medium      TEXT NOT NULL DEFAULT '',
	utm_campaign    TEXT NOT NULL DEFAULT '',
	browser         TEXT NOT NULL DEFAULT '',
	browser_version TEXT NOT NULL DEFAULT '',
	os              TEXT NOT NULL DEFAULT '',
	os_version      TEXT NOT NULL DEFAULT '',
	device          TEXT NOT NULL DEFAULT '',
	country         TEXT NOT NULL DEFAULT '',
	screen_w        INTEGER NOT NULL DEFAULT 0,
	screen_h        INTEGER NOT NULL DEFAULT 0,
	user_id         TEXT NOT NULL DEFAULT '',
	user_traits     TEXT NOT NULL DEFAULT '',
	recording_bytes BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_site_started ON sessions (site_id, started_at);

CREATE TABLE page_views (
	session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	pid        BIGINT NOT NULL,
	site_id    BIGINT NOT NULL,
	at         BIGINT NOT NULL,
	day        INTEGER NOT NULL,
	url        TEXT NOT NULL,
	page_key   TEXT NOT NULL,
	title      TEXT NOT NULL DEFAULT '',
	device     TEXT NOT NULL DEFAULT '',
	view_w     INTEGER NOT NULL DEFAULT 0,
	max_scroll INTEGER NOT NULL DEFAULT -1,
	page_h     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (session_id, pid)
);
CREATE INDEX page_views_site_at ON page_views (site_id, at);

CREATE TABLE clicks (
	id         INTEGER PRIMARY KEY,
	session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	pid        BIGINT NOT NULL,
	site_id    BIGINT NOT NULL,
	at         BIGINT NOT NULL,
	page_key   TEXT NOT NULL,
	selector   TEXT NOT NULL,
	offset_x   DOUBLE PRECISION NOT NULL,
	offset_y   DOUBLE PRECISION NOT NULL,
	x          DOUBLE PRECISION NOT NULL,
	y          DOUBLE PRECISION NOT NULL,
	view_w     INTEGER NOT NULL,
	dead       BOOLEAN NOT NULL,
	rage       BOOLEAN NOT NULL
);
CREATE INDEX clicks_session ON clicks (session_id, at);

CREATE TABLE custom_events (
	id         INTEGER PRIMARY KEY,
	session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	pid        BIGINT NOT NULL,
	site_id    BIGINT NOT NULL,
	at         BIGINT NOT NULL,
	name       TEXT NOT NULL,
	props      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX custom_events_session ON custom_events (session_id, at);
CREATE INDEX custom_events_site ON custom_events (site_id, name, at);

CREATE TABLE page_errors (
	id         INTEGER PRIMARY KEY,
	session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	pid        BIGINT NOT NULL,
	site_id    BIGINT NOT NULL,
	at         BIGINT NOT NULL,
	message    TEXT NOT NULL,
	source     TEXT NOT NULL DEFAULT '',
	line       INTEGER NOT NULL DEFAULT 0,
	col        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX page_errors_session ON page_errors (session_id, at);

-- recording_chunks lists the blobs that hold a session's rrweb events.
CREATE TABLE recording_chunks (
	session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	seq        BIGINT NOT NULL,
	blob_key   TEXT NOT NULL,
	first_ts   BIGINT NOT NULL,
	last_ts    BIGINT NOT NULL,
	events     INTEGER NOT NULL,
	bytes      BIGINT NOT NULL,
	PRIMARY KEY (session_id, seq)
);

-- Heatmap roll-ups, one row per cell and day, kept up to date at write time.
-- Click offsets are per cent of the element's box; page points are 10 px cells.
CREATE TABLE heat_elements (
	site_id  BIGINT NOT NULL,
	page_key TEXT NOT NULL,
	device   TEXT NOT NULL,
	day      INTEGER NOT NULL,
	selector TEXT NOT NULL,
	offset_x INTEGER NOT NULL,
	offset_y INTEGER NOT NULL,
	count    BIGINT NOT NULL,
	PRIMARY KEY (site_id, page_key, device, day, selector, offset_x, offset_y)
);

CREATE TABLE heat_points (
	site_id  BIGINT NOT NULL,
	page_key TEXT NOT NULL,
	device   TEXT NOT NULL,
	kind     TEXT NOT NULL,
	day      INTEGER NOT NULL,
	x        INTEGER NOT NULL,
	y        INTEGER NOT NULL,
	count    BIGINT NOT NULL,
	PRIMARY KEY (site_id, page_key, device, kind, day, x, y)
);

-- heat_scroll counts page views by the deepest point they reached.
CREATE TABLE heat_scroll (
	site_id  BIGINT NOT NULL,
	page_key TEXT NOT NULL,
	device   TEXT NOT NULL,
	day      INTEGER NOT NULL,
	depth    INTEGER NOT NULL,
	count    BIGINT NOT NULL,
	PRIMARY KEY (site_id, page_key, device, day, depth)
);

-- ignored_sessions remembers sessions that are not traffic (a spam referrer),
-- so their later batches are dropped too.
CREATE TABLE ignored_sessions (
	id     BIGINT PRIMARY KEY,
	reason TEXT NOT NULL
);
