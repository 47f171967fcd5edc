package account_test

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey/internal/account"
)

func TestService_passwordHistory(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, err := f.svc.OperatorActor(ctx, "metro")
	if err != nil {
		t.Fatal(err)
	}
	three := 3
	if _, err := f.svc.UpdateOrg(ctx, a, account.SettingsPatch{PasswordPolicy: &account.PolicyPatch{History: &three}}); err != nil {
		t.Fatal(err)
	}
	cr, err := f.svc.CreateUser(ctx, a, account.CreateUserInput{Email: "h@example.org", Name: "Hal", Password: "history-pass-one"})
	if err != nil {
		t.Fatal(err)
	}
	set := func(pw string) error {
		s := account.Secret(pw)
		_, err := f.svc.UpdateUser(ctx, a, cr.User.ID, account.UserPatch{Password: &s})
		return err
	}
	for _, pw := range []string{"history-pass-two", "history-pass-three"} {
		if err := set(pw); err != nil {
			t.Fatalf("set %s: %v", pw, err)
		}
	}
	// The last 3 (the current one included) are refused, naming the rule.
	for _, pw := range []string{"history-pass-one", "history-pass-two", "history-pass-three"} {
		err := set(pw)
		var e *account.Error
		if !errorsAs(err, &e) || e.Code != account.CodePasswordPolicy || len(e.Details) != 1 || e.Details[0].Rule != "history" {
			t.Errorf("reuse %s: %v, want password_policy naming history", pw, err)
		}
	}
	if err := set("history-pass-four"); err != nil {
		t.Fatal(err)
	}
	// The 4th-last is allowed again.
	if err := set("history-pass-one"); err != nil {
		t.Errorf("a password 4 changes back, with history 3: %v", err)
	}
	rules, _ := f.svc.PasswordRules(ctx, "metro")
	found := false
	for _, r := range rules {
		found = found || r.Rule == "history"
	}
	if !found {
		t.Errorf("the rules do not list history: %v", rules)
	}
}
