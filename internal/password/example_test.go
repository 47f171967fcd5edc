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
