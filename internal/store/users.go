package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Roles a user can hold on a site.
const (
	RoleOwner  = "owner"  // may change the site and share it
	RoleViewer = "viewer" // may read its data
)

// User is a dashboard account.
type User struct {
	ID           int64
	Email        string
	PasswordHash string // made by the caller with a slow hash
	Admin        bool   // owns every site and may add sites
	CreatedAt    int64
}

// Login is a signed-in browser: the user and the form token its pages carry.
type Login struct {
	User      User
	CSRF      string
	ExpiresAt int64
}

// Invite is a one-time link that creates a user.
type Invite struct {
	Email     string // fixed by the inviter; empty lets the invitee choose
	Admin     bool
	SiteID    int64 // 0 for none
	Role      string
	ExpiresAt int64
}

// SiteAccess is a site and the role a user holds on it.
type SiteAccess struct {
	Site Site
	Role string
}

// Member is one user's access to a site, for the site's access list.
type Member struct {
	Email string
	Role  string
}

const userColumns = `id, email, password_hash, admin, created_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Admin, &u.CreatedAt)
	return u, err
}

// NormaliseEmail is the form in which e-mail addresses are stored and
// compared.
func NormaliseEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// CountUsers returns how many users exist; 0 means the first start's setup
// link is due.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, wrap(err, "count users")
}

// UserByEmail returns the user with that address.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE email = ?`, NormaliseEmail(email)))
	if err != nil {
		return nil, wrap(err, "user")
	}
	return &u, nil
}

// CreateInvite stores a one-time invitation and returns its secret token.
// Making a new setup link (an admin invite) revokes older ones.
func (s *Store) CreateInvite(ctx context.Context, inv Invite) (string, error) {
	secret, err := randomString(32)
	if err != nil {
		return "", fmt.Errorf("create invite: %w", err)
	}
	if inv.Admin {
		if _, err := s.write.ExecContext(ctx, `DELETE FROM invites WHERE admin`); err != nil {
			return "", fmt.Errorf("create invite: %w", err)
		}
	}
	var site any
	if inv.SiteID != 0 {
		site = inv.SiteID
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO invites (hash, email, admin, site_id, role,
		expires_at) VALUES (?, ?, ?, ?, ?, ?)`, hashToken(secret), NormaliseEmail(inv.Email),
		inv.Admin, site, inv.Role, inv.ExpiresAt)
	if err != nil {
		return "", fmt.Errorf("create invite: %w", err)
	}
	return secret, nil
}

// InviteByToken returns an invitation that has not expired or been used.
func (s *Store) InviteByToken(ctx context.Context, token string) (*Invite, error) {
	var inv Invite
	var site sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT email, admin, site_id, role, expires_at
		FROM invites WHERE hash = ? AND expires_at > ?`, hashToken(token),
		s.now().UnixMilli()).Scan(&inv.Email, &inv.Admin, &site, &inv.Role, &inv.ExpiresAt)
	if err != nil {
		return nil, wrap(err, "invite")
	}
	inv.SiteID = site.Int64
	return &inv, nil
}

// AcceptInvite uses an invitation: it creates the user with the given
// address and password hash, grants the invited role and deletes the
// invitation, all at once. A taken address is ErrConflict; a used, expired
// or unknown token ErrNotFound, as is a setup link once a user exists.
func (s *Store) AcceptInvite(ctx context.Context, token, email, passwordHash string) (*User,
	error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("accept invite: %w", err)
	}
	defer tx.Rollback()

	var inv Invite
	var site sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT email, admin, site_id, role FROM invites
		WHERE hash = ? AND expires_at > ?`, hashToken(token), s.now().UnixMilli()).
		Scan(&inv.Email, &inv.Admin, &site, &inv.Role)
	if err != nil {
		return nil, wrap(err, "accept invite")
	}
	if inv.Admin {
		var users int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&users); err != nil {
			return nil, fmt.Errorf("accept invite: %w", err)
		}
		if users > 0 {
			return nil, fmt.Errorf("accept invite: setup already done: %w", ErrNotFound)
		}
	}
	u := User{Email: NormaliseEmail(email), PasswordHash: passwordHash, Admin: inv.Admin,
		CreatedAt: s.now().UnixMilli()}
	if inv.Email != "" {
		u.Email = inv.Email
	}
	var taken int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email = ?`,
		u.Email).Scan(&taken); err != nil {
		return nil, fmt.Errorf("accept invite: %w", err)
	}
	if taken > 0 {
		return nil, fmt.Errorf("accept invite: %s has an account: %w", u.Email, ErrConflict)
	}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM users`).
		Scan(&u.ID); err != nil {
		return nil, fmt.Errorf("accept invite: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`)
		VALUES (?, ?, ?, ?, ?)`, u.ID, u.Email, u.PasswordHash, u.Admin, u.CreatedAt); err != nil {
		return nil, fmt.Errorf("accept invite: %w", err)
	}
	if site.Valid {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_sites (user_id, site_id, role)
			VALUES (?, ?, ?)`, u.ID, site.Int64, inv.Role); err != nil {
			return nil, fmt.Errorf("accept invite: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM invites WHERE hash = ?`,
		hashToken(token)); err != nil {
		return nil, fmt.Errorf("accept invite: %w", err)
	}
	return &u, wrap(tx.Commit(), "accept invite")
}

// CreateLogin signs a user in for ttl and returns the cookie value and the
// form token of that login; only the cookie's hash is kept.
func (s *Store) CreateLogin(ctx context.Context, userID int64, ttl time.Duration) (cookie,
	csrf string, err error) {
	if cookie, err = randomString(32); err != nil {
		return "", "", fmt.Errorf("create login: %w", err)
	}
	if csrf, err = randomString(32); err != nil {
		return "", "", fmt.Errorf("create login: %w", err)
	}
	now := s.now()
	// Expired logins of anyone are cleared here, so the table stays small
	// without a job of its own.
	if _, err := s.write.ExecContext(ctx, `DELETE FROM logins WHERE expires_at <= ?`,
		now.UnixMilli()); err != nil {
		return "", "", fmt.Errorf("create login: %w", err)
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO logins (hash, user_id, csrf, created_at,
		expires_at) VALUES (?, ?, ?, ?, ?)`, hashToken(cookie), userID, csrf, now.UnixMilli(),
		now.Add(ttl).UnixMilli())
	if err != nil {
		return "", "", fmt.Errorf("create login: %w", err)
	}
	return cookie, csrf, nil
}

// LoginByCookie returns the unexpired login a cookie value stands for.
func (s *Store) LoginByCookie(ctx context.Context, cookie string) (*Login, error) {
	var l Login
	err := s.read.QueryRowContext(ctx, `SELECT u.id, u.email, u.password_hash, u.admin,
		u.created_at, l.csrf, l.expires_at FROM logins l JOIN users u ON u.id = l.user_id
		WHERE l.hash = ? AND l.expires_at > ?`, hashToken(cookie), s.now().UnixMilli()).
		Scan(&l.User.ID, &l.User.Email, &l.User.PasswordHash, &l.User.Admin,
			&l.User.CreatedAt, &l.CSRF, &l.ExpiresAt)
	if err != nil {
		return nil, wrap(err, "login")
	}
	return &l, nil
}

// DeleteLogin signs a browser out.
func (s *Store) DeleteLogin(ctx context.Context, cookie string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM logins WHERE hash = ?`, hashToken(cookie))
	return wrap(err, "delete login")
}

// UserSites returns the sites a user may see with the role held on each,
// by name; an admin owns them all.
func (s *Store) UserSites(ctx context.Context, u *User) ([]SiteAccess, error) {
	query := `SELECT ` + prefixed("s.", siteColumns) + `, us.role FROM sites s
		JOIN user_sites us ON us.site_id = s.id WHERE us.user_id = ? ORDER BY s.name, s.id`
	args := []any{u.ID}
	if u.Admin {
		query = `SELECT ` + siteColumns + `, 'owner' FROM sites ORDER BY name, id`
		args = nil
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(err, "user sites")
	}
	defer rows.Close()
	out := []SiteAccess{}
	for rows.Next() {
		var a SiteAccess
		var domains string
		if err := rows.Scan(&a.Site.ID, &a.Site.Key, &a.Site.Name, &domains, &a.Site.Timezone,
			&a.Site.SampleRate, &a.Site.MaskText, &a.Site.HonourDNT, &a.Site.RetentionDays,
			&a.Site.CreatedAt, &a.Site.UpdatedAt, &a.Role); err != nil {
			return nil, wrap(err, "user sites")
		}
		a.Site.Domains = strings.Fields(domains)
		out = append(out, a)
	}
	return out, wrap(rows.Err(), "user sites")
}

// SiteRole returns the role a user holds on a site; ErrNotFound when none.
func (s *Store) SiteRole(ctx context.Context, u *User, siteID int64) (string, error) {
	if u.Admin {
		return RoleOwner, nil
	}
	var role string
	err := s.read.QueryRowContext(ctx, `SELECT role FROM user_sites
		WHERE user_id = ? AND site_id = ?`, u.ID, siteID).Scan(&role)
	return role, wrap(err, "site role")
}

// GrantSite gives a user a role on a site, replacing any role held before.
func (s *Store) GrantSite(ctx context.Context, userID, siteID int64, role string) error {
	if role != RoleOwner && role != RoleViewer {
		return fmt.Errorf("grant site: role %q: %w", role, ErrConflict)
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO user_sites (user_id, site_id, role)
		VALUES (?, ?, ?) ON CONFLICT (user_id, site_id) DO UPDATE SET role = excluded.role`,
		userID, siteID, role)
	return wrap(err, "grant site")
}

// RevokeSite takes a user's role on a site away.
func (s *Store) RevokeSite(ctx context.Context, userID, siteID int64) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM user_sites WHERE user_id = ? AND site_id = ?`,
		userID, siteID)
	return wrap(err, "revoke site")
}

// SiteMembers lists who was given a site, by address. Admins, who see every
// site, are not listed.
func (s *Store) SiteMembers(ctx context.Context, siteID int64) ([]Member, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT u.email, us.role FROM user_sites us
		JOIN users u ON u.id = us.user_id WHERE us.site_id = ? ORDER BY u.email`, siteID)
	if err != nil {
		return nil, wrap(err, "site members")
	}
	defer rows.Close()
	out := []Member{}
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.Email, &m.Role); err != nil {
			return nil, wrap(err, "site members")
		}
		out = append(out, m)
	}
	return out, wrap(rows.Err(), "site members")
}

// prefixed qualifies every column of a comma-separated list with prefix.
func prefixed(prefix, columns string) string {
	fields := strings.Split(columns, ",")
	for i, f := range fields {
		fields[i] = prefix + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

// SiteInvites lists the invitations to a site not yet used or expired, by
// address.
func (s *Store) SiteInvites(ctx context.Context, siteID int64) ([]Invite, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT email, admin, site_id, role, expires_at
		FROM invites WHERE site_id = ? AND expires_at > ? ORDER BY email, expires_at`,
		siteID, s.now().UnixMilli())
	if err != nil {
		return nil, wrap(err, "site invites")
	}
	defer rows.Close()
	out := []Invite{}
	for rows.Next() {
		var inv Invite
		var site sql.NullInt64
		if err := rows.Scan(&inv.Email, &inv.Admin, &site, &inv.Role,
			&inv.ExpiresAt); err != nil {
			return nil, wrap(err, "site invites")
		}
		inv.SiteID = site.Int64
		out = append(out, inv)
	}
	return out, wrap(rows.Err(), "site invites")
}

// RemoveFromSite takes away what an address holds on a site: the role of
// its user, if any, and any invitation not yet used. It reports whether
// there was anything to take.
func (s *Store) RemoveFromSite(ctx context.Context, siteID int64, email string) (bool, error) {
	email = NormaliseEmail(email)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("remove from site: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM user_sites WHERE site_id = ?
		AND user_id IN (SELECT id FROM users WHERE email = ?)`, siteID, email)
	if err != nil {
		return false, fmt.Errorf("remove from site: %w", err)
	}
	roles, _ := res.RowsAffected()
	res, err = tx.ExecContext(ctx, `DELETE FROM invites WHERE site_id = ? AND email = ?`,
		siteID, email)
	if err != nil {
		return false, fmt.Errorf("remove from site: %w", err)
	}
	invites, _ := res.RowsAffected()
	return roles+invites > 0, wrap(tx.Commit(), "remove from site")
}
