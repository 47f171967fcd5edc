package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// postFile posts an import form as the browser does: multipart, with the
// CSRF token, the file and the other fields. It follows redirects.
func (p *pc) postFile(path, filename, content string, fields map[string]string) (int, string, *http.Response) {
	p.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	u, _ := url.Parse(p.e.ts.URL)
	for _, c := range p.c.Jar.Cookies(u) {
		if c.Name == "latchkey_csrf" {
			mw.WriteField("csrf_token", c.Value)
		}
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if filename != "" {
		h := map[string][]string{
			"Content-Disposition": {fmt.Sprintf(`form-data; name="file"; filename=%q`, filename)},
			"Content-Type":        {"text/csv"},
		}
		fw, err := mw.CreatePart(h)
		if err != nil {
			p.t.Fatal(err)
		}
		io.WriteString(fw, content)
	}
	mw.Close()
	res, err := p.c.Post(p.e.ts.URL+path, mw.FormDataContentType(), &body)
	if err != nil {
		p.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(b), res
}

var digestRE = regexp.MustCompile(`name="preview_digest" value="([^"]+)"`)

// count reads a count of the Import page ("To create", "Rejected", ...).
func count(t *testing.T, body, label string) string {
	t.Helper()
	m := regexp.MustCompile(`<dt>` + regexp.QuoteMeta(label) + `</dt><dd>(\d+)</dd>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no count %q on the page:\n%s", label, body)
	}
	return m[1]
}

// rowOf is the table row of the report for a row number.
func rowOf(body string, n int) string {
	m := regexp.MustCompile(fmt.Sprintf(`<tr class="action-\w+"><td>%d</td>.*?</tr>`, n)).FindString(body)
	return html.UnescapeString(m)
}

// TestPagesImport covers the Import page (PRODUCT.md flow 7): the form and
// its templates, a preview that writes nothing, the run of the previewed file
// only, the job page and its rejected rows, a re-run that changes nothing,
// file errors next to the form, a large file as a job with its progress, and
// who may import.
func TestPagesImport(t *testing.T) {
	e := newEnv(t, envOpts{})
	tok := e.token()
	admin := signInPage(t, e, "ann@example.org", adminPassword)
	users := func(q string) int {
		t.Helper()
		st, m := e.call("GET", "/api/v1/users?q="+url.QueryEscape(q), tok, nil)
		if st != 200 {
			t.Fatalf("GET /api/v1/users: %d %v", st, m)
		}
		us, _ := m["users"].([]any)
		return len(us)
	}

	// The form.
	st, body := admin.get("/o/metro/admin/import")
	for _, want := range []string{
		`<a href="/o/metro/admin/import">Import</a>`,
		`<label for="import-file">File</label>`,
		`<input id="import-file" name="file" type="file" accept=".csv,.xlsx"`,
		`enctype="multipart/form-data"`,
		`<label for="all_or_nothing">Write nothing if any row is rejected</label>`,
		`<button type="submit">Preview</button>`,
		`<a href="/api/v1/imports/template.csv" download>Download template (CSV)</a>`,
		`<a href="/api/v1/imports/template.xlsx" download>Download template (Excel)</a>`,
		`<dt><code>password_hash</code></dt>`, `argon2id, bcrypt, PBKDF2, Django or Keycloak`, `separated by ;`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the Import page (%d) lacks %q", st, want)
		}
	}
	if t.Failed() {
		t.Fatal(body)
	}

	// Preview: row by row, nothing written.
	file := "email,name,kind,roles\n" +
		"imp1@example.org,Imp One,staff,User\n" +
		"imp2@example.org,Imp Two,resident,\n" +
		"not-an-email,Bad Row,staff,User\n" +
		"=cmd@example.org,Formula,alien,NoSuchRole\n"
	st, body, _ = admin.postFile("/o/metro/admin/import/preview", "users.csv", file, nil)
	if st != 200 || !strings.Contains(body, "<h1>Import preview</h1>") {
		t.Fatalf("preview: %d\n%s", st, body)
	}
	if count(t, body, "To create") != "2" || count(t, body, "Rejected") != "2" || count(t, body, "Unchanged") != "0" {
		t.Errorf("preview counts:\n%s", body)
	}
	if r := rowOf(body, 2); !strings.Contains(r, "<td>imp1@example.org</td><td>Create</td><td></td>") {
		t.Errorf("row 2: %s", r)
	}
	if r := rowOf(body, 4); !strings.Contains(r, "<td>Reject</td>") || !strings.Contains(r, "email: Not an email address") {
		t.Errorf("row 4: %s", r)
	}
	if r := rowOf(body, 5); !strings.Contains(r, "<td>kind: Must be staff, resident or business; roles: Unknown role: NoSuchRole</td>") {
		t.Errorf("row 5 names both problems: %s", r)
	}
	if !strings.Contains(body, "Choose the same file again to run the import.") || !strings.Contains(body, `<button type="submit">Run import</button>`) {
		t.Errorf("the preview offers no run:\n%s", body)
	}
	if n := users("imp"); n != 0 {
		t.Fatalf("the preview wrote %d users", n)
	}
	digest := digestRE.FindStringSubmatch(body)
	if digest == nil {
		t.Fatal("no preview digest")
	}

	// Another file than the one previewed is not run, but previewed.
	other := strings.Replace(file, "imp2@", "imp3@", 1)
	st, body, _ = admin.postFile("/o/metro/admin/import/run", "users.csv", other, map[string]string{"preview_digest": digest[1]})
	if st != 200 || !strings.Contains(body, "This is not the file you previewed") || !strings.Contains(body, "imp3@example.org") || users("imp") != 0 {
		t.Fatalf("a run of another file: %d, %d users\n%s", st, users("imp"), body)
	}
	if _, body, _ = admin.postFile("/o/metro/admin/import/run", "users.csv", file, nil); users("imp") != 0 ||
		!strings.Contains(body, "This is not the file you previewed") {
		t.Fatal("a run without a preview wrote users")
	}

	// Run: the job page with the counts, the rows and the rejected rows.
	st, body, res := admin.postFile("/o/metro/admin/import/run", "users.csv", file, map[string]string{"preview_digest": digest[1]})
	jobPath := res.Request.URL.Path
	if st != 200 || !regexp.MustCompile(`^/o/metro/admin/import/\d+$`).MatchString(jobPath) || !strings.Contains(body, "Import finished.") {
		t.Fatalf("run: %d at %s\n%s", st, jobPath, body)
	}
	if count(t, body, "Created") != "2" || count(t, body, "Rejected") != "2" || strings.Contains(body, `http-equiv="refresh"`) {
		t.Errorf("the job's counts:\n%s", body)
	}
	if !strings.Contains(body, `<a href="`+jobPath+`/rejected.csv" download>Download rejected rows</a>`) {
		t.Errorf("no Download rejected rows:\n%s", body)
	}
	if users("imp1@example.org") != 1 || users("imp2@example.org") != 1 {
		t.Error("the run did not create the users")
	}
	r, err := admin.c.Get(e.ts.URL + jobPath + "/rejected.csv")
	if err != nil {
		t.Fatal(err)
	}
	csvBody, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment;") {
		t.Errorf("rejected.csv: %d %v", r.StatusCode, r.Header)
	}
	lines := strings.Split(strings.TrimSpace(string(csvBody)), "\r\n")
	if len(lines) != 3 || lines[0] != "email,name,kind,roles,send_welcome,problem" ||
		!strings.HasPrefix(lines[1], "not-an-email,Bad Row,staff,User,,row 4: email: Not an email address") ||
		!strings.HasPrefix(lines[2], "'=cmd@example.org,") {
		t.Errorf("rejected.csv:\n%s", csvBody)
	}
	// Fixed, the file imports as it is: the problem column is ignored.
	fixed := strings.Replace(string(csvBody), "not-an-email", "fixed@example.org", 1)
	st, body, _ = admin.postFile("/o/metro/admin/import/preview", "fixed.csv", fixed, nil)
	if st != 200 || count(t, body, "To create") != "1" || count(t, body, "Rejected") != "1" {
		t.Errorf("the fixed rejected rows: %d\n%s", st, body)
	}

	// The same file again: unchanged, nothing created.
	_, body, _ = admin.postFile("/o/metro/admin/import/preview", "users.csv", file, nil)
	if count(t, body, "To create") != "0" || count(t, body, "Unchanged") != "2" {
		t.Errorf("the second preview:\n%s", body)
	}
	digest = digestRE.FindStringSubmatch(body)
	_, body, _ = admin.postFile("/o/metro/admin/import/run", "users.csv", file, map[string]string{"preview_digest": digest[1]})
	if count(t, body, "Created") != "0" || count(t, body, "Updated") != "0" || count(t, body, "Unchanged") != "2" {
		t.Errorf("the second run:\n%s", body)
	}

	// All or nothing: a rejected row, nothing written, the reason shown.
	aon := "email,name\nimp4@example.org,Imp Four\nbad,Bad\n"
	_, body, _ = admin.postFile("/o/metro/admin/import/preview", "aon.csv", aon, map[string]string{"all_or_nothing": "1"})
	digest = digestRE.FindStringSubmatch(body)
	if !strings.Contains(body, `id="all_or_nothing" name="all_or_nothing" value="1" checked`) || digest == nil {
		t.Fatalf("the preview forgets all or nothing:\n%s", body)
	}
	_, body, _ = admin.postFile("/o/metro/admin/import/run", "aon.csv", aon, map[string]string{"all_or_nothing": "1", "preview_digest": digest[1]})
	if !strings.Contains(body, "The import failed: Rows were rejected") || users("imp4") != 0 {
		t.Errorf("all or nothing wrote users:\n%s", body)
	}

	// Every row rejected: no run offered.
	_, body, _ = admin.postFile("/o/metro/admin/import/preview", "bad.csv", "email,name\nbad,Bad\n", nil)
	if strings.Contains(body, "Run import") || !strings.Contains(body, "Every row is rejected") {
		t.Errorf("a run is offered with every row rejected:\n%s", body)
	}

	// Errors in the file, next to the form.
	st, body, _ = admin.postFile("/o/metro/admin/import/preview", "users.csv", "email,name,nickname\na@example.org,A,x\n", nil)
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "<code>nickname</code>: unknown column") ||
		!strings.Contains(body, `<label for="import-file">File</label>`) {
		t.Errorf("an unknown column: %d\n%s", st, body)
	}
	st, body, _ = admin.postFile("/o/metro/admin/import/preview", "users.csv", "name\nA\n", nil)
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "missing the email column") {
		t.Errorf("no email column: %d\n%s", st, body)
	}
	if st, body, _ = admin.postFile("/o/metro/admin/import/preview", "", "", nil); st != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose a file to upload.") {
		t.Errorf("no file: %d\n%s", st, body)
	}
	big := "email,name\n" + strings.Repeat("x", 51<<20)
	if st, body, _ = admin.postFile("/o/metro/admin/import/preview", "big.csv", big, nil); st != http.StatusRequestEntityTooLarge ||
		!strings.Contains(body, "The file is larger than 50 MiB.") {
		t.Errorf("a file too large: %d\n%.2000s", st, body)
	}
	// A form without its CSRF token.
	req, _ := http.NewRequest("POST", e.ts.URL+"/o/metro/admin/import/preview", strings.NewReader("--x--\r\n"))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	if r, err := admin.c.Do(req); err != nil || r.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF token: %v %v", r, err)
	} else {
		r.Body.Close()
	}

	// A large file runs as a job: the page refreshes itself with a progress
	// bar until the job is done.
	var b strings.Builder
	b.WriteString("email,name,send_welcome\n")
	for i := range 1200 {
		fmt.Fprintf(&b, "bulk%04d@example.org,Bulk %04d,no\n", i, i)
	}
	_, body, _ = admin.postFile("/o/metro/admin/import/preview", "bulk.csv", b.String(), nil)
	if count(t, body, "To create") != "1200" {
		t.Fatalf("the large preview:\n%.3000s", body)
	}
	digest = digestRE.FindStringSubmatch(body)
	st, body, res = admin.postFile("/o/metro/admin/import/run", "bulk.csv", b.String(), map[string]string{"preview_digest": digest[1]})
	jobPath = res.Request.URL.Path
	if st != 200 || !strings.Contains(body, `<meta http-equiv="refresh" content="2">`) ||
		!regexp.MustCompile(`<progress id="import-progress" value="\d+" max="1200">`).MatchString(body) ||
		!strings.Contains(body, "The import is running.") {
		t.Fatalf("the running job's page: %d at %s\n%s", st, jobPath, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.svc.RunImports(ctx)
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, body = admin.get(jobPath)
		if !strings.Contains(body, `http-equiv="refresh"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job is still running:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond) // as the page's refresh does, faster
	}
	if count(t, body, "Created") != "1200" || strings.Contains(body, "<progress") || strings.Contains(body, "Download rejected rows") {
		t.Errorf("the finished job:\n%.3000s", body)
	}
	if st, _ = admin.get("/o/metro/admin/import/999999"); st != http.StatusNotFound {
		t.Errorf("no such job: %d", st)
	}

	// Without users.import or community.import: refused, and not offered.
	e.createUser(tok, map[string]any{"email": "plain@example.org", "name": "Plain User", "kind": "staff", "roles": []string{"User"}, "password": pw})
	plain := signInPage(t, e, "plain@example.org", pw)
	if st, _ = plain.get("/o/metro/admin/import"); st != http.StatusForbidden {
		t.Errorf("GET without users.import: %d", st)
	}
	if st, _, _ = plain.postFile("/o/metro/admin/import/preview", "users.csv", file, nil); st != http.StatusForbidden {
		t.Errorf("preview without users.import: %d", st)
	}
	if st, _, _ = plain.postFile("/o/metro/admin/import/run", "users.csv", "email,name\nsneak@example.org,Sneak\n", nil); st != http.StatusForbidden || users("sneak") != 0 {
		t.Errorf("run without users.import: %d", st)
	}
	if st, _ = plain.get(jobPath); st != http.StatusForbidden {
		t.Errorf("a job without users.import: %d", st)
	}
	if _, body = plain.get("/o/metro/account"); strings.Contains(body, "/admin/import") {
		t.Error("the navigation offers Import to a user without users.import")
	}
}
