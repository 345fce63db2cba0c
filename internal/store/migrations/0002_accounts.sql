-- Dashboard accounts: users, the sites each may see, login sessions and
-- one-time invitation links. Secrets (cookies, invitation tokens) are kept
-- only as SHA-256 hashes; passwords only as slow hashes made by the caller.

CREATE TABLE users (
	id            BIGINT PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	admin         BOOLEAN NOT NULL DEFAULT FALSE,
	created_at    BIGINT NOT NULL
);

-- user_sites gives a user a role on a site: owner (may change it and share
-- it) or viewer. Admins own every site without rows here.
CREATE TABLE user_sites (
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	role    TEXT NOT NULL,
	PRIMARY KEY (user_id, site_id)
);
CREATE INDEX user_sites_site ON user_sites (site_id);

CREATE TABLE logins (
	hash       TEXT PRIMARY KEY,
	user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX logins_user ON logins (user_id);

-- invites are one-time links that create a user: the first-start setup link
-- (admin, no site) or an owner's invitation to one site.
CREATE TABLE invites (
	hash       TEXT PRIMARY KEY,
	email      TEXT NOT NULL DEFAULT '',
	admin      BOOLEAN NOT NULL DEFAULT FALSE,
	site_id    BIGINT REFERENCES sites (id) ON DELETE CASCADE,
	role       TEXT NOT NULL DEFAULT '',
	expires_at BIGINT NOT NULL
);
