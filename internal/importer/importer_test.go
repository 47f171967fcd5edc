package importer_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/xuri/excelize/v2"

	"github.com/latchkey/latchkey/internal/importer"
)

func ptr[T any](v T) *T { return &v }

// has returns the Has map of a file with the given columns.
func has(cols ...string) map[string]bool {
	m := map[string]bool{}
	for _, c := range cols {
		m[c] = true
	}
	return m
}

type problem = importer.Problem

func TestRead_CSV(t *testing.T) {
	longCell := strings.Repeat("x", importer.MaxCellBytes+1)
	tests := []struct {
		name     string
		in       string
		rows     []importer.Row
		problems []problem
	}{
		{
			name: "header_order_and_case",
			in:   " Name ,EMAIL,Kind\nAnn Lee,ann@example.org,staff\n",
			rows: []importer.Row{{Line: 2, Email: "ann@example.org", Name: "Ann Lee", Kind: "staff", Has: has("email", "name", "kind")}},
		},
		{
			name: "every_column",
			in: "send_welcome,password_hash,password,roles,kind,name,email\n" +
				"yes,$2b$04$hash,s3cret pw,User;Dispatcher,staff,Ann,ann@example.org\n",
			rows: []importer.Row{{
				Line: 2, Email: "ann@example.org", Name: "Ann", Kind: "staff", Roles: []string{"User", "Dispatcher"},
				Password: "s3cret pw", PasswordHash: "$2b$04$hash", SendWelcome: ptr(true), Has: has(importer.Columns...),
			}},
		},
		{
			name: "bom_crlf",
			in:   "\xEF\xBB\xBFemail,name\r\nann@example.org,Ann\r\n",
			rows: []importer.Row{{Line: 2, Email: "ann@example.org", Name: "Ann", Has: has("email", "name")}},
		},
		{
			name: "semicolon_quoted_roles",
			in:   "email;name;roles\nann@example.org;Lee, Ann;\"User;Dispatcher\"\n",
			rows: []importer.Row{{Line: 2, Email: "ann@example.org", Name: "Lee, Ann", Roles: []string{"User", "Dispatcher"}, Has: has("email", "name", "roles")}},
		},
		{
			name: "roles_trimmed_empty_dropped",
			in:   "email,roles\nann@example.org, User ; ;Dispatcher;\nbob@example.org,\n",
			rows: []importer.Row{
				{Line: 2, Email: "ann@example.org", Roles: []string{"User", "Dispatcher"}, Has: has("email", "roles")},
				{Line: 3, Email: "bob@example.org", Has: has("email", "roles")},
			},
		},
		{
			name: "quoted_newline_is_one_row",
			in:   "email,name\n\"ann@example.org\",\"Ann\nLee\"\nbob@example.org,Bob\n",
			rows: []importer.Row{
				{Line: 2, Email: "ann@example.org", Name: "Ann\nLee", Has: has("email", "name")},
				{Line: 3, Email: "bob@example.org", Name: "Bob", Has: has("email", "name")},
			},
		},
		{
			name: "quoted_comma_after_space",
			in:   "email, name\nann@example.org, \"Lee, Ann\"\n",
			rows: []importer.Row{{Line: 2, Email: "ann@example.org", Name: "Lee, Ann", Has: has("email", "name")}},
		},
		{
			name: "cells_trimmed",
			in:   "  email  \n\t ann@example.org  \n",
			rows: []importer.Row{{Line: 2, Email: "ann@example.org", Has: has("email")}},
		},
		{
			name: "empty_rows_skipped_lines_kept",
			in:   "\nemail,name\n\nann@example.org,Ann\n,\n  ,  \nbob@example.org,Bob",
			rows: []importer.Row{
				{Line: 4, Email: "ann@example.org", Name: "Ann", Has: has("email", "name")},
				{Line: 7, Email: "bob@example.org", Name: "Bob", Has: has("email", "name")},
			},
		},
		{
			name: "send_welcome_values",
			in:   "email,send_welcome\na@x,yes\nb@x,No\nc@x,1\nd@x,0\ne@x,Y\nf@x,n\ng@x,TRUE\nh@x,false\ni@x,\nj@x,maybe\n",
			rows: []importer.Row{
				{Line: 2, Email: "a@x", SendWelcome: ptr(true), Has: has("email", "send_welcome")},
				{Line: 3, Email: "b@x", SendWelcome: ptr(false), Has: has("email", "send_welcome")},
				{Line: 4, Email: "c@x", SendWelcome: ptr(true), Has: has("email", "send_welcome")},
				{Line: 5, Email: "d@x", SendWelcome: ptr(false), Has: has("email", "send_welcome")},
				{Line: 6, Email: "e@x", SendWelcome: ptr(true), Has: has("email", "send_welcome")},
				{Line: 7, Email: "f@x", SendWelcome: ptr(false), Has: has("email", "send_welcome")},
				{Line: 8, Email: "g@x", SendWelcome: ptr(true), Has: has("email", "send_welcome")},
				{Line: 9, Email: "h@x", SendWelcome: ptr(false), Has: has("email", "send_welcome")},
				{Line: 10, Email: "i@x", Has: has("email", "send_welcome")},
				{Line: 11, Email: "j@x", Has: has("email", "send_welcome")},
			},
			problems: []problem{{Row: 11, Field: "send_welcome"}},
		},
		{
			name:     "unknown_column",
			in:       "email,nickname\nann@example.org,Annie\n",
			rows:     []importer.Row{{Line: 2, Email: "ann@example.org", Has: has("email")}},
			problems: []problem{{Row: 0, Field: "nickname"}},
		},
		{
			name:     "duplicate_column",
			in:       "email,name,NAME\nann@example.org,Ann,Bob\n",
			rows:     []importer.Row{{Line: 2, Email: "ann@example.org", Name: "Ann", Has: has("email", "name")}},
			problems: []problem{{Row: 0, Field: "name"}},
		},
		{
			name:     "missing_email",
			in:       "name,kind\nAnn,staff\n",
			rows:     []importer.Row{{Line: 2, Name: "Ann", Kind: "staff", Has: has("name", "kind")}},
			problems: []problem{{Row: 0, Field: "email"}},
		},
		{
			name: "unnamed_column",
			in:   "email,,name\nann@example.org,,Ann\nbob@example.org,zz,Bob\n",
			rows: []importer.Row{
				{Line: 2, Email: "ann@example.org", Name: "Ann", Has: has("email", "name")},
				{Line: 3, Email: "bob@example.org", Name: "Bob", Has: has("email", "name")},
			},
			problems: []problem{{Row: 3, Field: ""}},
		},
		{
			name: "short_and_long_rows",
			in:   "email,name\nann@example.org\nbob@example.org,Bob,extra\ncid@example.org,Cid,\n",
			rows: []importer.Row{
				{Line: 2, Email: "ann@example.org", Has: has("email", "name")},
				{Line: 3, Email: "bob@example.org", Name: "Bob", Has: has("email", "name")},
				{Line: 4, Email: "cid@example.org", Name: "Cid", Has: has("email", "name")},
			},
			problems: []problem{{Row: 2}, {Row: 3}, {Row: 4}},
		},
		{
			name:     "invalid_utf8",
			in:       "email,name\nann@example.org,Ren\xe9e\n",
			rows:     []importer.Row{{Line: 2, Email: "ann@example.org", Name: "Ren\uFFFDe", Has: has("email", "name")}},
			problems: []problem{{Row: 2, Field: "name"}},
		},
		{
			name:     "invalid_utf8_header",
			in:       "email,n\xe4me\nann@example.org,x\n",
			rows:     []importer.Row{{Line: 2, Email: "ann@example.org", Has: has("email")}},
			problems: []problem{{Row: 0}},
		},
		{
			name:     "cell_too_long",
			in:       "email,name\nann@example.org," + longCell + "\n",
			rows:     []importer.Row{{Line: 2, Email: "ann@example.org", Has: has("email", "name")}},
			problems: []problem{{Row: 2, Field: "name"}},
		},
		{
			name: "bare_quote",
			in:   "email,name\nann@example.org,An\"n\nbob@example.org,Bob\n",
			rows: []importer.Row{
				{Line: 2, Has: has("email", "name")},
				{Line: 3, Email: "bob@example.org", Name: "Bob", Has: has("email", "name")},
			},
			problems: []problem{{Row: 2}},
		},
		{
			name:     "unclosed_quote",
			in:       "email,name\nann@example.org,\"Ann\nbob@example.org,Bob\n",
			rows:     []importer.Row{{Line: 2, Has: has("email", "name")}},
			problems: []problem{{Row: 2}},
		},
		{
			name:     "empty_file",
			in:       "",
			problems: []problem{{Row: 0}},
		},
		{
			name:     "blank_lines_only",
			in:       "\r\n \n,,\n",
			problems: []problem{{Row: 0}},
		},
		{
			name:     "header_only",
			in:       "email,name\r\n",
			problems: []problem{{Row: 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, problems, err := importer.Read(strings.NewReader(tt.in), importer.CSV, 100)
			if err != nil {
				t.Fatalf("Read(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.rows, rows, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Read(%q) rows (-want +got):\n%s", tt.in, diff)
			}
			checkProblems(t, tt.in, problems, tt.problems)
		})
	}
}

// checkProblems compares rows and fields; messages are checked only for
// being there and not repeating a cell.
func checkProblems(t *testing.T, in string, got, want []problem) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(problem{}, "Message")); diff != "" {
		t.Errorf("Read(%.200q) problems (-want +got):\n%s", in, diff)
	}
	for _, p := range got {
		if p.Message == "" {
			t.Errorf("problem %+v has no message", p)
		}
	}
}

func TestRead_problemMessages(t *testing.T) {
	_, problems, err := importer.Read(strings.NewReader("email,pw\nann@example.org,=secret\n"), importer.CSV, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "unknown column; the known ones are email, name, kind, roles, password, password_hash, send_welcome"
	if len(problems) != 1 || problems[0].Message != want {
		t.Errorf("problems = %+v, want one with message %q", problems, want)
	}
}

func TestRead_limits(t *testing.T) {
	rows := func(n int) string {
		var b strings.Builder
		b.WriteString("email\n")
		for i := range n {
			b.WriteString("u")
			b.WriteString(strings.Repeat("x", i%7))
			b.WriteString("@example.org\n\n")
		}
		return b.String()
	}
	tests := []struct {
		name    string
		in      string
		f       importer.Format
		maxRows int
		err     error
	}{
		{"at_the_limit", rows(3), importer.CSV, 3, nil},
		{"over_the_limit", rows(4), importer.CSV, 3, importer.ErrTooManyRows},
		{"no_limit", rows(1000), importer.CSV, 0, nil},
		{"binary", "email\n\x00\x01\x02\x03", importer.CSV, 0, importer.ErrFormat},
		{"utf16", "\xFF\xFEe\x00m\x00a\x00i\x00l\x00", importer.CSV, 0, importer.ErrFormat},
		{"zip_as_csv", "PK\x03\x04rest", importer.CSV, 0, importer.ErrFormat},
		{"csv_as_xlsx", "email\nann@example.org\n", importer.XLSX, 0, importer.ErrFormat},
		{"truncated_zip", string(xlsxFile(t, [][]any{{"email"}})[:200]), importer.XLSX, 0, importer.ErrFormat},
		{"xlsx_over_the_limit", string(xlsxFile(t, [][]any{{"email"}, {"a@x"}, {"b@x"}, {}, {"c@x"}})), importer.XLSX, 2, importer.ErrTooManyRows},
		{"unknown_format", "email\n", importer.Format("ods"), 0, importer.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := importer.Read(strings.NewReader(tt.in), tt.f, tt.maxRows)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("Read(%.40q, %s, %d) = %v, want %v", tt.in, tt.f, tt.maxRows, err, tt.err)
			}
		})
	}
}

// xlsxFile builds a workbook whose first sheet has rows (nil cells are left
// out) and whose second sheet must be ignored.
func xlsxFile(t testing.TB, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range rows {
		for j, v := range row {
			if v == nil {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellValue("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := f.NewSheet("Other"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow("Other", "A1", &[]any{"email", "nickname"}); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRead_XLSX(t *testing.T) {
	data := xlsxFile(t, [][]any{
		{"Email", " NAME ", "Roles", "send_welcome", "kind"},
		{"ann@example.org", "Lee, Ann", "User;Dispatcher", true, "staff"},
		{" bob@example.org ", "Bob\nBrown", nil, 0, nil},
		{},
		{"cid@example.org", 42, "User", "maybe"},
		{"dee@example.org", nil, nil, nil, nil, nil, "stray"},
	})
	rows, problems, err := importer.Read(bytes.NewReader(data), importer.XLSX, 100)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	h := has("email", "name", "roles", "send_welcome", "kind")
	want := []importer.Row{
		{Line: 2, Email: "ann@example.org", Name: "Lee, Ann", Kind: "staff", Roles: []string{"User", "Dispatcher"}, SendWelcome: ptr(true), Has: h},
		{Line: 3, Email: "bob@example.org", Name: "Bob\nBrown", SendWelcome: ptr(false), Has: h},
		{Line: 5, Email: "cid@example.org", Name: "42", Roles: []string{"User"}, Has: h},
		{Line: 6, Email: "dee@example.org", Has: h},
	}
	if diff := cmp.Diff(want, rows, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	checkProblems(t, "xlsx", problems, []problem{{Row: 5, Field: "send_welcome"}, {Row: 6}})
}

// bombZip returns data, a zip, with its entry name replaced by one whose
// header declares declared bytes and whose deflated data unpacks to the
// entry's own content followed by pad spaces.
func bombZip(t *testing.T, data []byte, name string, declared uint64, pad int) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, zf := range zr.File {
		if zf.Name != name {
			if err := zw.Copy(zf); err != nil {
				t.Fatal(err)
			}
			continue
		}
		rc, _ := zf.Open()
		content, _ := io.ReadAll(rc)
		rc.Close()
		var comp bytes.Buffer
		fw, _ := flate.NewWriter(&comp, flate.BestCompression)
		fw.Write(content[:len(content)-len("</sheetData></worksheet>")])
		chunk := bytes.Repeat([]byte(" "), 1<<20)
		for range pad >> 20 {
			fw.Write(chunk)
		}
		fw.Write([]byte("</sheetData></worksheet>"))
		fw.Close()
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(content),
			CompressedSize64: uint64(comp.Len()), UncompressedSize64: declared,
		})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(comp.Bytes())
	}
	zw.Close()
	return b.Bytes()
}

func TestRead_zipBomb(t *testing.T) {
	good := xlsxFile(t, [][]any{{"email"}, {"ann@example.org"}})
	const sheet = "xl/worksheets/sheet1.xml"
	// Declares 256 MiB: refused before anything is unpacked.
	bomb := bombZip(t, good, sheet, 256<<20, 0)
	if _, _, err := importer.Read(bytes.NewReader(bomb), importer.XLSX, 0); !errors.Is(err, importer.ErrTooLarge) {
		t.Errorf("Read(declared 256 MiB) = %v, want ErrTooLarge", err)
	}
	// Declares 4 KiB but unpacks to 128 MiB: archive/zip stops at the
	// declared size, so Read allocates far less than the bomb holds.
	liar := bombZip(t, good, sheet, 4<<10, 128<<20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := importer.Read(bytes.NewReader(liar), importer.XLSX, 0)
	runtime.ReadMemStats(&after)
	if err != nil && !errors.Is(err, importer.ErrFormat) {
		t.Errorf("Read(lying sizes) = %v, want nil or ErrFormat", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("Read(lying sizes) allocated %d MiB", alloc>>20)
	}
}

func TestTemplates(t *testing.T) {
	want := []importer.Row{{
		Line: 2, Email: "ann@example.org", Name: "Ann Lee", Kind: "staff", Roles: []string{"User"},
		SendWelcome: ptr(true), Has: has(importer.Columns...),
	}}
	for _, tt := range []struct {
		f     importer.Format
		write func(io.Writer) error
	}{
		{importer.CSV, importer.TemplateCSV},
		{importer.XLSX, importer.TemplateXLSX},
	} {
		t.Run(string(tt.f), func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			if f, err := importer.DetectFormat("", "template."+string(tt.f), b.Bytes()); err != nil || f != tt.f {
				t.Errorf("DetectFormat(template) = %q, %v; want %q", f, err, tt.f)
			}
			rows, problems, err := importer.Read(&b, tt.f, 10)
			if err != nil || len(problems) != 0 {
				t.Fatalf("Read(template) = %v, %v", problems, err)
			}
			if diff := cmp.Diff(want, rows); diff != "" {
				t.Errorf("template rows (-want +got):\n%s", diff)
			}
		})
	}
	var b bytes.Buffer
	if err := importer.TemplateCSV(&b); err != nil {
		t.Fatal(err)
	}
	const csv = "email,name,kind,roles,password,password_hash,send_welcome\r\nann@example.org,Ann Lee,staff,User,,,true\r\n"
	if b.String() != csv {
		t.Errorf("TemplateCSV = %q, want %q", b.String(), csv)
	}
}

func TestDetectFormat(t *testing.T) {
	const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	zip := []byte("PK\x03\x04\x14\x00")
	text := []byte("email,name\n")
	tests := []struct {
		name, ctype, file string
		head              []byte
		want              importer.Format
		err               error
	}{
		{"xlsx", xlsxType, "users.xlsx", zip, importer.XLSX, nil},
		{"xlsx_octet_stream", "application/octet-stream", "users", zip, importer.XLSX, nil},
		{"zip_named_csv", "text/csv", "users.csv", zip, importer.XLSX, nil},
		{"csv", "text/csv; charset=utf-8", "users.csv", text, importer.CSV, nil},
		{"csv_windows_type", "application/vnd.ms-excel", "users.csv", text, importer.CSV, nil},
		{"csv_no_type", "", "USERS.CSV", text, importer.CSV, nil},
		{"csv_no_name", "", "", text, importer.CSV, nil},
		{"csv_bad_type", "not a type", `C:\Users\ann\users.csv`, text, importer.CSV, nil},
		{"text_plain", "text/plain", "users.txt", text, importer.CSV, nil},
		{"empty", "text/csv", "users.csv", nil, importer.CSV, nil},
		{"text_named_xlsx", "", "users.xlsx", text, "", importer.ErrFormat},
		{"text_sent_as_xlsx", xlsxType, "users", text, "", importer.ErrFormat},
		{"xls", "application/vnd.ms-excel", "users.xls", text, "", importer.ErrFormat},
		{"ole", "", "users.xls", []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00"), "", importer.ErrFormat},
		{"binary_named_csv", "text/csv", "users.csv", []byte("\x7fELF\x02\x01\x01\x00"), "", importer.ErrFormat},
		{"utf16", "text/csv", "users.csv", []byte("\xFF\xFEe\x00"), "", importer.ErrFormat},
		{"pdf", "application/pdf", "users.pdf", []byte("%PDF-1.7"), "", importer.ErrFormat},
		{"image", "image/png", "", []byte("not really png"), "", importer.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := importer.DetectFormat(tt.ctype, tt.file, tt.head)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("DetectFormat(%q, %q, %q) = %q, %v; want %q, %v", tt.ctype, tt.file, tt.head, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestNeutralize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Ann Lee", "Ann Lee"},
		{"=1+2", "'=1+2"},
		{"=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"},
		{"+41 22 000", "'+41 22 000"},
		{"-2", "'-2"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"\x00x", "'\x00x"},
		{"'=already", "'=already"},
		{"a=b", "a=b"},
		{" =1", " =1"},
		{"ann@example.org", "ann@example.org"},
		{"ünïcode", "ünïcode"},
	}
	for _, tt := range tests {
		if got := importer.Neutralize(tt.in); got != tt.want {
			t.Errorf("Neutralize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCSVWriter(t *testing.T) {
	var b bytes.Buffer
	w := importer.NewCSVWriter(&b)
	for _, rec := range [][]string{
		{"id", "email", "name"},
		{"1", "ann@example.org", "=cmd|' /C calc'!A0"},
		{"2", "bob@example.org", "Brown, Bob"},
		{"3", "cid@example.org", "two\nlines"},
		{"4", "dee@example.org", `say "hi"`},
		{"5", "@evil", "-1"},
		{"6", "", ""},
		{"7", "e@x", "\tTab"},
	} {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	const want = "id,email,name\r\n" +
		"1,ann@example.org,'=cmd|' /C calc'!A0\r\n" +
		"2,bob@example.org,\"Brown, Bob\"\r\n" +
		"3,cid@example.org,\"two\r\nlines\"\r\n" +
		"4,dee@example.org,\"say \"\"hi\"\"\"\r\n" +
		"5,'@evil,'-1\r\n" +
		"6,,\r\n" +
		"7,e@x,'\tTab\r\n"
	if got := b.String(); got != want {
		t.Errorf("CSVWriter wrote\n%q\nwant\n%q", got, want)
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestCSVWriter_error(t *testing.T) {
	w := importer.NewCSVWriter(errWriter{})
	w.Write([]string{"a"})
	if err := w.Flush(); err == nil {
		t.Error("Flush to a failing writer = nil, want an error")
	}
}

func TestRejectedCSV(t *testing.T) {
	in := "email,name,roles,password,send_welcome\n" +
		"ann@example.org,Ann,User;Dispatcher,-pw-,yes\n" +
		"bad-email,=Bob,,,maybe\n" +
		"cid@example.org,Cid,,,no\n"
	rows, _, err := importer.Read(strings.NewReader(in), importer.CSV, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	problems := map[int]string{2: "password: too short", 3: "email: not an email address; send_welcome: want true or false"}
	if err := importer.RejectedCSV(&b, rows, problems); err != nil {
		t.Fatal(err)
	}
	const want = "email,name,roles,password,send_welcome,problem\r\n" +
		"ann@example.org,Ann,User;Dispatcher,-pw-,true,password: too short\r\n" +
		"bad-email,'=Bob,,,,email: not an email address; send_welcome: want true or false\r\n"
	if got := b.String(); got != want {
		t.Errorf("RejectedCSV wrote\n%q\nwant\n%q", got, want)
	}
	// It reads back: the same rows; the problem column is ignored.
	back, ps, err := importer.Read(&b, importer.CSV, 0)
	if err != nil || len(back) != 2 || back[0].Password != "-pw-" || len(ps) != 0 {
		t.Errorf("Read(RejectedCSV) = %+v, %+v, %v", back, ps, err)
	}
}

// FuzzReadCSV checks Read on any input: no panic, an error only of the
// documented kinds, rows in file order from line 2 with trimmed, valid
// UTF-8 emails free of NUL (PostgreSQL refuses NUL in text), and every
// problem about the file or a returned row.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"email,name\nann@example.org,Ann\n",
		"\xEF\xBB\xBFemail;roles\r\nann@example.org;\"User;Dispatcher\"\r\n",
		"email,name\n\"a@x\",\"multi\nline\"\n\n,\nb@x,\"un\"closed\nc@x",
		"name,Name,nick\n x , y \n",
		"email,send_welcome\na@x,maybe\n\"",
		"email\n\xff\xfe\n",
		"",
		"\"",
		"PK\x03\x04",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, problems, err := importer.Read(bytes.NewReader(data), importer.CSV, 50)
		if err != nil {
			if !errors.Is(err, importer.ErrFormat) && !errors.Is(err, importer.ErrTooManyRows) {
				t.Fatalf("Read(%q) error %v is of no documented kind", data, err)
			}
			if rows != nil || problems != nil {
				t.Fatalf("Read(%q) returned rows or problems with error %v", data, err)
			}
			return
		}
		if len(rows) > 50 {
			t.Fatalf("Read(%q) returned %d rows, over maxRows", data, len(rows))
		}
		lines := map[int]bool{}
		last := 1
		for _, r := range rows {
			if r.Line < 2 || r.Line <= last {
				t.Fatalf("Read(%q): row line %d after %d", data, r.Line, last)
			}
			last = r.Line
			lines[r.Line] = true
			if strings.TrimSpace(r.Email) != r.Email || !utf8.ValidString(r.Email) || strings.ContainsRune(r.Email, 0) {
				t.Fatalf("Read(%q): email %q is not trimmed, valid UTF-8 without NUL", data, r.Email)
			}
			for _, role := range r.Roles {
				if role == "" || strings.TrimSpace(role) != role {
					t.Fatalf("Read(%q): role %q", data, role)
				}
			}
		}
		for _, p := range problems {
			if p.Row != 0 && !lines[p.Row] {
				t.Fatalf("Read(%q): problem %+v names no returned row", data, p)
			}
			if p.Message == "" {
				t.Fatalf("Read(%q): problem %+v has no message", data, p)
			}
		}
	})
}

// FuzzNeutralize checks that a neutralized cell never starts with a
// character a spreadsheet would take for a formula, and changes only by the
// quote it adds.
func FuzzNeutralize(f *testing.F) {
	for _, s := range []string{"", "=1", "+", "-", "@", "\t", "\r", "\x00", "'=", "a", "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := importer.Neutralize(s)
		if got != s && got != "'"+s {
			t.Fatalf("Neutralize(%q) = %q: neither the cell nor the cell after a quote", s, got)
		}
		if got != "" && strings.ContainsRune("=+-@\t\r\x00", rune(got[0])) {
			t.Fatalf("Neutralize(%q) = %q starts with a formula character", s, got)
		}
		if got != s && s != "" && !strings.ContainsRune("=+-@\t\r\x00", rune(s[0])) {
			t.Fatalf("Neutralize(%q) = %q changed a safe cell", s, got)
		}
	})
}

// bigFile returns n data rows of the template's columns.
func bigFile(n int) []byte {
	var b bytes.Buffer
	b.WriteString("email,name,kind,roles,password_hash,send_welcome\n")
	for i := range n {
		fmt.Fprintf(&b, "user%d@example.org,User Number %d,staff,User;Dispatcher,$2b$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234,no\n", i, i)
	}
	return b.Bytes()
}

func BenchmarkRead_CSV100k(b *testing.B) {
	data := bigFile(100_000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rows, _, err := importer.Read(bytes.NewReader(data), importer.CSV, 100_000)
		if err != nil || len(rows) != 100_000 {
			b.Fatalf("Read = %d rows, %v", len(rows), err)
		}
	}
}

func BenchmarkRead_XLSX100k(b *testing.B) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	sw.SetRow("A1", []any{"email", "name", "kind", "roles", "send_welcome"})
	for i := range 100_000 {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		sw.SetRow(cell, []any{fmt.Sprintf("user%d@example.org", i), fmt.Sprintf("User Number %d", i), "staff", "User", "no"})
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	f.Write(&buf)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rows, _, err := importer.Read(bytes.NewReader(data), importer.XLSX, 100_000)
		if err != nil || len(rows) != 100_000 {
			b.Fatalf("Read = %d rows, %v", len(rows), err)
		}
	}
}
