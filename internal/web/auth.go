package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/time/rate"

	"loupe.dev/loupe/internal/enrich"
	"loupe.dev/loupe/internal/store"
)

const (
	// sessionCookie holds a signed-in browser's secret; the store keeps its
	// hash.
	sessionCookie = "loupe_session"
	// formCookie carries the form token of pages seen before signing in
	// (login, setup), compared with the token in the form.
	formCookie = "loupe_form"
	// loginTTL is how long a sign-in lasts.
	loginTTL = 30 * 24 * time.Hour
	// minPassword is the shortest password accepted.
	minPassword = 10
)

// Argon2id parameters: 19 MiB, two passes, one lane, the smallest setting
// the usual guidance accepts, so a login costs ~30 ms of one core rather
// than exhausting memory when many arrive at once.
const (
	argonMemory = 19 * 1024
	argonTime   = 2
	argonLanes  = 1
	argonKeyLen = 32
)

// hashPassword returns an argon2id hash of password in the common
// $argon2id$v=19$m=…,t=…,p=…$salt$key form.
func hashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonLanes, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory,
		argonTime, argonLanes, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// checkPassword reports whether password matches hash, taking the
// parameters from the hash so that older hashes keep working.
func checkPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var memory, passes uint32
	var lanes uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &lanes); err != nil ||
		memory == 0 || memory > 1<<20 || passes == 0 || passes > 16 || lanes == 0 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, passes, memory, lanes, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when an address is unknown, so that a
// wrong address costs as long as a wrong password and cannot be told apart.
// It is made on first use, not at start.
var dummyHash = sync.OnceValue(func() string {
	h, _ := hashPassword("loupe-no-such-user")
	return h
})

// limiter throttles attempts per key (a client address, an e-mail
// address): a burst, then one attempt per interval.
type limiter struct {
	mu      sync.Mutex
	every   time.Duration
	burst   int
	buckets map[string]*rate.Limiter
	swept   time.Time
}

func newLimiter(every time.Duration, burst int) *limiter {
	return &limiter{every: every, burst: burst, buckets: map[string]*rate.Limiter{}}
}

// allow takes one attempt from key's bucket and reports whether there was
// one to take.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Forget full buckets now and then, so that addresses seen once do not
	// accumulate.
	if now.Sub(l.swept) > 10*time.Minute {
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.buckets[key] = b
	}
	return b.AllowN(now, 1)
}

// auth signs users in and out and guards the dashboard's pages.
type auth struct {
	store          *store.Store
	trustedProxies []netip.Prefix
	byAddress      *limiter
	byEmail        *limiter
	now            func() time.Time
}

func newAuth(st *store.Store, trusted []netip.Prefix) *auth {
	return &auth{
		store:          st,
		trustedProxies: trusted,
		byAddress:      newLimiter(30*time.Second, 20),
		byEmail:        newLimiter(time.Minute, 5),
		now:            time.Now,
	}
}

// allowAttempt reports whether a sign-in attempt for email from r's client
// may be tried now.
func (a *auth) allowAttempt(r *http.Request, email string) bool {
	now := a.now()
	addr := enrich.ClientIP(r, a.trustedProxies)
	okAddr := a.byAddress.allow("ip "+addr.String(), now)
	okEmail := a.byEmail.allow("email "+store.NormaliseEmail(email), now)
	return okAddr && okEmail
}

// secure reports whether r reached Loupe over HTTPS, directly or through a
// trusted proxy, so cookies can be marked Secure.
func (a *auth) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	for _, p := range a.trustedProxies {
		if p.Contains(peer.Addr().Unmap()) {
			return strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
		}
	}
	return false
}

// signIn starts a login for u and sets its cookie.
func (a *auth) signIn(ctx context.Context, w http.ResponseWriter, r *http.Request,
	u *store.User) error {
	cookie, _, err := a.store.CreateLogin(ctx, u.ID, loginTTL)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: cookie, Path: "/",
		MaxAge: int(loginTTL / time.Second), HttpOnly: true, Secure: a.secure(r),
		SameSite: http.SameSiteLaxMode})
	return nil
}

// signOut ends r's login and clears its cookie.
func (a *auth) signOut(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := a.store.DeleteLogin(ctx, c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteLaxMode})
	return nil
}

// login returns r's signed-in user, or nil when there is none.
func (a *auth) login(r *http.Request) (*store.Login, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	l, err := a.store.LoginByCookie(r.Context(), c.Value)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return l, err
}

// formToken returns the token that forms shown before signing in carry,
// setting its cookie when r has none.
func (a *auth) formToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(formCookie); err == nil && len(c.Value) == 43 {
		return c.Value, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("form token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: formCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: a.secure(r), SameSite: http.SameSiteStrictMode})
	return token, nil
}

// errBadForm answers a form post without its token: from another site, or
// from a page shown before a sign-in or sign-out changed the token.
var errBadForm = &clientError{status: http.StatusForbidden,
	msg: "This form has expired or did not come from Loupe. Reload the page and try again."}

// checkForm verifies the csrf field of a form posted before signing in.
func (a *auth) checkForm(r *http.Request) error {
	c, err := r.Cookie(formCookie)
	if err != nil || !sameToken(c.Value, r.PostFormValue("csrf")) {
		return errBadForm
	}
	return nil
}

// sameToken compares two tokens in constant time; empty never matches.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
