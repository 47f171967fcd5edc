package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/latchkey/latchkey/internal/account"
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

const userUsage = `Usage: latchkey user list|create|delete --org SLUG [flags]

  list     list or search the organization's users (--q, --limit)
  create   add a user (--email, --name, --kind, --role, --password-file or --temporary-password)
  delete   delete a user (--id or --email)

The operator acts with every permission of the organization, under the same
rules as the API (the last administrator cannot be deleted, and so on).
Run "latchkey user SUBCOMMAND --help" for its flags.
`

func runUser(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		return errHelp{userUsage}
	}
	sub, rest := args[0], args[1:]
	var (
		c                         common
		org                       string
		q, email, name, kind, pwf string
		id                        int64
		limit                     int
		roles                     stringList
		temp                      bool
	)
	fs := newFlagSet("user "+sub, "", getenv)
	fs.StringVar(&org, "org", "", "organization slug (required)")
	switch sub {
	case "list":
		fs.StringVar(&q, "q", "", "search: an exact ID, or part of an email or name")
		fs.IntVar(&limit, "limit", 50, "users per page (1-200)")
	case "create":
		fs.StringVar(&email, "email", "", "email (required)")
		fs.StringVar(&name, "name", "", "name (required)")
		fs.StringVar(&kind, "kind", "staff", "staff, resident or business")
		fs.Var(&roles, "role", "a role to grant; repeat for several")
		fs.StringVar(&pwf, "password-file", "", "file holding the user's password")
		fs.BoolVar(&temp, "temporary-password", false, "generate a temporary password, printed once")
	case "delete":
		fs.Int64Var(&id, "id", 0, "the user's ID")
		fs.StringVar(&email, "email", "", "the user's email")
	default:
		return fmt.Errorf("user: unknown subcommand %q (want list, create or delete)", sub)
	}
	c.register(fs)
	if err := fs.parse(rest); err != nil {
		return err
	}
	if org == "" {
		return fmt.Errorf("user %s: --org is required", sub)
	}
	if err := c.check(); err != nil {
		return fmt.Errorf("user %s: %w", sub, err)
	}
	var pw string
	if pwf != "" {
		b, err := os.ReadFile(pwf)
		if err != nil {
			return fmt.Errorf("user create: read --password-file: %w", err)
		}
		pw = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	}
	db, svc, err := c.open(ctx, c.logger(stderr), nil)
	if err != nil {
		return fmt.Errorf("user %s: %w", sub, err)
	}
	defer db.Close()
	a, err := svc.OperatorActor(ctx, org)
	if err != nil {
		return fmt.Errorf("user %s: organization %q: %s", sub, org, describe(err))
	}
	switch sub {
	case "list":
		page, err := svc.ListUsers(ctx, a, account.ListUsersInput{Q: q, Limit: limit})
		if err != nil {
			return fmt.Errorf("user list: %s", describe(err))
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tKIND\tROLES\tSTATUS")
		for _, u := range page.Users {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.Kind, strings.Join(u.Roles, ";"), u.Status)
		}
		tw.Flush()
		if page.NextCursor != "" {
			fmt.Fprintf(stdout, "(more users: narrow the search with --q or raise --limit)\n")
		}
		return nil
	case "create":
		if email == "" || name == "" {
			return errors.New("user create: --email and --name are required")
		}
		res, err := svc.CreateUser(ctx, a, account.CreateUserInput{Email: email, Name: name, Kind: account.Kind(kind),
			Roles: roles, Password: account.Secret(pw), TemporaryPassword: temp})
		if err != nil {
			return fmt.Errorf("user create: %s", describe(err))
		}
		fmt.Fprintf(stdout, "Created user %d (%s, %s).\n", res.User.ID, res.User.Email, res.User.Status)
		if res.TemporaryPassword != "" {
			fmt.Fprintf(stdout, "temporary password: %s\n", string(res.TemporaryPassword))
		}
		return nil
	case "delete":
		if (id == 0) == (email == "") {
			return errors.New("user delete: give --id or --email")
		}
		if id == 0 {
			page, err := svc.ListUsers(ctx, a, account.ListUsersInput{Email: email, Limit: 200})
			if err != nil {
				return fmt.Errorf("user delete: %s", describe(err))
			}
			for _, u := range page.Users {
				if u.Email == account.NormalizeEmail(email) {
					id = int64(u.ID)
				}
			}
			if id == 0 {
				return fmt.Errorf("user delete: no user with email %s", email)
			}
		}
		if err := svc.DeleteUser(ctx, a, account.UserID(id)); err != nil {
			return fmt.Errorf("user delete: %s", describe(err))
		}
		fmt.Fprintf(stdout, "Deleted user %s.\n", strconv.FormatInt(id, 10))
		return nil
	}
	return nil
}
