// Package importer reads the CSV and XLSX files of a bulk user import into
// rows and problems, and writes the files that go the other way: the
// templates, the rejected rows and the CSV export. It is pure logic: whether a
// row is valid for an organization (its email, kind, roles, password) is
// decided by package account, which turns Problems into its own errors.
package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"unicode/utf8"
)

// Format is the format of an upload.
type Format string

// The formats Read accepts.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// Errors of Read and DetectFormat, wrapped with detail that is safe to show
// to the uploader (it never holds cell contents). Everything else about a
// file is a Problem.
var (
	// ErrFormat: the file is neither CSV text nor an XLSX workbook.
	ErrFormat = errors.New("importer: unsupported file")
	// ErrTooLarge: an XLSX that unpacks to more than its limit (a zip bomb).
	ErrTooLarge = errors.New("importer: file too large")
	// ErrTooManyRows: more data rows than Read's maxRows.
	ErrTooManyRows = errors.New("importer: too many rows")
)

// Columns are the known columns, in template order.
var Columns = []string{"email", "name", "kind", "roles", "password", "password_hash", "send_welcome"}

// ProblemColumn is the column a file of rejected rows adds, saying what
// to fix; uploaded again, it is ignored, so the fixed file imports as is.
const ProblemColumn = "problem"

// MaxCellBytes is the longest cell Read takes; a longer one is a Problem.
const MaxCellBytes = 10_000

// maxUnzipped bounds what an XLSX may unpack to, all parts together.
const maxUnzipped = 200 << 20

// Row is one data row, cells trimmed of surrounding white space (passwords
// included). Line is the 1-based row number as a spreadsheet shows it (the
// header is normally row 1); for CSV it is the text line unless a quoted
// cell spans lines.
type Row struct {
	Line                   int
	Email, Name, Kind      string
	Roles                  []string // the roles cell split on ';', trimmed, empty parts dropped
	Password, PasswordHash string
	SendWelcome            *bool // nil when the column is absent or the cell empty
	// Has tells which known columns the file has (lower-case names). It is
	// the same map for every row of a file: do not modify it.
	Has map[string]bool
}

// Problem is a file- or row-level finding. Row 0 is the file itself (e.g.
// the header); otherwise Row is the Line of a Row that Read returned. Field
// is a column name, or empty for the whole row. Message never repeats a
// cell's contents, which may be a password.
type Problem struct {
	Row            int
	Field, Message string
}

var (
	bomUTF8    = []byte("\xEF\xBB\xBF")
	zipMagic   = []byte("PK\x03\x04")
	oleMagic   = []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") // .xls and encrypted workbooks
	utf16LE    = []byte("\xFF\xFE")
	utf16BE    = []byte("\xFE\xFF")
	xlsxType   = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	csvTypes   = []string{"text/csv", "application/csv", "text/plain", "text/comma-separated-values", "application/vnd.ms-excel"}
	otherTypes = []string{"", "application/octet-stream", "binary/octet-stream"}
)

// DetectFormat decides the format of an upload from its first bytes (an XLSX
// is a zip: "PK\x03\x04"), its content type and its file name. The content
// decides over the other two: a zip is XLSX whatever it is called, and a file
// named .xlsx that is not a zip, an old .xls, UTF-16 text or binary data is
// ErrFormat. Browsers send .csv files as application/vnd.ms-excel on
// Windows, so that type means CSV.
func DetectFormat(contentType, filename string, head []byte) (Format, error) {
	if bytes.HasPrefix(head, zipMagic) {
		return XLSX, nil
	}
	if err := sniffText(head); err != nil {
		return "", err
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = ""
	}
	ext := strings.ToLower(path.Ext(strings.ReplaceAll(filename, `\`, "/")))
	switch {
	case mt == xlsxType || ext == ".xlsx":
		return "", fmt.Errorf("%w: the file is named or sent as XLSX but is not an XLSX workbook", ErrFormat)
	case ext == ".xls":
		return "", fmt.Errorf("%w: old .xls workbooks are not supported: save the sheet as .xlsx or CSV UTF-8", ErrFormat)
	case contains(csvTypes, mt), ext == ".csv", ext == ".txt", contains(otherTypes, mt):
		return CSV, nil
	}
	return "", fmt.Errorf("%w: content type %q: upload a CSV or XLSX file", ErrFormat, mt)
}

// sniffText refuses what cannot be CSV text, judging by its first bytes.
func sniffText(head []byte) error {
	switch {
	case bytes.HasPrefix(head, oleMagic):
		return fmt.Errorf("%w: old .xls or password-protected workbooks are not supported: save the sheet as .xlsx or CSV UTF-8", ErrFormat)
	case bytes.HasPrefix(head, utf16LE), bytes.HasPrefix(head, utf16BE):
		return fmt.Errorf("%w: the file is UTF-16 text: save it as CSV UTF-8", ErrFormat)
	case bytes.IndexByte(head, 0) >= 0:
		return fmt.Errorf("%w: the file is binary, not CSV text", ErrFormat)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Read parses a whole upload: a header row (the first row that is not
// empty), whose names are matched to Columns in any order, ignoring case and
// surrounding spaces, then data rows. Entirely empty rows are skipped.
//
// CSV is UTF-8 with or without a byte order mark; the delimiter, ',' or ';',
// is the one the header row has more of; quoted fields may hold newlines
// (encoding/csv, strict quotes). XLSX is the first sheet, cells as displayed.
//
// Problems are returned, not errors: a missing email column, an unknown,
// duplicate or unnamed column (Row 0), an empty file or one with no data
// rows (Row 0); a row with more cells than the header, or in CSV fewer;
// malformed quotes; a cell over MaxCellBytes, not UTF-8 or holding a NUL;
// an invalid send_welcome (true/false, yes/no, y/n, 1/0, any case). Every
// problem's Row is 0 or the Line of a returned Row.
//
// The error is for a file Read cannot take at all: not CSV or XLSX
// (ErrFormat), an XLSX unpacking to over 200 MiB (ErrTooLarge), or more than
// maxRows data rows (ErrTooManyRows; maxRows <= 0 means no limit).
func Read(r io.Reader, f Format, maxRows int) ([]Row, []Problem, error) {
	b := &builder{maxRows: maxRows, strict: f == CSV}
	var err error
	switch f {
	case CSV:
		err = readCSV(r, b)
	case XLSX:
		err = readXLSX(r, b)
	default:
		err = fmt.Errorf("%w: format %q", ErrFormat, f)
	}
	if err != nil {
		return nil, nil, err
	}
	return b.finish()
}

// col is what a header cell names.
type col struct {
	name  string // one of Columns; "" for a column Read ignores
	named bool   // the header cell is not empty
}

// builder turns the records of either format into Rows and Problems.
type builder struct {
	maxRows  int
	strict   bool // CSV: a row must have as many cells as the header
	cols     []col
	has      map[string]bool
	header   bool // the header row has been read
	rows     []Row
	problems []Problem
}

func (b *builder) problem(row int, field, format string, args ...any) {
	b.problems = append(b.problems, Problem{Row: row, Field: field, Message: fmt.Sprintf(format, args...)})
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// readHeader takes the header row's cells.
func (b *builder) readHeader(cells []string) {
	b.header = true
	b.has = map[string]bool{}
	known := map[string]bool{}
	for _, c := range Columns {
		known[c] = true
	}
	b.cols = make([]col, len(cells))
	for i, c := range cells {
		c = strings.TrimSpace(c)
		switch {
		case c == "":
			continue // an unnamed column; its cells must be empty
		case len(c) > 100 || !utf8.ValidString(c) || strings.ContainsRune(c, 0):
			b.cols[i].named = true
			b.problem(0, "", "column %d has an invalid name in the header row", i+1)
			continue
		}
		name := strings.ToLower(c)
		b.cols[i].named = true
		switch {
		case name == ProblemColumn:
			continue // the rejected-rows file's own column: read back, it is ignored
		case !known[name]:
			b.problem(0, name, "unknown column; the known ones are %s", strings.Join(Columns, ", "))
		case b.has[name]:
			b.problem(0, name, "duplicate column: the header names it more than once")
		default:
			b.has[name] = true
			b.cols[i].name = name
		}
	}
	if !b.has["email"] {
		b.problem(0, "email", "missing the email column: the header row must name it")
	}
}

// record takes one data row of the file, at spreadsheet row line.
func (b *builder) record(line int, cells []string) error {
	if blank(cells) {
		return nil
	}
	if !b.header {
		b.readHeader(cells)
		return nil
	}
	if b.maxRows > 0 && len(b.rows) >= b.maxRows {
		return fmt.Errorf("%w: the file has more than %d data rows", ErrTooManyRows, b.maxRows)
	}
	row := Row{Line: line, Has: b.has}
	// XLSX leaves out trailing empty cells and may keep formatted empty
	// ones past the header; in CSV a cell too many or too few means the
	// cells may have shifted into the wrong columns.
	extra := cells[min(len(cells), len(b.cols)):]
	if !blank(extra) || b.strict && len(cells) != len(b.cols) {
		b.problem(line, "", "the row has %d cells but the header has %d", len(cells), len(b.cols))
	}
	for i, c := range cells[:min(len(cells), len(b.cols))] {
		k := b.cols[i]
		if k.name == "" {
			if !k.named && strings.TrimSpace(c) != "" {
				b.problem(line, "", "column %d has a value but no name in the header row", i+1)
			}
			continue
		}
		v, ok := b.cell(line, k.name, c)
		if !ok {
			continue
		}
		switch k.name {
		case "email":
			row.Email = v
		case "name":
			row.Name = v
		case "kind":
			row.Kind = v
		case "roles":
			row.Roles = splitRoles(v)
		case "password":
			row.Password = v
		case "password_hash":
			row.PasswordHash = v
		case "send_welcome":
			if v == "" {
				break
			}
			w, ok := parseBool(v)
			if !ok {
				b.problem(line, k.name, "want true or false (or yes/no, y/n, 1/0)")
				break
			}
			row.SendWelcome = &w
		}
	}
	b.rows = append(b.rows, row)
	return nil
}

// cell checks and trims one cell of a known column.
func (b *builder) cell(line int, name, c string) (string, bool) {
	switch {
	case len(c) > MaxCellBytes:
		b.problem(line, name, "the cell is longer than %d bytes", MaxCellBytes)
		return "", false
	case !utf8.ValidString(c):
		b.problem(line, name, "the cell is not valid UTF-8: save the file as CSV UTF-8 (it may be Latin-1 or Windows-1252)")
		return strings.TrimSpace(strings.ToValidUTF8(c, "\uFFFD")), true
	case strings.IndexByte(c, 0) >= 0:
		b.problem(line, name, "the cell holds a NUL character")
		return strings.TrimSpace(strings.ReplaceAll(c, "\x00", "")), true
	}
	return strings.TrimSpace(c), true
}

// unreadable records a row that could not be split into cells, so that its
// problem names a returned Row.
func (b *builder) unreadable(line int, msg string) error {
	if !b.header {
		b.problem(0, "", "the header row: %s", msg)
		return nil
	}
	if b.maxRows > 0 && len(b.rows) >= b.maxRows {
		return fmt.Errorf("%w: the file has more than %d data rows", ErrTooManyRows, b.maxRows)
	}
	b.problem(line, "", "%s", msg)
	b.rows = append(b.rows, Row{Line: line, Has: b.has})
	return nil
}

func (b *builder) finish() ([]Row, []Problem, error) {
	switch {
	case !b.header && len(b.problems) == 0:
		b.problem(0, "", "the file is empty: want a header row naming the columns, then one row per user")
	case b.header && len(b.rows) == 0:
		b.problem(0, "", "the file has a header row but no data rows")
	}
	return b.rows, b.problems, nil
}

func splitRoles(v string) []string {
	var roles []string
	for p := range strings.SplitSeq(v, ";") {
		if p = strings.TrimSpace(p); p != "" {
			roles = append(roles, p)
		}
	}
	return roles
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "yes", "y", "1":
		return true, true
	case "false", "no", "n", "0":
		return false, true
	}
	return false, false
}
