package password_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/internal/password"
)

func ExampleHasher() {
	ctx := context.Background()
	h := password.NewHasher(password.DefaultParams(), password.DefaultLimiter())

	pw := "correct horse battery staple"
	if v := password.DefaultPolicy().Check(pw); v != nil {
		fmt.Println("refused:", v)
		return
	}
	stored, err := h.Hash(ctx, password.Normalize(pw))
	if err != nil {
		fmt.Println(err) // ErrOverloaded: answer 503 with Retry-After
		return
	}
	fmt.Println(strings.HasPrefix(stored, "$argon2id$v=19$m=19456,t=2,p=1$"))

	ok, rehash, err := h.Verify(ctx, stored, password.Normalize(pw))
	fmt.Println(ok, rehash, err)

	// An imported bcrypt hash verifies, and asks to be replaced.
	ok, rehash, err = h.Verify(ctx, "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U")
	fmt.Println(ok, rehash, err)
	// Output:
	// true
	// true false <nil>
	// true true <nil>
}

func ExamplePolicy_CheckWith() {
	p := password.Policy{MinLength: 12, MaxLength: 256, RequireClasses: 2, BlockCommon: true, BlockPersonal: true}
	c := password.Context{Email: "ann.lee@example.org", Name: "Ann Lee", OrgName: "Metro Fire", OrgSlug: "metro-fire"}

	for _, r := range p.Rules() {
		fmt.Printf("%s: %s\n", r.Rule, r.Message)
	}
	for _, pw := range []string{"password", "MetroFire2024!", "correct-horse-ann-battery"} {
		fmt.Printf("%q: %v\n", pw, p.CheckWith(pw, c))
	}
	// Output:
	// min_length: At least 12 characters
	// max_length: At most 256 characters
	// require_classes: At least 2 of: lower-case letters, upper-case letters, digits, symbols
	// block_common: Not a commonly used password
	// block_personal: Not your name, email or the organization's name
	// "password": [{min_length At least 12 characters} {require_classes At least 2 of: lower-case letters, upper-case letters, digits, symbols} {block_common Not a commonly used password}]
	// "MetroFire2024!": [{block_personal Not your name, email or the organization's name}]
	// "correct-horse-ann-battery": []
}
