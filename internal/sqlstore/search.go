package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/account"
)

// maxListLimit bounds a page of ListUsers.
const maxListLimit = 500

// defaultWalkBudget is how many rows of the name index the SQLite search
// walks, when a trigram or role lookup could serve it instead, before it gives
// up and takes the lookup. A term found in one row of 100 fills a page of 20
// within it; a rarer one leaves few enough rows for the lookup to sort.
const defaultWalkBudget = 2000

// minTrigram is the shortest text, in characters, that a trigram index finds.
const minTrigram = 3

// userSearch is a UserFilter turned into SQL conditions on users.
type userSearch struct {
	where []string
	args  []any
	// SQLite only: a condition on id, with its arguments, whose rows include
	// every match and which a lookup serves (trigrams, user_roles); "" when
	// no filter has one.
	lookup     string
	lookupArgs []any
	// byID is set when f.ID pins the search to one row.
	byID bool
	// window holds the arguments of the SQLite index walk's window: the
	// organization, and the cursor's when there is one.
	window []any
}

const afterCond = "name_key >= ? AND (name_key > ? OR id > ?)"

func (s *userSearch) add(cond string, args ...any) {
	s.where = append(s.where, cond)
	s.args = append(s.args, args...)
}

func (s *userSearch) sql() string { return strings.Join(s.where, " AND ") }

// searchText is one text to find in one column.
type searchText struct {
	col, text string
}

// usable reports whether t can match a stored value at all: the databases
// hold no NUL (PostgreSQL cannot), so a text with one matches nothing.
func (t searchText) usable() bool { return !strings.ContainsRune(t.text, 0) }

// trigram reports whether a trigram index can find t.
func (t searchText) trigram() bool { return utf8.RuneCountInString(t.text) >= minTrigram }

// contains returns the condition "t.col contains t.text", literal: % _ \ and
// quotes are ordinary characters. PostgreSQL gets LIKE, which pg_trgm's GIN
// index serves, with the pattern's metacharacters escaped; SQLite instr(),
// which has none.
func (t searchText) contains(pg bool) (string, any) {
	if pg {
		r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
		return t.col + ` LIKE ? ESCAPE '\'`, "%" + r.Replace(t.text) + "%"
	}
	return "instr(" + t.col + ", ?) > 0", t.text
}

// fts returns the FTS5 query for rows whose column contains t.text: a
// quoted string (its quotes doubled), which the trigram tokenizer matches as
// a substring.
func (t searchText) fts() string {
	return t.col + ` : "` + strings.ReplaceAll(t.text, `"`, `""`) + `"`
}

// emailText and nameText are the forms a search text is compared in: emails
// are stored lower case, names as account.FoldName.
func emailText(s string) searchText {
	return searchText{"email", strings.ToLower(strings.TrimSpace(s))}
}
func nameText(s string) searchText { return searchText{"name_key", account.FoldName(s)} }

// newUserSearch builds the conditions of f in org. It reports false when f
// can match no user, so that there is nothing to ask.
func newUserSearch(pg bool, org account.OrgID, f account.UserFilter) (*userSearch, bool) {
	if len(f.Kinds) == 0 {
		return nil, false
	}
	s := &userSearch{}
	s.add("org_id = ?", int64(org))
	kinds := make([]any, len(f.Kinds))
	for i, k := range f.Kinds {
		kinds[i] = string(k)
	}
	s.add("kind IN (?"+strings.Repeat(", ?", len(kinds)-1)+")", kinds...)
	if f.Status != "" {
		s.add("status = ?", string(f.Status))
	}
	if f.ID != nil {
		s.add("id = ?", int64(*f.ID))
		s.byID = true
	}
	s.window = []any{int64(org)}
	if f.After != nil {
		// (name_key, id) > (k, i), with name_key >= k first so that the index
		// starts there rather than filtering from the organization's start.
		s.add(afterCond, f.After.NameKey, f.After.NameKey, int64(f.After.ID))
		s.window = append(s.window, f.After.NameKey, f.After.NameKey, int64(f.After.ID))
	}
	var fts []string // FTS5 terms, all of which a match satisfies
	for _, t := range []searchText{emailText(f.Email), nameText(f.Name)} {
		if t.text == "" {
			continue
		}
		if !t.usable() {
			return nil, false
		}
		cond, arg := t.contains(pg)
		s.add(cond, arg)
		if t.trigram() {
			fts = append(fts, t.fts())
		}
	}
	var qLookup string // the lookup of Q when it is a number
	var qArgs []any
	if q := strings.TrimSpace(f.Q); q != "" {
		var ors, terms []string
		var args []any
		id, err := strconv.ParseInt(q, 10, 64)
		isID := err == nil && id > 0
		if isID {
			ors, args = append(ors, "id = ?"), append(args, id)
		}
		everything, trigram := false, true
		for _, t := range []searchText{emailText(q), nameText(q)} {
			switch {
			case t.text == "":
				everything = true // "" is in every string
			case t.usable():
				cond, arg := t.contains(pg)
				ors, args = append(ors, cond), append(args, arg)
				terms = append(terms, t.fts())
				trigram = trigram && t.trigram()
			}
		}
		switch {
		case everything:
		case len(ors) == 0:
			return nil, false
		default:
			s.add("("+strings.Join(ors, " OR ")+")", args...)
			match := strings.Join(terms, " OR ")
			switch {
			case !trigram:
				// A text too short for trigrams: no lookup holds every match.
			case !isID:
				fts = append(fts, "("+match+")")
			case len(terms) == 0:
				qLookup, qArgs = "id IN (SELECT ?)", []any{id}
			default:
				qLookup = "id IN (SELECT ? UNION ALL SELECT rowid FROM users_fts WHERE users_fts MATCH ?)"
				qArgs = []any{id, match}
			}
		}
	}
	if f.Role != "" {
		s.add(`EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
			WHERE ur.user_id = users.id AND r.org_id = ? AND r.name = ?)`, int64(org), f.Role)
	}
	// One lookup is enough: each holds every match of the whole search.
	switch {
	case len(fts) > 0:
		s.lookup = "id IN (SELECT rowid FROM users_fts WHERE users_fts MATCH ?)"
		s.lookupArgs = []any{strings.Join(fts, " AND ")}
	case qLookup != "":
		s.lookup, s.lookupArgs = qLookup, qArgs
	case f.Role != "":
		s.lookup = "id IN (SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.org_id = ? AND r.name = ?)"
		s.lookupArgs = []any{int64(org), f.Role}
	}
	return s, true
}

// ListUsers returns up to f.Limit (1..500) of the organization's users
// matching f, in the order (name_key, id), after f.After, with their roles
// and permissions.
func (t *tx) ListUsers(ctx context.Context, org account.OrgID, f account.UserFilter) ([]account.User, error) {
	s, ok := newUserSearch(t.pg, org, f)
	if !ok {
		return []account.User{}, nil
	}
	limit := min(max(f.Limit, 1), maxListLimit)
	var users []account.User
	var err error
	if t.pg {
		users, err = t.listUsersPostgres(ctx, s, limit)
	} else {
		users, err = t.listUsersSQLite(ctx, s, limit)
	}
	if err != nil {
		return nil, err
	}
	if err := t.loadUsersRoles(ctx, org, users); err != nil {
		return nil, err
	}
	return users, nil
}

const listOrder = ` ORDER BY name_key, id LIMIT ?`

// listUsersPostgres leaves the choice to the planner, which weighs walking
// users_org_name_key in order (cheap when many rows match) against the
// trigram or primary key indexes and a sort (cheap when few do), from the
// statistics of the actual pattern. It only sees the pattern when it plans
// with the parameters' values: a prepared statement run often gets a generic
// plan, blind to them, so this transaction asks for custom plans.
func (t *tx) listUsersPostgres(ctx context.Context, s *userSearch, limit int) ([]account.User, error) {
	if _, err := t.exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
		return nil, fmt.Errorf("sqlstore: list users: %w", err)
	}
	return t.selectUsers(ctx, `SELECT `+userCols+` FROM users WHERE `+s.sql()+listOrder, slices.Concat(s.args, []any{limit})...)
}

// listUsersSQLite chooses the plan itself, since SQLite has no statistics to
// choose by:
//   - by ID: the rowid;
//   - with a lookup (trigrams, a role): first walk at most t.walkBudget rows of
//     users_org_name_key in order and filter them; a full page there is the
//     answer (common terms). Otherwise take the lookup's rows and sort them
//     (rare terms);
//   - otherwise (no filter, or only ones without a lookup such as a one- or
//     two-character text): walk users_org_name_key in order until the page
//     is full.
func (t *tx) listUsersSQLite(ctx context.Context, s *userSearch, limit int) ([]account.User, error) {
	switch {
	case s.byID:
		return t.selectUsers(ctx, `SELECT `+userCols+` FROM users NOT INDEXED WHERE `+s.sql()+listOrder,
			slices.Concat(s.args, []any{limit})...)
	case s.lookup == "":
		return t.selectUsers(ctx, `SELECT `+userCols+` FROM users INDEXED BY users_org_name_key WHERE `+s.sql()+listOrder,
			slices.Concat(s.args, []any{limit})...)
	}
	// The window: the next t.walkBudget rows in the list's order, which
	// SQLite runs as a co-routine that the outer LIMIT stops as soon as the
	// page is full, and whose order satisfies the outer ORDER BY.
	window := `SELECT * FROM users INDEXED BY users_org_name_key WHERE org_id = ?`
	if len(s.window) > 1 {
		window += " AND " + afterCond
	}
	window += ` ORDER BY name_key, id LIMIT ?`
	args := slices.Concat(s.window, []any{max(t.walkBudget, 1)}, s.args, []any{limit})
	users, err := t.selectUsers(ctx, `SELECT `+userCols+` FROM (`+window+`) AS users WHERE `+s.sql()+listOrder, args...)
	if err != nil || len(users) == limit {
		return users, err
	}
	// NOT INDEXED: look the lookup's rows up by rowid and sort them, never
	// walk the table in another order and probe them.
	args = slices.Concat(s.lookupArgs, s.args, []any{limit})
	return t.selectUsers(ctx, `SELECT `+userCols+` FROM users NOT INDEXED WHERE `+s.lookup+` AND `+s.sql()+listOrder, args...)
}

func (t *tx) selectUsers(ctx context.Context, query string, args ...any) ([]account.User, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list users: %w", err)
	}
	defer rows.Close()
	users := []account.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list users: %w", err)
	}
	return users, nil
}
