package web_test

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/crypto/bcrypt"
)

// upload posts an import file and decodes the report.
func (e *env) upload(token, query, contentType string, body []byte) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/imports"+query, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("import: %d, not JSON: %s", res.StatusCode, b)
	}
	return res.StatusCode, m
}

func actions(m map[string]any) string {
	var out []string
	for _, r := range m["rows"].([]any) {
		r := r.(map[string]any)
		out = append(out, fmt.Sprintf("%v:%v", r["row"], r["action"]))
	}
	return strings.Join(out, " ")
}

func num(m map[string]any, k string) int { f, _ := m[k].(float64); return int(f) }

func TestImport_previewRunRerun(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	bc, _ := bcrypt.GenerateFromPassword([]byte("moved-from-elsewhere"), 4)
	file := "Email,Name,kind,ROLES,password,password_hash\n" +
		"new1@example.org,New One,staff,User,a-long-import-password,\n" +
		"new2@example.org,New Two,resident,,,\n" +
		"bad-email,Bad,staff,,,\n" +
		"new1@example.org,Duplicate,staff,,,\n" +
		"new3@example.org,New Three,staff,Wizard,,\n" +
		"new4@example.org,New Four,staff,,short,\n" +
		"new5@example.org,New Five,staff,,,$2b$04$garbage\n" +
		"moved@example.org,Moved,staff,,," + string(bc) + "\n"
	st, m := e.upload(admin, "?dry_run=true", "text/csv", []byte(file))
	if st != 200 || num(m, "total") != 8 || num(m, "created") != 3 || num(m, "failed") != 5 {
		t.Fatalf("dry run: %d %v", st, m)
	}
	if got := actions(m); got != "2:create 3:create 4:reject 5:reject 6:reject 7:reject 8:reject 9:create" {
		t.Errorf("dry run actions: %s", got)
	}
	fieldsByRow := map[int]string{}
	for _, x := range m["errors"].([]any) {
		x := x.(map[string]any)
		fieldsByRow[num(x, "row")] += x["field"].(string) + ","
	}
	for row, f := range map[int]string{4: "email", 5: "email", 6: "roles", 7: "password", 8: "password_hash"} {
		if !strings.Contains(fieldsByRow[row], f) {
			t.Errorf("row %d: problems on %q, want %s", row, fieldsByRow[row], f)
		}
	}
	if _, l := e.call("GET", "/api/v1/users?q=new", admin, nil); len(l["users"].([]any)) != 0 {
		t.Fatalf("a dry run wrote users: %v", l)
	}
	// all_or_nothing with rejected rows writes nothing.
	st, m = e.upload(admin, "?all_or_nothing=true", "text/csv", []byte(file))
	if st != 200 || m["status"] != "failed" || num(m, "created") != 0 {
		t.Errorf("all or nothing: %d %v", st, m)
	}
	if _, l := e.call("GET", "/api/v1/users?q=new", admin, nil); len(l["users"].([]any)) != 0 {
		t.Fatalf("all_or_nothing wrote users: %v", l)
	}
	st, m = e.upload(admin, "", "text/csv", []byte(file))
	if st != 200 || m["status"] != "done" || num(m, "created") != 3 || num(m, "failed") != 5 || num(m, "id") == 0 {
		t.Fatalf("run: %d %v", st, m)
	}
	id := num(m, "id")
	if st, j := e.call("GET", fmt.Sprintf("/api/v1/imports/%d", id), admin, nil); st != 200 || num(j, "created") != 3 {
		t.Errorf("GET the import: %d %v", st, j)
	}
	// Passwords moved from elsewhere work, and are rehashed at the first sign-in.
	if st, _ := e.loginAs("metro", "moved@example.org", "moved-from-elsewhere"); st != 200 {
		t.Errorf("bcrypt import sign-in: %d", st)
	}
	if st, _ := e.loginAs("metro", "new1@example.org", "a-long-import-password"); st != 200 {
		t.Errorf("plain import sign-in: %d", st)
	}
	_, l := e.call("GET", "/api/v1/users?q=new2", admin, nil)
	if u := l["users"].([]any)[0].(map[string]any); u["status"] != "invited" || u["kind"] != "resident" {
		t.Errorf("invited resident: %v", u)
	}
	_, tok := e.loginAs("metro", "new1@example.org", "a-long-import-password")
	mailsBefore := len(e.outbox("metro"))
	// The same file again: nothing twice, no hash, session or email changed.
	st, m = e.upload(admin, "", "text/csv", []byte(file))
	if st != 200 || num(m, "created") != 0 || num(m, "updated") != 0 || num(m, "unchanged") != 3 {
		t.Fatalf("re-run: %d %v", st, m)
	}
	if st, _ := e.call("GET", "/api/v1/me", tok, nil); st != 200 {
		t.Errorf("a re-run ended a session: %d", st)
	}
	if n := len(e.outbox("metro")); n != mailsBefore {
		t.Errorf("a re-run queued %d emails", n-mailsBefore)
	}
	_, a := e.call("GET", "/api/v1/audit?action=import.completed", admin, nil)
	if n := len(a["events"].([]any)); n != 2 {
		t.Errorf("%d import.completed events, want 2", n)
	}
}

func TestImport_hashFormatsAndXLSX(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	salt := []byte("django-salt-1234")
	dk, _ := pbkdf2.Key(sha256.New, "from-django-site", salt, 10000, 32)
	django := fmt.Sprintf("pbkdf2_sha256$10000$%s$%s", salt, base64.StdEncoding.EncodeToString(dk))
	ksalt := []byte("keycloak-salt-16")
	kdk, _ := pbkdf2.Key(sha256.New, "from-keycloak-realm", ksalt, 27500, 32)
	keycloak := fmt.Sprintf(`{"algorithm":"pbkdf2-sha256","hashIterations":27500,"value":"%s","salt":"%s"}`,
		base64.StdEncoding.EncodeToString(kdk), base64.StdEncoding.EncodeToString(ksalt))

	f := excelize.NewFile()
	rows := [][]any{{"email", "name", "password_hash", "send_welcome"},
		{"dj@example.org", "Django User", django, "no"},
		{"kc@example.org", "Keycloak User", keycloak, "no"},
		{"inv@example.org", "Invited", "", "no"}}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		f.SetSheetRow("Sheet1", cell, &r)
	}
	var buf bytes.Buffer
	f.Write(&buf)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "users.xlsx")
	fw.Write(buf.Bytes())
	mw.Close()
	st, m := e.upload(admin, "", mw.FormDataContentType(), body.Bytes())
	if st != 200 || num(m, "created") != 3 {
		t.Fatalf("xlsx import: %d %v", st, m)
	}
	for email, pw := range map[string]string{"dj@example.org": "from-django-site", "kc@example.org": "from-keycloak-realm"} {
		if st, _ := e.loginAs("metro", email, pw); st != 200 {
			t.Errorf("%s sign-in: %d", email, st)
		}
	}
	for _, m := range e.outbox("metro") {
		if m.To == "inv@example.org" {
			t.Error("send_welcome no queued a welcome email")
		}
	}
}

func TestImport_refusals(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	if st, m := e.upload(admin, "", "text/csv", []byte("email,pasword\nx@example.org,p\n")); st != 422 || !strings.Contains(fmt.Sprint(m), "pasword") {
		t.Errorf("unknown column: %d %v", st, m)
	}
	if st, m := e.upload(admin, "", "text/csv", []byte("name\nAnn\n")); st != 422 {
		t.Errorf("no email column: %d %v", st, m)
	}
	if st, m := e.upload(admin, "", "text/csv", nil); st != 422 {
		t.Errorf("empty: %d %v", st, m)
	}
	if st, _ := e.upload(admin, "?dry_run=maybe", "text/csv", []byte("email\nx@example.org\n")); st != 422 {
		t.Errorf("bad dry_run: %d", st)
	}
	e.createUser(admin, map[string]any{"email": "plain@example.org", "name": "Plain", "kind": "staff", "password": pw})
	_, plain := e.loginAs("metro", "plain@example.org", pw)
	if st, _ := e.upload(plain, "", "text/csv", []byte("email,name\nx@example.org,X\n")); st != 403 {
		t.Errorf("import without users.import: %d", st)
	}
	// A Community Manager imports residents, not staff, and grants nothing beyond its own.
	e.createUser(admin, map[string]any{"email": "cm@example.org", "name": "Cm", "kind": "staff", "roles": []string{"Community Manager"}, "password": pw})
	_, cm := e.loginAs("metro", "cm@example.org", pw)
	st, m := e.upload(cm, "?dry_run=true", "text/csv", []byte("email,name,kind,roles\nr@example.org,R,resident,\ns@example.org,S,staff,\nq@example.org,Q,resident,Administrator\nplain@example.org,Plain,,\n"))
	if st != 200 || actions(m) != "2:create 3:reject 4:reject 5:reject" {
		t.Errorf("community manager: %d %s %v", st, actions(m), m["errors"])
	}
}

func TestImport_largeFileIsAJob(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.svc.RunImports(ctx)
	var b strings.Builder
	b.WriteString("email,name,send_welcome\n")
	for i := range 1200 {
		fmt.Fprintf(&b, "bulk%04d@example.org,Bulk %04d,no\n", i, i)
	}
	st, m := e.upload(admin, "", "text/csv", []byte(b.String()))
	if st != 202 || m["status"] != "running" || num(m, "id") == 0 {
		t.Fatalf("large import: %d %v", st, m)
	}
	id := num(m, "id")
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, j := e.call("GET", fmt.Sprintf("/api/v1/imports/%d", id), admin, nil)
		if j["status"] == "done" {
			if num(j, "created") != 1200 || num(j, "processed") != 1200 {
				t.Errorf("job done: %v", j["created"])
			}
			break
		}
		if j["status"] == "failed" || time.Now().After(deadline) {
			t.Fatalf("job: %v", j)
		}
		time.Sleep(50 * time.Millisecond) // polling a job in the background, as a client would
	}
}

func TestExportCSV(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	e.createUser(admin, map[string]any{"email": "x@example.org", "name": "=HYPERLINK(\"http://evil\")", "kind": "staff", "password": pw})
	e.createUser(admin, map[string]any{"email": "y@example.org", "name": "Lee, \"Ann\"", "kind": "resident", "password": pw})
	req, _ := http.NewRequest("GET", e.ts.URL+"/api/v1/exports/users.csv", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", res.StatusCode, res.Header)
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 4 || recs[0][0] != "id" || recs[0][1] != "email" {
		t.Fatalf("export CSV: %v %q", err, body)
	}
	if !strings.Contains(string(body), `"'=HYPERLINK(""http://evil"")"`) || !strings.Contains(string(body), `"Lee, ""Ann"""`) {
		t.Errorf("export cells: %s", body)
	}
	if strings.Contains(string(body), "$argon2id$") || strings.Contains(string(body), pw) {
		t.Error("the export holds a secret")
	}
}
