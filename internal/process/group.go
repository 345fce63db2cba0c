package process

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"loupe.dev/loupe/internal/store"
)

// group is what one write transaction knows beyond the store: the sessions
// and page views its batches touched, each read from the store at most once,
// and every row its batches add, held back until the last batch is applied.
// So a session is saved once per group rather than twice per batch, a
// roll-up cell is bumped once however many batches hit it, and many rows go
// in one statement. Until flush, every read of something the group has
// changed is answered here, never by the store.
type group struct {
	tx *store.Tx
	// fresh holds the batches claimed for this group and not yet applied.
	fresh    map[store.BatchKey]bool
	sessions map[int64]*sessionState
	// pages holds the page views read or written; nil marks one the store
	// was asked for and does not have.
	pages      map[pageRef]*store.PageView
	dirtyPages map[pageRef]bool
	ignored    []ignoredSession
	clicks     []store.Click
	customs    []store.CustomEvent
	pageErrors []store.PageError
	chunks     []*store.Chunk
	rollUps    store.RollUps
}

// sessionState is a session as the group knows it.
type sessionState struct {
	// sess is nil while the session is neither stored nor opened by a batch
	// of the group, and when it is ignored.
	sess    *store.Session
	ignored bool
	dirty   bool
	// stored tells whether the session was in the store before the group,
	// and so whether its page views and clicks may be there.
	stored bool
	// storedLastAt is the session's last event time as stored. Every event
	// of a batch moves the session's last time to at least its own, so no
	// stored click is later: a click more than the rage window after it
	// cannot be near a stored one, and the store need not be asked.
	storedLastAt int64
	// storedClicks are the stored clicks at or after clicksSince, read when
	// a click first needs them (clicksSince is MaxInt64 until then).
	storedClicks []store.Click
	clicksSince  int64
	// clicks are the clicks the group added to the session.
	clicks []store.Click
}

type pageRef struct {
	sessionID, pid int64
}

type ignoredSession struct {
	id     int64
	reason string
}

func newGroup(tx *store.Tx) *group {
	return &group{tx: tx, sessions: map[int64]*sessionState{},
		pages: map[pageRef]*store.PageView{}, dirtyPages: map[pageRef]bool{}}
}

// start claims the batches of items and reads what the group needs to know
// of their sessions, in a few statements for the whole group. Nothing the
// group does reaches the store before flush, so reading ahead sees what
// reading one batch at a time would have seen.
func (g *group) start(items []*item) error {
	keys := make([]store.BatchKey, len(items))
	ids := make([]int64, len(items))
	for i, it := range items {
		keys[i] = store.BatchKey{SessionID: it.rec.SessionID, Seq: it.rec.Seq}
		ids[i] = it.rec.SessionID
	}
	var err error
	if g.fresh, err = g.tx.ClaimBatches(keys); err != nil {
		return err
	}
	return g.load(ids)
}

// claimed reports whether a batch is to be written: it was new to the store
// and is not a second copy within the group.
func (g *group) claimed(k store.BatchKey) bool {
	if !g.fresh[k] {
		return false
	}
	delete(g.fresh, k)
	return true
}

// load reads whether each of the sessions not yet known is ignored and, if
// not, its stored state.
func (g *group) load(ids []int64) error {
	var missing []int64
	for _, id := range ids {
		if g.sessions[id] == nil {
			g.sessions[id] = &sessionState{clicksSince: math.MaxInt64}
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	ignored, err := g.tx.Ignored(missing)
	if err != nil {
		return err
	}
	stored, err := g.tx.Sessions(missing)
	if err != nil {
		return err
	}
	for _, id := range missing {
		st := g.sessions[id]
		if st.ignored = ignored[id]; st.ignored {
			continue
		}
		if sess := stored[id]; sess != nil {
			st.sess, st.stored, st.storedLastAt = sess, true, sess.LastAt
		}
	}
	return nil
}

// ignore marks a session the store does not have as not traffic.
func (g *group) ignore(st *sessionState, id int64, reason string) {
	st.ignored = true
	g.ignored = append(g.ignored, ignoredSession{id: id, reason: reason})
}

// page returns a page view of a session, or an error wrapping
// store.ErrNotFound.
func (g *group) page(st *sessionState, sessionID, pid int64) (*store.PageView, error) {
	ref := pageRef{sessionID: sessionID, pid: pid}
	pv, known := g.pages[ref]
	if !known && st.stored {
		var err error
		pv, err = g.tx.PageView(sessionID, pid)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	// A session new in this group has no stored page views to ask for.
	g.pages[ref] = pv
	if pv == nil {
		return nil, fmt.Errorf("page view %d: %w", pid, store.ErrNotFound)
	}
	return pv, nil
}

// savePage records a new or changed page view, to be written at flush.
func (g *group) savePage(pv *store.PageView) {
	ref := pageRef{sessionID: pv.SessionID, pid: pv.PID}
	g.pages[ref] = pv
	g.dirtyPages[ref] = true
}

// storedClicks returns stored clicks of the session, among them every one at
// or after since (and perhaps earlier ones).
func (g *group) storedClicks(st *sessionState, sessionID, since int64) ([]store.Click, error) {
	if !st.stored || st.storedLastAt < since {
		return nil, nil
	}
	if since < st.clicksSince {
		clicks, err := g.tx.RecentClicks(sessionID, since)
		if err != nil {
			return nil, err
		}
		st.storedClicks, st.clicksSince = clicks, since
	}
	return st.storedClicks, nil
}

// addClick holds a click back for flush and remembers it for the rage clicks
// of the session's later clicks.
func (g *group) addClick(st *sessionState, c store.Click) {
	g.clicks = append(g.clicks, c)
	st.clicks = append(st.clicks, c)
}

// flush writes what the group holds back: sessions before the rows that
// refer to them, and each kind of row in the order the batches made them, so
// that ids follow event order as they did when each row was written at once.
// Sessions, page views and roll-up cells go in key order, so that two
// writers touching the same rows never wait on each other in a circle.
func (g *group) flush() error {
	for _, ig := range g.ignored {
		if err := g.tx.IgnoreSession(ig.id, ig.reason); err != nil {
			return err
		}
	}
	var sessions []*store.Session
	for _, st := range g.sessions {
		if st.dirty {
			sessions = append(sessions, st.sess)
		}
	}
	slices.SortFunc(sessions, func(a, b *store.Session) int { return cmp.Compare(a.ID, b.ID) })
	if err := g.tx.SaveSessions(sessions); err != nil {
		return err
	}
	pages := make([]*store.PageView, 0, len(g.dirtyPages))
	for ref := range g.dirtyPages {
		pages = append(pages, g.pages[ref])
	}
	slices.SortFunc(pages, func(a, b *store.PageView) int {
		return cmp.Or(cmp.Compare(a.SessionID, b.SessionID), cmp.Compare(a.PID, b.PID))
	})
	if err := g.tx.SavePageViews(pages); err != nil {
		return err
	}
	if err := g.tx.AddClicks(g.clicks); err != nil {
		return err
	}
	if err := g.tx.AddCustomEvents(g.customs); err != nil {
		return err
	}
	if err := g.tx.AddErrors(g.pageErrors); err != nil {
		return err
	}
	if err := g.tx.AddChunks(g.chunks); err != nil {
		return err
	}
	return g.tx.AddRollUps(&g.rollUps)
}
