package sqlstore

import "testing"

func TestScratchSQLite(t *testing.T) {
	db := scratchDB(t)
	timeQ(t, db, "fts count garcia", `SELECT count(*) FROM users_fts WHERE users_fts MATCH 'name_key : "garcia"'`)
	timeQ(t, db, "fts rowids garcia", `SELECT rowid FROM users_fts WHERE users_fts MATCH 'name_key : "garcia"'`)
	timeQ(t, db, "fts rowids garcia both", `SELECT rowid FROM users_fts WHERE users_fts MATCH 'name_key : "garcia" OR email : "garcia"'`)
	timeQ(t, db, "fts rowids 123456", `SELECT rowid FROM users_fts WHERE users_fts MATCH 'name_key : "123456" OR email : "123456"'`)
	timeQ(t, db, "fts rowids 12345", `SELECT rowid FROM users_fts WHERE users_fts MATCH 'email : "12345"'`)
	timeQ(t, db, "walk 2000", `SELECT * FROM users INDEXED BY users_org_name_key WHERE org_id = 1 ORDER BY name_key, id LIMIT 2000`)
	timeQ(t, db, "walk 2000 ids", `SELECT id FROM users INDEXED BY users_org_name_key WHERE org_id = 1 ORDER BY name_key, id LIMIT 2000`)
	timeQ(t, db, "sort garcia full", `SELECT `+userCols+` FROM users NOT INDEXED WHERE id IN (SELECT rowid FROM users_fts WHERE users_fts MATCH 'name_key : "garcia"') ORDER BY name_key, id LIMIT 21`)
	timeQ(t, db, "walk+probe garcia", `SELECT `+userCols+` FROM users INDEXED BY users_org_name_key WHERE org_id = 1 AND id IN (SELECT rowid FROM users_fts WHERE users_fts MATCH 'name_key : "garcia"') ORDER BY name_key, id LIMIT 21`)
	timeQ(t, db, "walk filter garcia", `SELECT `+userCols+` FROM users INDEXED BY users_org_name_key WHERE org_id = 1 AND instr(name_key, 'garcia') > 0 ORDER BY name_key, id LIMIT 21`)
	timeQ(t, db, "vocab", `SELECT term, doc FROM users_fts_v WHERE term IN ('gar', 'arc', 'rci', 'cia')`)
}
