package sqlstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "latchkey-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "latchkey.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	err = db.Tx(ctx, func(tx account.Tx) error {
		return tx.CreateOrg(ctx, &account.Org{Slug: "springfield", Name: "City of Springfield", Settings: account.DefaultSettings()})
	})
	if err != nil {
		log.Fatal(err)
	}
	err = db.View(ctx, func(tx account.Tx) error {
		o, err := tx.OrgBySlug(ctx, "springfield")
		if err != nil {
			return err
		}
		fmt.Println(db.Dialect(), o.Name, o.Settings.Lockout.MaxFailures)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output: sqlite City of Springfield 5
}
