package importer

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// example is the template's example row, in Columns order.
var example = []string{"ann@example.org", "Ann Lee", "staff", "User", "", "", "true"}

// TemplateCSV writes the CSV template: the header row of Columns and one
// example row.
func TemplateCSV(w io.Writer) error {
	c := NewCSVWriter(w)
	if err := c.Write(Columns); err != nil {
		return err
	}
	if err := c.Write(example); err != nil {
		return err
	}
	return c.Flush()
}

// TemplateXLSX writes the XLSX template: a sheet "Users" with the header row
// of Columns, in bold, and one example row.
func TemplateXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Users"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("importer: template: %w", err)
	}
	for i, row := range [][]string{Columns, example} {
		cells := make([]any, len(row))
		for j, v := range row {
			cells[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &cells); err != nil {
			return fmt.Errorf("importer: template: %w", err)
		}
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("importer: template: %w", err)
	}
	last, _ := excelize.CoordinatesToCellName(len(Columns), 1)
	if err := f.SetCellStyle(sheet, "A1", last, bold); err != nil {
		return fmt.Errorf("importer: template: %w", err)
	}
	lastCol, _ := excelize.ColumnNumberToName(len(Columns))
	if err := f.SetColWidth(sheet, "A", lastCol, 18); err != nil {
		return fmt.Errorf("importer: template: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("importer: template: %w", err)
	}
	return nil
}

// RejectedCSV writes the rows whose Line is a key of problems, in the order
// of rows, as a CSV to fix and upload again: the columns the file had (in
// Columns order) holding the rows' cells as Read took them, plus a final
// "problem" column with problems[Line]. An invalid send_welcome comes out
// empty. Like the upload, the output holds its passwords and hashes:
// serve it only to the uploader and do not store it.
//
// Cells are neutralized against formula injection, except password and
// password_hash, whose exact text matters on re-upload.
func RejectedCSV(w io.Writer, rows []Row, problems map[int]string) error {
	var has map[string]bool
	if len(rows) > 0 {
		has = rows[0].Has
	}
	var cols []string
	for _, c := range Columns {
		if has == nil || has[c] {
			cols = append(cols, c)
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(append(cols, "problem")); err != nil {
		return fmt.Errorf("importer: rejected rows: %w", err)
	}
	rec := make([]string, len(cols)+1)
	for _, r := range rows {
		msg, ok := problems[r.Line]
		if !ok {
			continue
		}
		for i, c := range cols {
			v := r.cell(c)
			if c != "password" && c != "password_hash" {
				v = Neutralize(v)
			}
			rec[i] = v
		}
		rec[len(cols)] = Neutralize(msg)
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("importer: rejected rows: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("importer: rejected rows: %w", err)
	}
	return nil
}

// cell returns r's value of column c as text.
func (r Row) cell(c string) string {
	switch c {
	case "email":
		return r.Email
	case "name":
		return r.Name
	case "kind":
		return r.Kind
	case "roles":
		return strings.Join(r.Roles, ";")
	case "password":
		return r.Password
	case "password_hash":
		return r.PasswordHash
	case "send_welcome":
		if r.SendWelcome != nil {
			return strconv.FormatBool(*r.SendWelcome)
		}
	}
	return ""
}

// CSVWriter writes a CSV export one record at a time, in constant memory:
// RFC 4180 quoting with CRLF line ends, every cell passed through Neutralize.
type CSVWriter struct {
	w   *csv.Writer
	rec []string
}

// NewCSVWriter returns a CSVWriter writing to w, buffered: call Flush at the
// end (and whenever the output should reach w).
func NewCSVWriter(w io.Writer) *CSVWriter {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &CSVWriter{w: cw}
}

// Write writes one record, its cells neutralized.
func (c *CSVWriter) Write(record []string) error {
	c.rec = c.rec[:0]
	for _, v := range record {
		c.rec = append(c.rec, Neutralize(v))
	}
	if err := c.w.Write(c.rec); err != nil {
		return fmt.Errorf("importer: write CSV: %w", err)
	}
	return nil
}

// Flush writes the buffered records to the underlying writer and returns
// the first error of any Write or Flush.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("importer: write CSV: %w", err)
	}
	return nil
}

// Neutralize prefixes a cell starting with '=', '+', '-', '@', tab, CR or
// NUL with a single quote, so that a spreadsheet shows it as text instead of
// evaluating it as a formula (OWASP CSV injection; ASVS 1.2.10). Other cells
// are returned as they are.
func Neutralize(cell string) string {
	if cell != "" && dangerous(cell[0]) {
		return "'" + cell
	}
	return cell
}

func dangerous(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r', 0:
		return true
	}
	return false
}
