// Package storetest is the conformance suite of account.Store: every
// implementation (sqlstore on SQLite and on PostgreSQL) must pass Run.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchkey/latchkey/internal/account"
)

// Run checks every Store behaviour; open returns a fresh, migrated, empty
// store, closed by open's own t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) account.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, account.Store)
	}{
		{"OrgCreateAndLookup", testOrgCreateAndLookup},
		{"BatchWrites", testBatchWrites},
		{"OrgSlugTaken", testOrgSlugTaken},
		{"OrgSettingsRoundTrip", testOrgSettingsRoundTrip},
		{"DefaultRoles", testDefaultRoles},
		{"UserCreateAndLookup", testUserCreateAndLookup},
		{"EmailUniquePerOrgIgnoringCase", testEmailUnique},
		{"CreateUserUnknownRole", testCreateUserUnknownRole},
		{"CrossOrgIsolation", testCrossOrg},
		{"UpdateUserRoundTrip", testUpdateUser},
		{"UpdateUserEmailTaken", testUpdateUserEmailTaken},
		{"SetUserRoles", testSetUserRoles},
		{"DeleteUser", testDeleteUser},
		{"RecordLoginFailureConcurrent", testRecordLoginFailureConcurrent},
		{"RecordLoginResets", testRecordLogin},
		{"ReplacePasswordHash", testReplacePasswordHash},
		{"Sessions", testSessions},
		{"ChallengeConsumedOnce", testChallengeConsumedOnce},
		{"ChallengeExpiry", testChallengeExpiry},
		{"Audit", testAudit},
		{"TimesUTCMicroseconds", testTimes},
		{"RollbackOnError", testRollback},
		{"ViewRejectsWrites", testViewReadOnly},
		{"AutocommitAndRead", testAutocommitAndRead},
		{"UserRolesInOneRead", testUserRolesInOneRead},
		{"FinishSignIn", testFinishSignIn},
		{"Search", testSearch},
		{"SearchKeysetWhileInserting", testSearchKeysetWhileInserting},
		{"SearchFollowsWrites", testSearchFollowsWrites},
		{"RoleChanges", testRoleChanges},
		{"ReadModifyWriteLocksUser", testReadModifyWrite},
		{"OutboxEnqueueAndList", testOutboxEnqueueAndList},
		{"OutboxCountSince", testOutboxCount},
		{"OutboxClaim", testOutboxClaim},
		{"OutboxClaimConcurrent", testOutboxClaimConcurrent},
		{"ResetTokens", testResetTokens},
		{"ResetTokenConsumedOnce", testResetTokenConsumedOnce},
		{"ResetTokensInvalidate", testResetTokensInvalidate},
		{"ResetCodeAttempts", testResetCodeAttempts},
		{"ResetCodeFailureConcurrent", testResetCodeFailureConcurrent},
		{"ImportJobRoundTrip", testImportJobRoundTrip},
		{"ImportJobClaim", testImportJobClaim},
		{"ImportJobClaimConcurrent", testImportJobClaimConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// t0 is the suite's "now": UTC, whole microseconds, as the store keeps times.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)

var cmpUser = []cmp.Option{cmpopts.EquateEmpty()}

func update(t *testing.T, s account.Store, fn func(tx account.Tx) error) {
	t.Helper()
	if err := s.Tx(context.Background(), fn); err != nil {
		t.Fatalf("Tx: %v", err)
	}
}

func view(t *testing.T, s account.Store, fn func(tx account.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func wantCode(t *testing.T, what string, err error, code account.Code) {
	t.Helper()
	var e *account.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: err = %v, want *account.Error with code %q", what, err, code)
	}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("%s: err = %v, want account.ErrNotFound", what, err)
	}
}

// mustOrg creates an organization with the default roles.
func mustOrg(t *testing.T, s account.Store, slug string) account.Org {
	t.Helper()
	o := account.Org{Slug: slug, Name: "Org " + slug, Settings: account.DefaultSettings(), CreatedAt: t0}
	update(t, s, func(tx account.Tx) error {
		if err := tx.CreateOrg(context.Background(), &o); err != nil {
			return err
		}
		for _, r := range account.DefaultRoles(o.ID) {
			if err := tx.CreateRole(context.Background(), r); err != nil {
				return err
			}
		}
		return nil
	})
	return o
}

func newUser(org account.OrgID, email string, roles ...string) account.User {
	return account.User{
		OrgID: org, Email: email, Name: "Ann Lee", Kind: account.KindStaff, Roles: roles,
		Status: account.StatusActive, AuthSource: account.AuthLocal,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: t0, UpdatedAt: t0,
	}
}

func mustUser(t *testing.T, s account.Store, org account.OrgID, email string, roles ...string) account.User {
	t.Helper()
	u := newUser(org, email, roles...)
	update(t, s, func(tx account.Tx) error { return tx.CreateUser(context.Background(), &u) })
	if u.ID == 0 {
		t.Fatalf("CreateUser(%s) left ID 0", email)
	}
	return u
}

func getUser(t *testing.T, s account.Store, org account.OrgID, id account.UserID) account.User {
	t.Helper()
	var u account.User
	view(t, s, func(tx account.Tx) (err error) {
		u, err = tx.UserByID(context.Background(), org, id)
		return err
	})
	return u
}

func token(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func mustSession(t *testing.T, s account.Store, u account.User, tok string, created time.Time) account.Session {
	t.Helper()
	se := account.Session{
		OrgID: u.OrgID, UserID: u.ID, TokenHash: token(tok), CreatedAt: created, LastSeenAt: created,
		ExpiresAt: created.Add(12 * time.Hour), IP: "192.0.2.7", UserAgent: "Mozilla/5.0 test",
	}
	update(t, s, func(tx account.Tx) error { return tx.CreateSession(context.Background(), &se) })
	if se.ID == 0 {
		t.Fatal("CreateSession left ID 0")
	}
	return se
}

func mustChallenge(t *testing.T, s account.Store, u account.User, tok string, expires time.Time) account.Challenge {
	t.Helper()
	c := account.Challenge{OrgID: u.OrgID, UserID: u.ID, Kind: account.ChallengeNewPassword, TokenHash: token(tok),
		CreatedAt: t0, ExpiresAt: expires}
	update(t, s, func(tx account.Tx) error { return tx.CreateChallenge(context.Background(), &c) })
	if c.ID == 0 {
		t.Fatal("CreateChallenge left ID 0")
	}
	return c
}

func testOrgCreateAndLookup(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := account.Org{Slug: "springfield", Name: "City of Springfield", Settings: account.DefaultSettings()}
	update(t, s, func(tx account.Tx) error { return tx.CreateOrg(ctx, &o) })
	if o.ID == 0 || o.CreatedAt.IsZero() {
		t.Fatalf("CreateOrg: ID = %d, CreatedAt = %v; want both set", o.ID, o.CreatedAt)
	}
	mustOrg(t, s, "shelbyville")
	view(t, s, func(tx account.Tx) error {
		got, err := tx.OrgBySlug(ctx, "springfield")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(o, got); diff != "" {
			t.Errorf("OrgBySlug (-want +got):\n%s", diff)
		}
		got, err = tx.OrgByID(ctx, o.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(o, got); diff != "" {
			t.Errorf("OrgByID (-want +got):\n%s", diff)
		}
		n, err := tx.OrgCount(ctx)
		if err != nil {
			return err
		}
		if n != 2 {
			t.Errorf("OrgCount = %d, want 2", n)
		}
		_, err = tx.OrgBySlug(ctx, "nowhere")
		wantNotFound(t, "OrgBySlug(nowhere)", err)
		_, err = tx.OrgByID(ctx, o.ID+1000)
		wantNotFound(t, "OrgByID(missing)", err)
		return nil
	})
}

func testOrgSlugTaken(t *testing.T, s account.Store) {
	mustOrg(t, s, "springfield")
	err := s.Tx(context.Background(), func(tx account.Tx) error {
		return tx.CreateOrg(context.Background(), &account.Org{Slug: "springfield", Name: "Other", CreatedAt: t0})
	})
	wantCode(t, "CreateOrg(taken slug)", err, account.CodeOrgTaken)
}

func testOrgSettingsRoundTrip(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	want := account.DefaultSettings()
	want.SelfServiceReset = false
	want.PasswordPolicy.MinLength = 15
	want.PasswordPolicy.RequireClasses = 3
	want.Lockout = account.Lockout{MaxFailures: 3, LockMinutes: 30}
	want.SSO = &account.SSO{ProviderName: "Entra ID", LoginURL: "https://login.example.org/?a=1&b=\"x\""}
	update(t, s, func(tx account.Tx) error { return tx.UpdateOrgSettings(ctx, o.ID, want) })
	view(t, s, func(tx account.Tx) error {
		got, err := tx.OrgByID(ctx, o.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got.Settings); diff != "" {
			t.Errorf("settings after UpdateOrgSettings (-want +got):\n%s", diff)
		}
		return nil
	})
	err := s.Tx(ctx, func(tx account.Tx) error { return tx.UpdateOrgSettings(ctx, o.ID+1000, want) })
	wantNotFound(t, "UpdateOrgSettings(missing org)", err)
}

func testDefaultRoles(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustOrg(t, s, "a")
	b := mustOrg(t, s, "b")
	update(t, s, func(tx account.Tx) error {
		return tx.CreateRole(ctx, account.Role{OrgID: b.ID, Name: "Auditor", Permissions: []account.Permission{account.PermAuditRead}})
	})
	want := account.DefaultRoles(a.ID)
	for i := range want {
		want[i].Permissions = account.NewPermissionSet(want[i].Permissions...).List()
	}
	// By name: Administrator, Community Manager, User.
	want[1], want[2] = want[2], want[1]
	view(t, s, func(tx account.Tx) error {
		got, err := tx.Roles(ctx, a.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Roles(a) (-want +got):\n%s", diff)
		}
		got, err = tx.Roles(ctx, b.ID)
		if err != nil {
			return err
		}
		if len(got) != 4 {
			t.Errorf("Roles(b) = %d roles, want 4 (3 default + Auditor)", len(got))
		}
		return nil
	})
	err := s.Tx(ctx, func(tx account.Tx) error {
		return tx.CreateRole(ctx, account.Role{OrgID: a.ID, Name: account.RoleUser})
	})
	wantCode(t, "CreateRole(existing name)", err, account.CodeConflict)
}

func testUserCreateAndLookup(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	exp := t0.Add(72 * time.Hour)
	u := newUser(o.ID, "ann@example.org", account.RoleUser, account.RoleCommunityManager)
	u.Status = account.StatusForcePasswordReset
	u.TempPasswordHash = "$argon2id$temp"
	u.TempPasswordExpiresAt = &exp
	u.RequirePasswordChange = true
	update(t, s, func(tx account.Tx) error { return tx.CreateUser(ctx, &u) })

	want := u
	want.Roles = []string{account.RoleCommunityManager, account.RoleUser}
	want.Permissions = account.NewPermissionSet(
		account.PermCommunityRead, account.PermCommunityCreate, account.PermCommunityUpdate,
		account.PermCommunityDelete, account.PermCommunityImport)
	view(t, s, func(tx account.Tx) error {
		got, err := tx.UserByID(ctx, o.ID, u.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got, cmpUser...); diff != "" {
			t.Errorf("UserByID (-want +got):\n%s", diff)
		}
		got, err = tx.UserByEmail(ctx, o.ID, "ann@example.org")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got, cmpUser...); diff != "" {
			t.Errorf("UserByEmail (-want +got):\n%s", diff)
		}
		_, err = tx.UserByID(ctx, o.ID, u.ID+1000)
		wantNotFound(t, "UserByID(missing)", err)
		_, err = tx.UserByEmail(ctx, o.ID, "nobody@example.org")
		wantNotFound(t, "UserByEmail(missing)", err)
		return nil
	})

	admin := mustUser(t, s, o.ID, "root@example.org", account.RoleAdministrator, account.RoleUser)
	got := getUser(t, s, o.ID, admin.ID)
	if diff := cmp.Diff(account.NewPermissionSet(account.AllPermissions...), got.Permissions); diff != "" {
		t.Errorf("administrator's permissions (-want +got):\n%s", diff)
	}
	none := mustUser(t, s, o.ID, "none@example.org")
	if got := getUser(t, s, o.ID, none.ID); len(got.Roles) != 0 || len(got.Permissions) != 0 {
		t.Errorf("user without roles: Roles = %v, Permissions = %v; want none", got.Roles, got.Permissions)
	}
}

func testEmailUnique(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustOrg(t, s, "a")
	b := mustOrg(t, s, "b")
	ann := mustUser(t, s, a.ID, "ann@example.org")
	err := s.Tx(ctx, func(tx account.Tx) error {
		u := newUser(a.ID, "ann@example.org")
		return tx.CreateUser(ctx, &u)
	})
	wantCode(t, "CreateUser(same email, same org)", err, account.CodeEmailTaken)
	other := mustUser(t, s, b.ID, "ann@example.org")
	if other.ID == ann.ID {
		t.Fatalf("users of two orgs share ID %d", ann.ID)
	}
	view(t, s, func(tx account.Tx) error {
		got, err := tx.UserByEmail(ctx, a.ID, "  Ann@Example.ORG ")
		if err != nil {
			return fmt.Errorf("UserByEmail(%q): %w", "  Ann@Example.ORG ", err)
		}
		if got.ID != ann.ID {
			t.Errorf("UserByEmail in org a = user %d, want %d", got.ID, ann.ID)
		}
		got, err = tx.UserByEmail(ctx, b.ID, "ann@example.org")
		if err != nil {
			return err
		}
		if got.ID != other.ID {
			t.Errorf("UserByEmail in org b = user %d, want %d", got.ID, other.ID)
		}
		return nil
	})
}

func testCreateUserUnknownRole(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustOrg(t, s, "a")
	b := mustOrg(t, s, "b")
	update(t, s, func(tx account.Tx) error {
		return tx.CreateRole(ctx, account.Role{OrgID: b.ID, Name: "Auditor"})
	})
	for _, role := range []string{"Wizard", "Auditor" /* org b's */} {
		err := s.Tx(ctx, func(tx account.Tx) error {
			u := newUser(a.ID, "ann@example.org", account.RoleUser, role)
			return tx.CreateUser(ctx, &u)
		})
		wantCode(t, "CreateUser(role "+role+")", err, account.CodeValidation)
	}
	view(t, s, func(tx account.Tx) error {
		_, err := tx.UserByEmail(ctx, a.ID, "ann@example.org")
		wantNotFound(t, "UserByEmail after failed CreateUser", err)
		return nil
	})
}

func testCrossOrg(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustOrg(t, s, "a")
	b := mustOrg(t, s, "b")
	ann := mustUser(t, s, a.ID, "ann@example.org", account.RoleUser)
	mustUser(t, s, b.ID, "bob@example.org")
	se := mustSession(t, s, ann, "ann-session", t0)
	mustChallenge(t, s, ann, "ann-challenge", t0.Add(time.Hour))
	before := getUser(t, s, a.ID, ann.ID)

	view(t, s, func(tx account.Tx) error {
		_, err := tx.UserByID(ctx, b.ID, ann.ID)
		wantNotFound(t, "UserByID(other org)", err)
		_, err = tx.UserByEmail(ctx, b.ID, ann.Email)
		wantNotFound(t, "UserByEmail(other org)", err)
		ss, err := tx.UserSessions(ctx, b.ID, ann.ID)
		if err != nil {
			return err
		}
		if len(ss) != 0 {
			t.Errorf("UserSessions(other org) = %d sessions, want 0", len(ss))
		}
		return nil
	})

	// Each attempt runs in its own transaction: on PostgreSQL an error
	// aborts the transaction.
	attempt := func(what string, fn func(tx account.Tx) error) {
		t.Helper()
		wantNotFound(t, what, s.Tx(ctx, fn))
	}
	attempt("UpdateUser(other org)", func(tx account.Tx) error {
		u := before
		u.OrgID = b.ID
		u.Name = "Mallory"
		u.Status = account.StatusDisabled
		return tx.UpdateUser(ctx, &u)
	})
	attempt("DeleteUser(other org)", func(tx account.Tx) error { return tx.DeleteUser(ctx, b.ID, ann.ID) })
	attempt("SetUserRoles(other org)", func(tx account.Tx) error {
		return tx.SetUserRoles(ctx, b.ID, ann.ID, []string{account.RoleAdministrator})
	})
	attempt("RecordLoginFailure(other org)", func(tx account.Tx) error {
		_, err := tx.RecordLoginFailure(ctx, b.ID, ann.ID, t0)
		return err
	})
	attempt("RecordLogin(other org)", func(tx account.Tx) error { return tx.RecordLogin(ctx, b.ID, ann.ID, t0) })
	attempt("DeleteSession(other org)", func(tx account.Tx) error { return tx.DeleteSession(ctx, b.ID, ann.ID, se.ID) })
	update(t, s, func(tx account.Tx) error {
		n, err := tx.DeleteUserSessions(ctx, b.ID, ann.ID, 0)
		if err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("DeleteUserSessions(other org) = %d, want 0", n)
		}
		if err := tx.ReplacePasswordHash(ctx, b.ID, ann.ID, ann.PasswordHash, "$argon2id$mallory"); err != nil {
			return err
		}
		return tx.DeleteUserChallenges(ctx, b.ID, ann.ID)
	})

	if diff := cmp.Diff(before, getUser(t, s, a.ID, ann.ID), cmpUser...); diff != "" {
		t.Errorf("user changed by another org's calls (-before +after):\n%s", diff)
	}
	view(t, s, func(tx account.Tx) error {
		if _, err := tx.SessionByTokenHash(ctx, token("ann-session")); err != nil {
			t.Errorf("session after other org's deletes: %v", err)
		}
		if _, err := tx.ChallengeByTokenHash(ctx, token("ann-challenge"), t0); err != nil {
			t.Errorf("challenge after other org's DeleteUserChallenges: %v", err)
		}
		return nil
	})
}

func testUpdateUser(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	u := mustUser(t, s, o.ID, "ann@example.org", account.RoleUser)
	want := getUser(t, s, o.ID, u.ID)

	t1, t2, t3, t4 := t0.Add(time.Minute), t0.Add(2*time.Hour), t0.Add(-time.Hour), t0.Add(3*time.Second)
	want.Email = "ann.lee@example.org"
	want.Name = "Ann Lee-Smith"
	want.Status = account.StatusForcePasswordReset
	want.AuthSource = account.AuthSSO
	want.PasswordHash = "$argon2id$new"
	want.TempPasswordHash = "$argon2id$temp"
	want.TempPasswordExpiresAt = &t2
	want.RequirePasswordChange = true
	want.LockedUntil = &t1
	want.FailedLogins = 4
	want.LastLoginAt = &t3
	want.PasswordChangedAt = &t4
	want.UpdatedAt = t1
	update(t, s, func(tx account.Tx) error { return tx.UpdateUser(ctx, &want) })
	if diff := cmp.Diff(want, getUser(t, s, o.ID, u.ID), cmpUser...); diff != "" {
		t.Errorf("after UpdateUser setting every field (-want +got):\n%s", diff)
	}

	// And back: times to nil, flags off, strings empty.
	want.Status = account.StatusActive
	want.AuthSource = account.AuthLocal
	want.PasswordHash = ""
	want.TempPasswordHash = ""
	want.TempPasswordExpiresAt = nil
	want.RequirePasswordChange = false
	want.LockedUntil = nil
	want.FailedLogins = 0
	want.LastLoginAt = nil
	want.PasswordChangedAt = nil
	want.UpdatedAt = t2
	update(t, s, func(tx account.Tx) error { return tx.UpdateUser(ctx, &want) })
	if diff := cmp.Diff(want, getUser(t, s, o.ID, u.ID), cmpUser...); diff != "" {
		t.Errorf("after UpdateUser clearing fields (-want +got):\n%s", diff)
	}

	err := s.Tx(ctx, func(tx account.Tx) error {
		m := want
		m.ID += 1000
		return tx.UpdateUser(ctx, &m)
	})
	wantNotFound(t, "UpdateUser(missing)", err)
}

func testUpdateUserEmailTaken(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	mustUser(t, s, o.ID, "ann@example.org")
	bob := mustUser(t, s, o.ID, "bob@example.org")
	u := getUser(t, s, o.ID, bob.ID)
	err := s.Tx(ctx, func(tx account.Tx) error {
		u.Email = "ann@example.org"
		return tx.UpdateUser(ctx, &u)
	})
	wantCode(t, "UpdateUser(taken email)", err, account.CodeEmailTaken)
}

func testSetUserRoles(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	u := mustUser(t, s, o.ID, "ann@example.org", account.RoleUser)

	update(t, s, func(tx account.Tx) error {
		return tx.SetUserRoles(ctx, o.ID, u.ID, []string{account.RoleAdministrator, account.RoleCommunityManager, account.RoleAdministrator})
	})
	got := getUser(t, s, o.ID, u.ID)
	if diff := cmp.Diff([]string{account.RoleAdministrator, account.RoleCommunityManager}, got.Roles); diff != "" {
		t.Errorf("roles after SetUserRoles (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(account.NewPermissionSet(account.AllPermissions...), got.Permissions); diff != "" {
		t.Errorf("permissions after SetUserRoles (-want +got):\n%s", diff)
	}

	err := s.Tx(ctx, func(tx account.Tx) error {
		return tx.SetUserRoles(ctx, o.ID, u.ID, []string{account.RoleUser, "Wizard"})
	})
	wantCode(t, "SetUserRoles(unknown role)", err, account.CodeValidation)
	if got := getUser(t, s, o.ID, u.ID); len(got.Roles) != 2 {
		t.Errorf("roles after failed SetUserRoles = %v, want unchanged", got.Roles)
	}

	update(t, s, func(tx account.Tx) error { return tx.SetUserRoles(ctx, o.ID, u.ID, nil) })
	if got := getUser(t, s, o.ID, u.ID); len(got.Roles) != 0 || len(got.Permissions) != 0 {
		t.Errorf("after SetUserRoles(nil): Roles = %v, Permissions = %v; want none", got.Roles, got.Permissions)
	}
	err = s.Tx(ctx, func(tx account.Tx) error { return tx.SetUserRoles(ctx, o.ID, u.ID+1000, nil) })
	wantNotFound(t, "SetUserRoles(missing user)", err)
}

func testDeleteUser(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	ann := mustUser(t, s, o.ID, "ann@example.org", account.RoleAdministrator)
	bob := mustUser(t, s, o.ID, "bob@example.org")
	mustSession(t, s, ann, "ann-1", t0)
	mustSession(t, s, ann, "ann-2", t0)
	mustSession(t, s, bob, "bob-1", t0)
	mustChallenge(t, s, ann, "ann-c", t0.Add(time.Hour))
	update(t, s, func(tx account.Tx) error {
		return tx.AppendAudit(ctx, &account.AuditEvent{OrgID: o.ID, At: t0, Action: account.ActionLogin,
			ActorID: &ann.ID, TargetID: &ann.ID, Outcome: account.OutcomeSuccess})
	})

	update(t, s, func(tx account.Tx) error { return tx.DeleteUser(ctx, o.ID, ann.ID) })
	view(t, s, func(tx account.Tx) error {
		_, err := tx.UserByID(ctx, o.ID, ann.ID)
		wantNotFound(t, "UserByID(deleted)", err)
		_, err = tx.SessionByTokenHash(ctx, token("ann-1"))
		wantNotFound(t, "SessionByTokenHash(deleted user's)", err)
		_, err = tx.ChallengeByTokenHash(ctx, token("ann-c"), t0)
		wantNotFound(t, "ChallengeByTokenHash(deleted user's)", err)
		if _, err := tx.SessionByTokenHash(ctx, token("bob-1")); err != nil {
			t.Errorf("other user's session after DeleteUser: %v", err)
		}
		ev, err := tx.AuditEvents(ctx, o.ID, account.AuditFilter{})
		if err != nil {
			return err
		}
		if len(ev) != 1 {
			t.Errorf("audit events after DeleteUser = %d, want 1 (the log outlives users)", len(ev))
		}
		return nil
	})
	again := mustUser(t, s, o.ID, "ann@example.org")
	if again.ID == ann.ID {
		t.Errorf("new user reuses deleted user's ID %d, which audit events still name", ann.ID)
	}
	err := s.Tx(ctx, func(tx account.Tx) error { return tx.DeleteUser(ctx, o.ID, ann.ID) })
	wantNotFound(t, "DeleteUser(twice)", err)
}

func testRecordLoginFailureConcurrent(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	u := mustUser(t, s, o.ID, "ann@example.org")
	const n = 50
	var wg sync.WaitGroup
	counts := make(chan int, n)
	for range n {
		wg.Go(func() {
			err := s.Tx(ctx, func(tx account.Tx) error {
				c, err := tx.RecordLoginFailure(ctx, o.ID, u.ID, t0)
				counts <- c
				return err
			})
			if err != nil {
				t.Errorf("RecordLoginFailure: %v", err)
			}
		})
	}
	wg.Wait()
	close(counts)
	seen := map[int]bool{}
	for c := range counts {
		if seen[c] {
			t.Errorf("RecordLoginFailure returned %d twice", c)
		}
		seen[c] = true
	}
	if got := getUser(t, s, o.ID, u.ID).FailedLogins; got != n {
		t.Errorf("FailedLogins after %d concurrent failures = %d, want %d", n, got, n)
	}
}

func testRecordLogin(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	u := mustUser(t, s, o.ID, "ann@example.org")
	locked := t0.Add(15 * time.Minute)
	update(t, s, func(tx account.Tx) error {
		for range 3 {
			if _, err := tx.RecordLoginFailure(ctx, o.ID, u.ID, t0); err != nil {
				return err
			}
		}
		v, err := tx.UserByID(ctx, o.ID, u.ID)
		if err != nil {
			return err
		}
		v.LockedUntil = &locked
		return tx.UpdateUser(ctx, &v)
	})
	if got := getUser(t, s, o.ID, u.ID); got.FailedLogins != 3 || got.LockedUntil == nil {
		t.Fatalf("before RecordLogin: FailedLogins = %d, LockedUntil = %v; want 3, set", got.FailedLogins, got.LockedUntil)
	}
	at := t0.Add(time.Hour)
	update(t, s, func(tx account.Tx) error { return tx.RecordLogin(ctx, o.ID, u.ID, at) })
	got := getUser(t, s, o.ID, u.ID)
	if got.FailedLogins != 0 || got.LockedUntil != nil || got.LastLoginAt == nil || !got.LastLoginAt.Equal(at) {
		t.Errorf("after RecordLogin(%v): FailedLogins = %d, LockedUntil = %v, LastLoginAt = %v; want 0, nil, %v",
			at, got.FailedLogins, got.LockedUntil, got.LastLoginAt, at)
	}
	err := s.Tx(ctx, func(tx account.Tx) error { return tx.RecordLogin(ctx, o.ID, u.ID+1000, at) })
	wantNotFound(t, "RecordLogin(missing)", err)
	err = s.Tx(ctx, func(tx account.Tx) error {
		_, err := tx.RecordLoginFailure(ctx, o.ID, u.ID+1000, at)
		return err
	})
	wantNotFound(t, "RecordLoginFailure(missing)", err)
}

func testReplacePasswordHash(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	u := mustUser(t, s, o.ID, "ann@example.org")
	old := u.PasswordHash
	update(t, s, func(tx account.Tx) error {
		return tx.ReplacePasswordHash(ctx, o.ID, u.ID, "$2b$10$stale", "$argon2id$x")
	})
	if got := getUser(t, s, o.ID, u.ID).PasswordHash; got != old {
		t.Errorf("after ReplacePasswordHash with a stale old hash: hash = %q, want unchanged %q", got, old)
	}
	update(t, s, func(tx account.Tx) error { return tx.ReplacePasswordHash(ctx, o.ID, u.ID, old, "$argon2id$rehashed") })
	if got := getUser(t, s, o.ID, u.ID).PasswordHash; got != "$argon2id$rehashed" {
		t.Errorf("after ReplacePasswordHash: hash = %q, want %q", got, "$argon2id$rehashed")
	}

	// A user without a password does not get one by a "rehash".
	none := newUser(o.ID, "sso@example.org")
	none.PasswordHash = ""
	update(t, s, func(tx account.Tx) error { return tx.CreateUser(ctx, &none) })
	update(t, s, func(tx account.Tx) error { return tx.ReplacePasswordHash(ctx, o.ID, none.ID, "", "$argon2id$x") })
	if got := getUser(t, s, o.ID, none.ID).PasswordHash; got != "" {
		t.Errorf("ReplacePasswordHash(old \"\") set hash %q, want none", got)
	}
}

func testSessions(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	ann := mustUser(t, s, o.ID, "ann@example.org")
	bob := mustUser(t, s, o.ID, "bob@example.org")
	s1 := mustSession(t, s, ann, "one", t0)
	s2 := mustSession(t, s, ann, "two", t0.Add(time.Minute))
	s3 := mustSession(t, s, ann, "three", t0.Add(2*time.Minute))
	b1 := mustSession(t, s, bob, "bob", t0)

	view(t, s, func(tx account.Tx) error {
		got, err := tx.SessionByTokenHash(ctx, token("two"))
		if err != nil {
			return err
		}
		if diff := cmp.Diff(s2, got); diff != "" {
			t.Errorf("SessionByTokenHash (-want +got):\n%s", diff)
		}
		_, err = tx.SessionByTokenHash(ctx, token("nope"))
		wantNotFound(t, "SessionByTokenHash(unknown)", err)
		list, err := tx.UserSessions(ctx, o.ID, ann.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]account.Session{s3, s2, s1}, list); diff != "" {
			t.Errorf("UserSessions, newest first (-want +got):\n%s", diff)
		}
		return nil
	})

	err := s.Tx(ctx, func(tx account.Tx) error {
		dup := account.Session{OrgID: o.ID, UserID: bob.ID, TokenHash: token("one"), CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0}
		return tx.CreateSession(ctx, &dup)
	})
	if err == nil {
		t.Error("CreateSession with a token hash already in use succeeded")
	}

	seen := t0.Add(5 * time.Minute)
	update(t, s, func(tx account.Tx) error { return tx.TouchSession(ctx, s1.ID, seen) })
	view(t, s, func(tx account.Tx) error {
		got, err := tx.SessionByTokenHash(ctx, token("one"))
		if err != nil {
			return err
		}
		if !got.LastSeenAt.Equal(seen) {
			t.Errorf("LastSeenAt after TouchSession = %v, want %v", got.LastSeenAt, seen)
		}
		return nil
	})
	err = s.Tx(ctx, func(tx account.Tx) error { return tx.TouchSession(ctx, s3.ID+1000, seen) })
	wantNotFound(t, "TouchSession(missing)", err)

	update(t, s, func(tx account.Tx) error { return tx.DeleteSession(ctx, o.ID, ann.ID, s2.ID) })
	err = s.Tx(ctx, func(tx account.Tx) error { return tx.DeleteSession(ctx, o.ID, ann.ID, s2.ID) })
	wantNotFound(t, "DeleteSession(twice)", err)
	err = s.Tx(ctx, func(tx account.Tx) error { return tx.DeleteSession(ctx, o.ID, ann.ID, b1.ID) })
	wantNotFound(t, "DeleteSession(another user's)", err)

	s4 := mustSession(t, s, ann, "four", t0.Add(3*time.Minute))
	update(t, s, func(tx account.Tx) error {
		n, err := tx.DeleteUserSessions(ctx, o.ID, ann.ID, s4.ID)
		if err != nil {
			return err
		}
		if n != 2 {
			t.Errorf("DeleteUserSessions(keep %d) = %d, want 2", s4.ID, n)
		}
		return nil
	})
	view(t, s, func(tx account.Tx) error {
		list, err := tx.UserSessions(ctx, o.ID, ann.ID)
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != s4.ID {
			t.Errorf("UserSessions after DeleteUserSessions(keep) = %v, want only %d", list, s4.ID)
		}
		if _, err := tx.SessionByTokenHash(ctx, token("bob")); err != nil {
			t.Errorf("bob's session after ann's DeleteUserSessions: %v", err)
		}
		return nil
	})
	update(t, s, func(tx account.Tx) error {
		n, err := tx.DeleteUserSessions(ctx, o.ID, ann.ID, 0)
		if err != nil {
			return err
		}
		if n != 1 {
			t.Errorf("DeleteUserSessions(keep none) = %d, want 1", n)
		}
		return nil
	})
}

func testChallengeConsumedOnce(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	u := mustUser(t, s, o.ID, "ann@example.org")
	want := mustChallenge(t, s, u, "reset", t0.Add(time.Hour))
	now := t0.Add(time.Minute)

	view(t, s, func(tx account.Tx) error {
		got, err := tx.ChallengeByTokenHash(ctx, token("reset"), now)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ChallengeByTokenHash (-want +got):\n%s", diff)
		}
		return nil
	})

	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	var wins []account.Challenge
	for range n {
		wg.Go(func() {
			err := s.Tx(ctx, func(tx account.Tx) error {
				c, err := tx.ConsumeChallenge(ctx, token("reset"), now)
				if err != nil {
					return err
				}
				mu.Lock()
				wins = append(wins, c)
				mu.Unlock()
				return nil
			})
			if err != nil && !errors.Is(err, account.ErrNotFound) {
				t.Errorf("ConsumeChallenge: %v", err)
			}
		})
	}
	wg.Wait()
	if len(wins) != 1 {
		t.Fatalf("%d concurrent ConsumeChallenge: %d succeeded, want exactly 1", n, len(wins))
	}
	if diff := cmp.Diff(want, wins[0]); diff != "" {
		t.Errorf("ConsumeChallenge result (-want +got):\n%s", diff)
	}
	view(t, s, func(tx account.Tx) error {
		_, err := tx.ChallengeByTokenHash(ctx, token("reset"), now)
		wantNotFound(t, "ChallengeByTokenHash(consumed)", err)
		return nil
	})
}

func testChallengeExpiry(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	u := mustUser(t, s, o.ID, "ann@example.org")
	exp := t0.Add(time.Hour)
	mustChallenge(t, s, u, "c1", exp)
	mustChallenge(t, s, u, "c2", exp)
	for _, now := range []time.Time{exp, exp.Add(time.Microsecond), exp.Add(time.Hour)} {
		err := s.Tx(ctx, func(tx account.Tx) error {
			_, err := tx.ConsumeChallenge(ctx, token("c1"), now)
			return err
		})
		wantNotFound(t, fmt.Sprintf("ConsumeChallenge(expires %v, now %v)", exp, now), err)
		err = s.View(ctx, func(tx account.Tx) error {
			_, err := tx.ChallengeByTokenHash(ctx, token("c1"), now)
			return err
		})
		wantNotFound(t, fmt.Sprintf("ChallengeByTokenHash(expires %v, now %v)", exp, now), err)
	}
	update(t, s, func(tx account.Tx) error {
		_, err := tx.ConsumeChallenge(ctx, token("c1"), exp.Add(-time.Microsecond))
		return err
	})
	err := s.Tx(ctx, func(tx account.Tx) error {
		_, err := tx.ConsumeChallenge(ctx, token("unknown"), t0)
		return err
	})
	wantNotFound(t, "ConsumeChallenge(unknown)", err)

	update(t, s, func(tx account.Tx) error { return tx.DeleteUserChallenges(ctx, o.ID, u.ID) })
	err = s.Tx(ctx, func(tx account.Tx) error {
		_, err := tx.ConsumeChallenge(ctx, token("c2"), t0)
		return err
	})
	wantNotFound(t, "ConsumeChallenge after DeleteUserChallenges", err)
}

func testAudit(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustOrg(t, s, "a")
	b := mustOrg(t, s, "b")
	ann := mustUser(t, s, a.ID, "ann@example.org")
	bob := mustUser(t, s, a.ID, "bob@example.org")

	var events []account.AuditEvent // in insertion order
	add := func(org account.OrgID, at time.Time, action account.Action, actor, target *account.UserID, details map[string]any) {
		e := account.AuditEvent{OrgID: org, At: at, Action: action, ActorID: actor, TargetID: target,
			IP: "198.51.100.1", UserAgent: "curl/8", Outcome: account.OutcomeSuccess, Details: details}
		update(t, s, func(tx account.Tx) error { return tx.AppendAudit(ctx, &e) })
		if e.ID == 0 {
			t.Fatal("AppendAudit left ID 0")
		}
		if org == a.ID {
			events = append(events, e)
		}
	}
	add(a.ID, t0, account.ActionLoginFailed, nil, &ann.ID, map[string]any{"reason": "bad_password", "count": float64(1)})
	add(a.ID, t0.Add(time.Minute), account.ActionLogin, &ann.ID, &ann.ID, nil)
	add(a.ID, t0.Add(2*time.Minute), account.ActionUserCreated, &ann.ID, &bob.ID, map[string]any{"roles": []any{"User"}})
	add(b.ID, t0.Add(2*time.Minute), account.ActionOrgCreated, nil, nil, map[string]any{})
	add(a.ID, t0.Add(3*time.Minute), account.ActionUserUpdated, &ann.ID, &bob.ID, map[string]any{"fields": []any{"name"}})
	add(a.ID, t0.Add(4*time.Minute), account.ActionLogin, &bob.ID, &bob.ID, map[string]any{})
	e := func(i ...int) []account.AuditEvent { // newest first
		var out []account.AuditEvent
		for j := len(i) - 1; j >= 0; j-- {
			out = append(out, events[i[j]])
		}
		return out
	}
	tests := []struct {
		name string
		f    account.AuditFilter
		want []account.AuditEvent
	}{
		{"all", account.AuditFilter{}, e(0, 1, 2, 3, 4)},
		{"actor", account.AuditFilter{ActorID: &ann.ID}, e(1, 2, 3)},
		{"target", account.AuditFilter{TargetID: &bob.ID}, e(2, 3, 4)},
		{"action", account.AuditFilter{Action: account.ActionLogin}, e(1, 4)},
		{"since", account.AuditFilter{Since: t0.Add(2 * time.Minute)}, e(2, 3, 4)},
		{"until", account.AuditFilter{Until: t0.Add(2 * time.Minute)}, e(0, 1)},
		{"since until", account.AuditFilter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, e(1, 2)},
		{"limit", account.AuditFilter{Limit: 2}, e(3, 4)},
		{"before", account.AuditFilter{BeforeID: events[3].ID, Limit: 2}, e(1, 2)},
		{"last page", account.AuditFilter{BeforeID: events[1].ID, Limit: 2}, e(0)},
		{"combined", account.AuditFilter{ActorID: &ann.ID, TargetID: &bob.ID, Action: account.ActionUserUpdated}, e(3)},
		{"none", account.AuditFilter{Action: account.ActionLogout}, nil},
	}
	view(t, s, func(tx account.Tx) error {
		for _, tt := range tests {
			got, err := tx.AuditEvents(ctx, a.ID, tt.f)
			if err != nil {
				return fmt.Errorf("%s: %w", tt.name, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("AuditEvents(%s: %+v) (-want +got):\n%s", tt.name, tt.f, diff)
			}
		}
		return nil
	})
}

func testTimes(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	u := mustUser(t, s, o.ID, "ann@example.org")
	zone := time.FixedZone("UTC-7", -7*3600)
	at := time.Date(2025, 12, 31, 20, 30, 0, 987654321, zone) // the next day in UTC
	update(t, s, func(tx account.Tx) error { return tx.RecordLogin(ctx, o.ID, u.ID, at) })
	want := time.Date(2026, 1, 1, 3, 30, 0, 987654000, time.UTC)
	got := getUser(t, s, o.ID, u.ID)
	if got.LastLoginAt == nil || *got.LastLoginAt != want {
		t.Errorf("LastLoginAt after RecordLogin(%v) = %v, want %v (UTC, microseconds)", at, got.LastLoginAt, want)
	}
	if got.CreatedAt != t0 || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, t0)
	}
}

func testRollback(t *testing.T, s account.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Tx(ctx, func(tx account.Tx) error {
		o := account.Org{Slug: "a", Name: "A", CreatedAt: t0}
		if err := tx.CreateOrg(ctx, &o); err != nil {
			return err
		}
		u := newUser(o.ID, "ann@example.org")
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx returned %v, want fn's error %v", err, boom)
	}
	func() {
		defer func() {
			if r := recover(); r != "panic in fn" {
				t.Errorf("recovered %v, want fn's panic", r)
			}
		}()
		s.Tx(ctx, func(tx account.Tx) error {
			o := account.Org{Slug: "b", Name: "B", CreatedAt: t0}
			if err := tx.CreateOrg(ctx, &o); err != nil {
				return err
			}
			panic("panic in fn")
		})
	}()
	view(t, s, func(tx account.Tx) error {
		n, err := tx.OrgCount(ctx)
		if err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("OrgCount after rolled-back transactions = %d, want 0", n)
		}
		return nil
	})
	// The store still works after a panic.
	mustOrg(t, s, "c")
}

// testAutocommitAndRead: outside a transaction every statement stands on
// its own. A statement of Autocommit is committed when it returns, whatever
// fn returns afterwards, and Read sees it at once.
func testAutocommitAndRead(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	u := mustUser(t, s, o.ID, "ann@example.org")
	boom := errors.New("boom")
	err := s.Autocommit(ctx, func(tx account.Tx) error {
		att, err := tx.BeginLoginAttempt(ctx, o.ID, u.ID, 5, t0)
		if err != nil {
			return err
		}
		if !att.Admitted {
			t.Errorf("BeginLoginAttempt in Autocommit = %+v, want admitted", att)
		}
		if _, err := tx.RecordLoginFailure(ctx, o.ID, u.ID, t0); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Autocommit returned %v, want fn's error", err)
	}
	err = s.Read(ctx, func(tx account.Tx) error {
		got, err := tx.UserByEmail(ctx, o.ID, "ann@example.org")
		if err != nil {
			return err
		}
		if got.FailedLogins != 1 {
			t.Errorf("failed_logins after Autocommit returned an error = %d, want 1: its statements stand", got.FailedLogins)
		}
		if _, err := tx.OrgBySlug(ctx, "springfield"); err != nil {
			return err
		}
		_, err = tx.UserByEmail(ctx, o.ID, "nobody@example.org")
		if !errors.Is(err, account.ErrNotFound) {
			t.Errorf("UserByEmail of a missing user in Read = %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The slot taken above is held: with max 2, one more is admitted.
	err = s.Autocommit(ctx, func(tx account.Tx) error {
		for i, want := range []bool{false, false} {
			att, err := tx.BeginLoginAttempt(ctx, o.ID, u.ID, 2, t0)
			if err != nil {
				return err
			}
			if att.Admitted != want {
				t.Errorf("attempt %d with one failure and one slot held (max 2): admitted %v, want %v", i, att.Admitted, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testUserRolesInOneRead: UserByID and UserByEmail give the same user with
// every role, a role without permissions too, and the union of the
// permissions, and lock the row in a Tx on PostgreSQL without refusing the
// roles' outer joins.
func testUserRolesInOneRead(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	update(t, s, func(tx account.Tx) error {
		if err := tx.CreateRole(ctx, account.Role{OrgID: o.ID, Name: "Observer"}); err != nil {
			return err
		}
		return tx.CreateRole(ctx, account.Role{OrgID: o.ID, Name: "Clerk",
			Permissions: []account.Permission{account.PermUsersRead, account.PermAuditRead}})
	})
	u := mustUser(t, s, o.ID, "ann@example.org", "Observer", "Clerk")
	wantRoles := []string{"Clerk", "Observer"}
	wantPerms := account.NewPermissionSet(account.PermUsersRead, account.PermAuditRead)
	for name, run := range map[string]func(context.Context, func(account.Tx) error) error{"View": s.View, "Tx": s.Tx, "Read": s.Read} {
		err := run(ctx, func(tx account.Tx) error {
			byID, err := tx.UserByID(ctx, o.ID, u.ID)
			if err != nil {
				return err
			}
			byEmail, err := tx.UserByEmail(ctx, o.ID, " ANN@example.org")
			if err != nil {
				return err
			}
			for how, got := range map[string]account.User{"UserByID": byID, "UserByEmail": byEmail} {
				if diff := cmp.Diff(wantRoles, got.Roles); diff != "" {
					t.Errorf("%s in %s: roles (-want +got):\n%s", how, name, diff)
				}
				if diff := cmp.Diff(wantPerms, got.Permissions); diff != "" {
					t.Errorf("%s in %s: permissions (-want +got):\n%s", how, name, diff)
				}
				if got.ID != u.ID || got.Email != "ann@example.org" {
					t.Errorf("%s in %s = user %d %q, want %d ann@example.org", how, name, got.ID, got.Email, u.ID)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func testViewReadOnly(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	err := s.View(ctx, func(tx account.Tx) error {
		return tx.CreateOrg(ctx, &account.Org{Slug: "sneaky", Name: "Sneaky", CreatedAt: t0})
	})
	if err == nil {
		t.Error("CreateOrg in View succeeded, want an error")
	}
	view(t, s, func(tx account.Tx) error {
		n, err := tx.OrgCount(ctx)
		if err != nil {
			return err
		}
		if n != 1 {
			t.Errorf("OrgCount after a write in View = %d, want 1", n)
		}
		got, err := tx.OrgByID(ctx, o.ID)
		if err != nil {
			return err
		}
		if got.Slug != o.Slug {
			t.Errorf("OrgByID in View = %q, want %q", got.Slug, o.Slug)
		}
		return nil
	})
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
