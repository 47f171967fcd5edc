package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/account"
)

// maxListLimit bounds a page of ListUsers.
const maxListLimit = 500

// When a trigram or role lookup could serve a search instead of a walk of
// users_org_name_key in order (see listUsersWindowed): the rows a first walk
// reads (a term in one row of 50 fills a page within it), the most lookup
// rows that are cheap to sort (a few milliseconds), and the rows a second walk
// reads (a common last name fills a page within it; first names, which start
// name_key, come in blocks of tens of thousands).
var defaultSearchTuning = searchTuning{walk: 1000, few: 2000, walk2: 50000}

// searchTuning holds the row counts of listUsersWindowed; tests shrink them
// to reach every step with a few rows.
type searchTuning struct{ walk, few, walk2 int }

// minTrigram is the shortest text, in characters, that a trigram index finds.
const minTrigram = 3

// userSearch is a UserFilter turned into SQL conditions on users.
type userSearch struct {
	where []string
	args  []any
	nargs []int // how many of args each condition of where has
	// A query of user IDs, with its arguments, that include every match and
	// that an index serves (SQLite: users_fts or user_roles); "" when no
	// filter has one. PostgreSQL's planner finds the lookup in the search's
	// own conditions (pg_trgm serves LIKE), so only the SQLite SQL has it.
	lookup     string
	lookupArgs []any
	// prefix: the folded name text of Q or Name when the trigram lookup has
	// it, and ftsMatch the lookup's FTS5 query (SQLite); see listUsersSplit
	// and listUsersSplitPostgres. prefixCond is the condition of where that
	// prefix comes from, which every row whose name_key starts with prefix
	// satisfies; prefixEmail is Q's email text when prefix is Q's, whose
	// matches also satisfy that condition ("" when prefix is Name's).
	prefix, ftsMatch string
	prefixCond       int
	prefixEmail      string
	// byID is set when f.ID pins the search to one row.
	byID  bool
	org   int64
	after *account.UserCursor
}

const afterCond = "name_key >= ? AND (name_key > ? OR id > ?)"

func (s *userSearch) add(cond string, args ...any) {
	s.where = append(s.where, cond)
	s.args = append(s.args, args...)
	s.nargs = append(s.nargs, len(args))
}

func (s *userSearch) sql() string { return strings.Join(s.where, " AND ") }

// sqlExcept returns the conditions but the one at index skip, with their
// arguments.
func (s *userSearch) sqlExcept(skip int) (string, []any) {
	var where []string
	var args []any
	at := 0
	for i, w := range s.where {
		if i != skip {
			where = append(where, w)
			args = append(args, s.args[at:at+s.nargs[i]]...)
		}
		at += s.nargs[i]
	}
	return strings.Join(where, " AND "), args
}

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
		return t.col + ` LIKE ? ESCAPE '\'`, likeContains(t.text)
	}
	return "instr(" + t.col + ", ?) > 0", t.text
}

// likeContains is the LIKE pattern (escape \) of the strings that contain s.
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
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
	s := &userSearch{prefixCond: -1}
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
	s.org, s.after = int64(org), f.After
	if f.After != nil {
		// (name_key, id) > (k, i), with name_key >= k first so that the index
		// starts there rather than filtering from the organization's start.
		s.add(afterCond, f.After.NameKey, f.After.NameKey, int64(f.After.ID))
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
			if t.col == "name_key" {
				s.prefix, s.prefixCond, s.prefixEmail = t.text, len(s.where)-1, ""
			}
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
				s.prefix, s.prefixCond, s.prefixEmail = account.FoldName(q), len(s.where)-1, emailText(q).text
			default:
				qLookup = "SELECT ? UNION ALL SELECT rowid FROM users_fts WHERE users_fts MATCH ?"
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
		s.ftsMatch = strings.Join(fts, " AND ")
		s.lookup = "SELECT rowid FROM users_fts WHERE users_fts MATCH ?"
		s.lookupArgs = []any{s.ftsMatch}
	case qLookup != "":
		s.lookup, s.lookupArgs = qLookup, qArgs
		s.prefix, s.prefixCond, s.prefixEmail = "", -1, ""
	case f.Role != "":
		s.lookup = "SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.org_id = ? AND r.name = ?"
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

// listUsersPostgres and listUsersSQLite differ in how they steer their
// planner. Either way a search is served in one of three ways:
//
//   - by ID: the primary key;
//   - when neither a trigram index nor user_roles can find its rows (no text
//     filter, or one of one or two characters): walk users_org_name_key in
//     the list's order, filtering, until the page is full;
//   - otherwise listUsersWindowed, because the planners cannot tell where in
//     the list's order the matches lie. PostgreSQL's, left alone, assumes they
//     spread evenly through the index and walks it: seconds for a common first
//     name that sorts near the end.

// listUsersPostgres asks for custom plans: a prepared statement run often
// gets a generic plan, blind to the parameters' values, which ignores the
// trigram indexes (LIKE with an unknown pattern).
func (t *tx) listUsersPostgres(ctx context.Context, s *userSearch, limit int) ([]account.User, error) {
	if _, err := t.exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
		return nil, fmt.Errorf("sqlstore: list users: %w", err)
	}
	if s.byID || s.lookup == "" {
		return t.selectUsers(ctx, `SELECT `+userCols+` FROM users WHERE `+s.sql()+listOrder, slices.Concat(s.args, []any{limit})...)
	}
	return t.listUsersWindowed(ctx, s, limit)
}

// listUsersSQLite names its indexes, since SQLite has no statistics to choose
// by. users_org_name_key holds email, kind and status too, so that a walk
// filters on the index and reads the table for matching rows only.
func (t *tx) listUsersSQLite(ctx context.Context, s *userSearch, limit int) ([]account.User, error) {
	switch {
	case s.byID:
		return t.selectUsers(ctx, `SELECT `+userCols+` FROM users NOT INDEXED WHERE `+s.sql()+listOrder,
			slices.Concat(s.args, []any{limit})...)
	case s.lookup == "":
		return t.selectUsers(ctx, `SELECT `+userCols+` FROM users INDEXED BY users_org_name_key WHERE `+s.sql()+listOrder,
			slices.Concat(s.args, []any{limit})...)
	}
	return t.listUsersWindowed(ctx, s, limit)
}

// listUsersWindowed serves a search that a lookup could serve, in steps
// that each cost little, stopping at the first that completes the page:
//
//  1. walk the next t.tuning.walk rows in order (terms common near the cursor);
//  2. when the lookup has few rows, sort them (rare terms: IDs, emails,
//     unusual names);
//  3. SQLite, with a name text: listUsersSplit, when the matches that do not
//     start with it are few (common first names);
//  4. walk the next t.tuning.walk2 rows (common last names);
//  5. sort all the lookup's rows after the walks, however many.
//
// PostgreSQL, with a name text that has a prefix range, skips step 2 for
// listUsersSplitPostgres, whose rows outside the range are never more than
// the lookup's, and takes it again at step 5: only those rows need sorting.
func (t *tx) listUsersWindowed(ctx context.Context, s *userSearch, limit int) ([]account.User, error) {
	users, end, err := t.walkWindow(ctx, s, limit, s.after, t.tuning.walk)
	if err != nil || end == nil {
		return users, err
	}
	need := limit - len(users)
	if t.pg && s.pgSplit() {
		more, ok, err := t.listUsersSplitPostgres(ctx, s, need, *end, t.tuning.few)
		if err != nil || ok {
			return append(users, more...), err
		}
		more, end, err = t.walkWindow(ctx, s, need, end, t.tuning.walk2)
		users = append(users, more...)
		if err != nil || end == nil {
			return users, err
		}
		more, _, err = t.listUsersSplitPostgres(ctx, s, limit-len(users), *end, 0)
		return append(users, more...), err
	}
	n, err := t.countLookup(ctx, s, t.tuning.few)
	if err != nil {
		return nil, err
	}
	if n < t.tuning.few {
		more, err := t.sortLookup(ctx, s, need, *end)
		return append(users, more...), err
	}
	if !t.pg && s.prefix != "" {
		n := 0
		err := t.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT rowid FROM users_fts WHERE users_fts MATCH ? LIMIT ?)`,
			s.splitMatch(), t.tuning.few).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list users: %w", err)
		}
		if n < t.tuning.few {
			more, err := t.listUsersSplit(ctx, s, need, *end)
			return append(users, more...), err
		}
	}
	more, end, err := t.walkWindow(ctx, s, need, end, t.tuning.walk2)
	users = append(users, more...)
	if err != nil || end == nil {
		return users, err
	}
	more, err = t.sortLookup(ctx, s, limit-len(users), *end)
	return append(users, more...), err
}

// walkWindow walks the budget rows after after (nil: from the start) in the
// list's order and returns the matches among them, up to limit. end is the
// window's last row, nil when the matches are the final answer: the page is
// full or the window reached the end of the list.
func (t *tx) walkWindow(ctx context.Context, s *userSearch, limit int, after *account.UserCursor, budget int) (users []account.User, end *account.UserCursor, err error) {
	if t.pg {
		return t.walkWindowPostgres(ctx, s, limit, after, budget)
	}
	// The window's last row, from the index alone.
	q := `SELECT name_key, id FROM users INDEXED BY users_org_name_key WHERE org_id = ?`
	args := []any{s.org}
	if after != nil {
		q += " AND " + afterCond
		args = append(args, after.NameKey, after.NameKey, int64(after.ID))
	}
	var last account.UserCursor
	err = t.queryRow(ctx, q+` ORDER BY name_key, id LIMIT 1 OFFSET ?`, append(args, max(budget, 1)-1)...).Scan(&last.NameKey, &last.ID)
	bounds, bargs := "", []any{}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// The window holds the rest of the list.
	case err != nil:
		return nil, nil, fmt.Errorf("sqlstore: list users: %w", err)
	default:
		end = &last
		bounds, bargs = ` AND name_key <= ? AND (name_key < ? OR id <= ?)`, []any{last.NameKey, last.NameKey, int64(last.ID)}
	}
	if after != nil {
		bounds += " AND " + afterCond
		bargs = append(bargs, after.NameKey, after.NameKey, int64(after.ID))
	}
	q = `SELECT ` + userCols + ` FROM users INDEXED BY users_org_name_key WHERE ` + s.sql() + bounds + listOrder
	users, err = t.selectUsers(ctx, q, slices.Concat(s.args, bargs, []any{limit})...)
	if err != nil || len(users) == limit {
		return users, nil, err
	}
	return users, end, nil
}

// walkWindowPostgres is walkWindow on PostgreSQL. The window is a subquery
// named users, of the columns that the conditions use, all in
// users_org_name_key: an index-only scan, which PostgreSQL filters as it
// reads it, stopping at the page's last match however early. Only a page
// left short asks for the window's last row.
func (t *tx) walkWindowPostgres(ctx context.Context, s *userSearch, limit int, after *account.UserCursor, budget int) (users []account.User, end *account.UserCursor, err error) {
	window := `SELECT org_id, name_key, id, email, kind, status FROM users WHERE org_id = ?`
	args := []any{s.org}
	if after != nil {
		window += " AND " + afterCond
		args = append(args, after.NameKey, after.NameKey, int64(after.ID))
	}
	window += ` ORDER BY name_key, id`
	users, err = t.selectUsers(ctx, `SELECT `+userCols+` FROM users WHERE id IN (SELECT id FROM (`+window+
		` LIMIT ?) AS users WHERE `+s.sql()+listOrder+`) ORDER BY name_key, id`,
		slices.Concat(args, []any{max(budget, 1)}, s.args, []any{limit})...)
	if err != nil || len(users) == limit {
		return users, nil, err
	}
	var last account.UserCursor
	err = t.queryRow(ctx, `SELECT name_key, id FROM (`+window+`) AS w LIMIT 1 OFFSET ?`, append(args, max(budget, 1)-1)...).Scan(&last.NameKey, &last.ID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return users, nil, nil // the window held the rest of the list
	case err != nil:
		return nil, nil, fmt.Errorf("sqlstore: list users: %w", err)
	}
	return users, &last, nil
}

// countLookup returns how many rows the lookup has, counting up to max only.
// On PostgreSQL it counts the search's matches, which the planner finds
// through the trigram indexes or by scanning, whichever is cheaper.
func (t *tx) countLookup(ctx context.Context, s *userSearch, max int) (int, error) {
	q, args := `SELECT COUNT(*) FROM (`+s.lookup+` LIMIT ?) AS l`, slices.Concat(s.lookupArgs, []any{max})
	if t.pg {
		q, args = `SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE `+s.sql()+` LIMIT ?) AS l`, slices.Concat(s.args, []any{max})
	}
	var n int
	if err := t.queryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: list users: %w", err)
	}
	return n, nil
}

// sortLookup returns the first limit matches after end, from the lookup's
// rows, sorted. On SQLite NOT INDEXED fetches them by rowid, and never walks
// the table in another order to probe them; on PostgreSQL sorting by an
// expression that no index holds keeps the planner from walking
// users_org_name_key ("C" stays the collation).
func (t *tx) sortLookup(ctx context.Context, s *userSearch, limit int, end account.UserCursor) ([]account.User, error) {
	q := `SELECT ` + userCols + ` FROM users NOT INDEXED WHERE id IN (` + s.lookup + `) AND ` + s.sql() + ` AND ` + afterCond +
		` ORDER BY name_key, id LIMIT ?`
	args := slices.Concat(s.lookupArgs, s.args)
	if t.pg {
		q = `SELECT ` + userCols + ` FROM users WHERE ` + s.sql() + ` AND ` + afterCond + ` ORDER BY name_key || '', id LIMIT ?`
		args = s.args
	}
	return t.selectUsers(ctx, q, slices.Concat(args, []any{end.NameKey, end.NameKey, int64(end.ID), limit})...)
}

// splitMatch is the FTS5 query of the lookup's rows whose name_key does not
// start with s.prefix.
func (s *userSearch) splitMatch() string {
	return "(" + s.ftsMatch + `) NOT name_key : ^"` + strings.ReplaceAll(s.prefix, `"`, `""`) + `"`
}

// listUsersSplit returns the first limit matches after end on SQLite.
// Sorting all the lookup's rows costs in proportion to their number, tens of
// thousands for a common first name, whose matches sort together: they are
// the rows whose name_key starts with s.prefix, one range of
// users_org_name_key. So it walks that range, sorts only the matches outside
// it, which FTS5 leaves out of the lookup itself (splitMatch), and merges
// the two.
func (t *tx) listUsersSplit(ctx context.Context, s *userSearch, limit int, end account.UserCursor) ([]account.User, error) {
	// [prefix, upper) holds exactly the strings that start with prefix:
	// upper is prefix with its last byte incremented (never 0xFF in UTF-8).
	upper := []byte(s.prefix)
	upper[len(upper)-1]++
	from := end
	if s.prefix > end.NameKey {
		from = account.UserCursor{NameKey: s.prefix} // IDs are positive
	}
	within, err := t.selectUsers(ctx, `SELECT `+userCols+` FROM users INDEXED BY users_org_name_key WHERE `+s.sql()+
		` AND `+afterCond+` AND name_key < ?`+listOrder,
		slices.Concat(s.args, []any{from.NameKey, from.NameKey, int64(from.ID), string(upper), limit})...)
	if err != nil {
		return nil, err
	}
	others, err := t.selectUsers(ctx, `SELECT `+userCols+` FROM users NOT INDEXED
		WHERE id IN (SELECT rowid FROM users_fts WHERE users_fts MATCH ?) AND `+s.sql()+` AND `+afterCond+`
			AND NOT (name_key >= ? AND name_key < ?)`+listOrder,
		slices.Concat([]any{s.splitMatch()}, s.args, []any{end.NameKey, end.NameKey, int64(end.ID), s.prefix, string(upper), limit})...)
	if err != nil {
		return nil, err
	}
	all := append(within, others...)
	slices.SortFunc(all, func(a, b account.User) int {
		return cmp.Or(strings.Compare(account.FoldName(a.Name), account.FoldName(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	return all[:min(len(all), limit)], nil
}

// prefixUpper returns the least string above every string that starts with
// prefix, in byte (code point) order: prefix with its last character
// incremented, valid UTF-8 so that PostgreSQL takes it. ok is false when
// there is none (prefix is empty, or all U+10FFFF) or prefix is not UTF-8.
func prefixUpper(prefix string) (upper string, ok bool) {
	if !utf8.ValidString(prefix) {
		return "", false
	}
	rs := []rune(prefix)
	for i := len(rs) - 1; i >= 0; i-- {
		switch rs[i] {
		case utf8.MaxRune:
			continue // drop it and increment the character before
		case 0xD7FF:
			rs[i] = 0xE000 // past the surrogates, which UTF-8 cannot hold
		default:
			rs[i]++
		}
		return string(rs[:i+1]), true
	}
	return "", false
}

// pgSplit reports whether listUsersSplitPostgres can serve s.
func (s *userSearch) pgSplit() bool {
	if s.prefix == "" || s.prefixCond < 0 {
		return false
	}
	if _, ok := prefixUpper(s.prefix); !ok {
		return false
	}
	_, ok := prefixUpper(s.prefixEmail)
	return s.prefixEmail == "" || ok
}

// listUsersSplitPostgres returns the first limit matches after end on
// PostgreSQL, as listUsersSplit does on SQLite. Sorting all the lookup's rows
// costs in proportion to their number, tens of thousands for a common first
// name, whose matches are the rows whose name_key starts with s.prefix: one
// range of users_org_name_key, read in order. Only the matches outside it
// are sorted. pg_trgm cannot leave a prefix out of its lookup as FTS5 does,
// these come from lookups that hold the range's rows only by chance, and
// filter them out (see migration 0005): the trigram index of
// substr(name_key, 2), as a name that contains the prefix without starting
// with it contains it after its first character; and, when the prefix is
// Q's, that of substr(email, 2) and the emails that start with Q's email
// text, in users_org_email_c, which holds name_key to leave the range's rows
// out without reading the table.
// Every row of these lookups satisfies the condition that the prefix comes
// from, as does every row of the range, so that condition is left out.
//
// With few > 0 it gives up (ok false) when the lookups have few rows or more
// after end, duplicates included: sorting them would cost more than a walk.
// With few = 0 it sorts them however many.
func (t *tx) listUsersSplitPostgres(ctx context.Context, s *userSearch, limit int, end account.UserCursor, few int) (users []account.User, ok bool, err error) {
	upper, _ := prefixUpper(s.prefix)
	other, oargs := s.sqlExcept(s.prefixCond)
	// The lookups' rows after end, outside the prefix range.
	base := `SELECT name_key, id FROM users WHERE ` + other + ` AND ` + afterCond + ` AND NOT (name_key >= ? AND name_key < ?)`
	bargs := slices.Concat(oargs, []any{end.NameKey, end.NameKey, int64(end.ID), s.prefix, upper})
	lookups := []string{base + ` AND substr(name_key, 2) LIKE ? ESCAPE '\'`}
	args := append(slices.Clone(bargs), likeContains(s.prefix))
	if e := s.prefixEmail; e != "" {
		eUpper, _ := prefixUpper(e)
		prefixRange := base + ` AND email COLLATE "C" >= ? AND email COLLATE "C" < ?`
		if few > 0 {
			// The name's lookup first: alone, it often has few rows or more
			// (a common last name), and the others are never read.
			lookups = append(lookups, base+` AND substr(email, 2) LIKE ? ESCAPE '\'`, prefixRange)
			args = append(slices.Concat(args, bargs, []any{likeContains(e)}, bargs), e, eUpper)
		} else {
			// All the rows: one bitmap of both trigram indexes reads each
			// once, where a name and an email hold the same text.
			lookups = []string{base + ` AND (substr(name_key, 2) LIKE ? ESCAPE '\' OR substr(email, 2) LIKE ? ESCAPE '\')`, prefixRange}
			args = append(slices.Concat(bargs, []any{likeContains(s.prefix), likeContains(e)}, bargs), e, eUpper)
		}
	}
	capped := ""
	if few > 0 {
		capped = ` LIMIT ?`
		args = append(args, few)
	}
	// The range's rows after end, in order.
	from := end
	if s.prefix > end.NameKey {
		from = account.UserCursor{NameKey: s.prefix} // IDs are positive
	}
	within := `SELECT name_key, id FROM users WHERE ` + other + ` AND ` + afterCond + ` AND name_key < ? ORDER BY name_key, id LIMIT ?`
	args = append(slices.Concat(args, oargs), from.NameKey, from.NameKey, int64(from.ID), upper, limit, limit)
	q := `WITH others AS MATERIALIZED (SELECT name_key, id FROM (` + strings.Join(lookups, ` UNION ALL `) + `) AS l` + capped + `),
		page AS ((` + within + `) UNION SELECT name_key, id FROM others)
		SELECT ` + userCols + `, (SELECT COUNT(*) FROM others) FROM users
		WHERE id IN (SELECT id FROM page ORDER BY name_key, id LIMIT ?) ORDER BY name_key, id`
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list users: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		u, err := scanUser(scanPlus{rows, &n})
		if err != nil {
			return nil, false, fmt.Errorf("sqlstore: list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("sqlstore: list users: %w", err)
	}
	// No rows: others is empty, so n is 0.
	if few > 0 && n >= few {
		return nil, false, nil
	}
	return users, true, nil
}

// scanPlus scans a row of userCols and one more column, into extra.
type scanPlus struct {
	rows  *sql.Rows
	extra any
}

func (r scanPlus) Scan(dest ...any) error { return r.rows.Scan(append(dest, r.extra)...) }

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
