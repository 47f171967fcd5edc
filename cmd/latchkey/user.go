package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

const userUsage = `Usage: latchkey user list|create|delete|reset-password|temp-password|unlock --org SLUG [flags]

  list            list or search the organization's users (--q, --limit)
  create          add a user (--email, --name, --kind, --role, --password-file or --temporary-password)
  delete          delete a user (--id or --email)
  reset-password  set the user's password from --password-file, or without it email a reset link
  temp-password   give the user a temporary password, printed once (--reason)
  unlock          clear the user's lockout (--reason)

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
		reason                    string
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
	case "delete", "reset-password", "temp-password", "unlock":
		fs.Int64Var(&id, "id", 0, "the user's ID")
		fs.StringVar(&email, "email", "", "the user's email")
		if sub != "delete" {
			fs.StringVar(&reason, "reason", "", "why, for the audit log (a ticket number, say)")
		}
		if sub == "reset-password" {
			fs.StringVar(&pwf, "password-file", "", "file holding the new password (without it, a reset link is emailed)")
		}
	default:
		return fmt.Errorf("user: unknown subcommand %q (want list, create, delete, reset-password, temp-password or unlock)", sub)
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
	default:
		uid, err := findUser(ctx, svc, a, sub, id, email)
		if err != nil {
			return err
		}
		switch sub {
		case "delete":
			err = svc.DeleteUser(ctx, a, uid)
			if err == nil {
				fmt.Fprintf(stdout, "Deleted user %d.\n", uid)
			}
		case "temp-password":
			var tp account.TempPassword
			if tp, err = svc.IssueTemporaryPassword(ctx, a, uid, reason); err == nil {
				fmt.Fprintf(stdout, "temporary password: %s\n", string(tp.Password))
				fmt.Fprintf(stdout, "It is shown only now and expires at %s; the user must choose a new password at sign-in.\n",
					tp.ExpiresAt.UTC().Format(time.RFC3339))
			}
		case "unlock":
			if _, err = svc.Unlock(ctx, a, uid, reason); err == nil {
				fmt.Fprintf(stdout, "Unlocked user %d.\n", uid)
			}
		case "reset-password":
			if pw != "" {
				p := account.Secret(pw)
				r := reason
				if _, err = svc.UpdateUser(ctx, a, uid, account.UserPatch{Password: &p, Reason: &r}); err == nil {
					fmt.Fprintf(stdout, "Set a new password for user %d; their sessions ended.\n", uid)
				}
			} else {
				var e account.Email
				if e, err = svc.SendResetEmail(ctx, a, uid); err == nil {
					fmt.Fprintf(stdout, "Queued a password reset email to %s (outbox entry %d).\n", e.To, e.ID)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("user %s: %s", sub, describe(err))
		}
		return nil
	}
}

// findUser resolves --id or --email to a user ID.
func findUser(ctx context.Context, svc *account.Service, a account.Actor, sub string, id int64, email string) (account.UserID, error) {
	if (id == 0) == (email == "") {
		return 0, fmt.Errorf("user %s: give --id or --email", sub)
	}
	if id != 0 {
		return account.UserID(id), nil
	}
	page, err := svc.ListUsers(ctx, a, account.ListUsersInput{Email: email, Limit: 200})
	if err != nil {
		return 0, fmt.Errorf("user %s: %s", sub, describe(err))
	}
	for _, u := range page.Users {
		if u.Email == account.NormalizeEmail(email) {
			return u.ID, nil
		}
	}
	return 0, fmt.Errorf("user %s: no user with email %s", sub, email)
}
