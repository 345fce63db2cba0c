package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	siteA := &Site{Domains: []string{"a.example"}, Name: "A"}
	siteB := &Site{Domains: []string{"b.example"}, Name: "B"}
	for _, site := range []*Site{siteA, siteB} {
		if err := s.CreateSite(ctx, site); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers = %d, %v", n, err)
	}

	// A second setup link revokes the first.
	expires := time.Now().Add(time.Hour).UnixMilli()
	old, err := s.CreateInvite(ctx, Invite{Admin: true, ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := s.CreateInvite(ctx, Invite{Admin: true, ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.InviteByToken(ctx, old); !errors.Is(err, ErrNotFound) {
		t.Errorf("old setup link: %v, want ErrNotFound", err)
	}
	admin, err := s.AcceptInvite(ctx, setup, " Admin@Example.com ", "hash-a")
	if err != nil {
		t.Fatal(err)
	}
	if !admin.Admin || admin.Email != "admin@example.com" {
		t.Errorf("admin = %+v", admin)
	}
	if _, err := s.AcceptInvite(ctx, setup, "again@example.com", "h"); !errors.Is(err, ErrNotFound) {
		t.Errorf("reused setup link: %v, want ErrNotFound", err)
	}

	// A setup link made while a user exists cannot create a second admin.
	late, err := s.CreateInvite(ctx, Invite{Admin: true, ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptInvite(ctx, late, "late@example.com", "h"); !errors.Is(err, ErrNotFound) {
		t.Errorf("late setup link: %v, want ErrNotFound", err)
	}

	// An invitation fixes the address and the role on one site.
	inv, err := s.CreateInvite(ctx, Invite{Email: "viewer@example.com", SiteID: siteA.ID,
		Role: RoleViewer, ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	viewer, err := s.AcceptInvite(ctx, inv, "other@example.com", "hash-v")
	if err != nil {
		t.Fatal(err)
	}
	if viewer.Email != "viewer@example.com" || viewer.Admin {
		t.Errorf("viewer = %+v", viewer)
	}
	expired, _ := s.CreateInvite(ctx, Invite{Email: "x@example.com", SiteID: siteA.ID,
		Role: RoleViewer, ExpiresAt: time.Now().Add(-time.Second).UnixMilli()})
	if _, err := s.AcceptInvite(ctx, expired, "", "h"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired invitation: %v, want ErrNotFound", err)
	}
	dup, _ := s.CreateInvite(ctx, Invite{Email: "viewer@example.com", SiteID: siteB.ID,
		Role: RoleViewer, ExpiresAt: expires})
	if _, err := s.AcceptInvite(ctx, dup, "", "h"); !errors.Is(err, ErrConflict) {
		t.Errorf("invitation of a taken address: %v, want ErrConflict", err)
	}

	// Roles: the admin owns everything, the viewer sees A only.
	adminSites, err := s.UserSites(ctx, admin)
	if err != nil || len(adminSites) != 2 || adminSites[0].Role != RoleOwner {
		t.Errorf("admin sites = %+v, %v", adminSites, err)
	}
	viewerSites, err := s.UserSites(ctx, viewer)
	if err != nil || len(viewerSites) != 1 || viewerSites[0].Site.ID != siteA.ID ||
		viewerSites[0].Role != RoleViewer || viewerSites[0].Site.Domains[0] != "a.example" {
		t.Errorf("viewer sites = %+v, %v", viewerSites, err)
	}
	if _, err := s.SiteRole(ctx, viewer, siteB.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("viewer role on B: %v, want ErrNotFound", err)
	}
	if err := s.GrantSite(ctx, viewer.ID, siteA.ID, RoleOwner); err != nil {
		t.Fatal(err)
	}
	if role, err := s.SiteRole(ctx, viewer, siteA.ID); err != nil || role != RoleOwner {
		t.Errorf("role after grant = %q, %v", role, err)
	}
	if err := s.GrantSite(ctx, viewer.ID, siteA.ID, "god"); !errors.Is(err, ErrConflict) {
		t.Errorf("unknown role: %v", err)
	}
	members, err := s.SiteMembers(ctx, siteA.ID)
	if err != nil || len(members) != 1 || members[0].Email != "viewer@example.com" {
		t.Errorf("members = %+v, %v", members, err)
	}
	if err := s.RevokeSite(ctx, viewer.ID, siteA.ID); err != nil {
		t.Fatal(err)
	}
	if sites, _ := s.UserSites(ctx, viewer); len(sites) != 0 {
		t.Errorf("sites after revoke = %+v", sites)
	}

	// Logins: the cookie finds the user until it is deleted or expires.
	cookie, csrf, err := s.CreateLogin(ctx, viewer.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.LoginByCookie(ctx, cookie)
	if err != nil || l.User.ID != viewer.ID || l.CSRF != csrf || csrf == "" {
		t.Fatalf("login = %+v, %v", l, err)
	}
	if _, err := s.LoginByCookie(ctx, cookie+"x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("wrong cookie: %v", err)
	}
	if err := s.DeleteLogin(ctx, cookie); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoginByCookie(ctx, cookie); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted login: %v", err)
	}
	short, _, _ := s.CreateLogin(ctx, viewer.ID, -time.Second)
	if _, err := s.LoginByCookie(ctx, short); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired login: %v", err)
	}
}

func TestUpdateSite(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	site := &Site{Domains: []string{"a.example"}}
	if err := s.CreateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	before := site.UpdatedAt
	site.Name, site.Domains, site.SampleRate, site.Timezone = "Shop", []string{"shop.example",
		"*.shop.example"}, 0.25, "Europe/Paris"
	if err := s.UpdateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	got, err := s.SiteByKey(ctx, site.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Shop" || len(got.Domains) != 2 || got.SampleRate != 0.25 ||
		got.Timezone != "Europe/Paris" || got.UpdatedAt <= before {
		t.Errorf("updated site = %+v", got)
	}
	changed, err := s.SitesChangedSince(ctx, before+1)
	if err != nil || len(changed) != 1 {
		t.Errorf("the change is not seen by the site cache: %+v, %v", changed, err)
	}
	site.Timezone = "Mars/Olympus"
	if err := s.UpdateSite(ctx, site); err == nil {
		t.Error("an unknown time zone was stored")
	}
}

func TestRemoveFromSite(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	site := &Site{Domains: []string{"a.example"}}
	if err := s.CreateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(time.Hour).UnixMilli()
	token, err := s.CreateInvite(ctx, Invite{Email: "member@example.com", SiteID: site.ID,
		Role: RoleViewer, ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptInvite(ctx, token, "", "h"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateInvite(ctx, Invite{Email: "Pending@example.com", SiteID: site.ID,
		Role: RoleOwner, ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateInvite(ctx, Invite{Email: "late@example.com", SiteID: site.ID,
		Role: RoleOwner, ExpiresAt: time.Now().Add(-time.Second).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	invites, err := s.SiteInvites(ctx, site.ID)
	if err != nil || len(invites) != 1 || invites[0].Email != "pending@example.com" ||
		invites[0].Role != RoleOwner {
		t.Fatalf("pending invites = %+v, %v", invites, err)
	}
	for _, email := range []string{"MEMBER@example.com", "pending@example.com"} {
		if ok, err := s.RemoveFromSite(ctx, site.ID, email); err != nil || !ok {
			t.Errorf("remove %s = %v, %v", email, ok, err)
		}
	}
	if ok, err := s.RemoveFromSite(ctx, site.ID, "nobody@example.com"); err != nil || ok {
		t.Errorf("remove a stranger = %v, %v", ok, err)
	}
	members, _ := s.SiteMembers(ctx, site.ID)
	invites, _ = s.SiteInvites(ctx, site.ID)
	if len(members) != 0 || len(invites) != 0 {
		t.Errorf("after removal: members %+v, invites %+v", members, invites)
	}
}
