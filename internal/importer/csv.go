package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// sniffLen is how much of a CSV Read looks at before parsing: for the byte
// order mark, binary content and the header row's delimiter.
const sniffLen = 64 << 10

func readCSV(r io.Reader, b *builder) error {
	br := bufio.NewReaderSize(r, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("importer: read: %w", err)
	}
	if bytes.HasPrefix(head, bomUTF8) {
		br.Discard(len(bomUTF8))
		head = head[len(bomUTF8):]
	}
	if bytes.HasPrefix(head, zipMagic) {
		return fmt.Errorf("%w: the file is an XLSX workbook or another zip, not CSV text", ErrFormat)
	}
	if err := sniffText(head); err != nil {
		return err
	}
	cr := csv.NewReader(br)
	cr.Comma = delimiter(head)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true // `a, "b"` is common by hand; cells are trimmed anyway
	cr.ReuseRecord = true
	// row is the spreadsheet row of the last record, end its last text line:
	// a spreadsheet shows an empty line as a row and a quoted cell with
	// newlines as one, while encoding/csv skips empty lines.
	row, end := 0, 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			row += 1 + max(pe.StartLine-end-1, 0)
			end = pe.Line
			if err := b.unreadable(row, quoteMessage(pe)); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("importer: read CSV: %w", err)
		}
		start, _ := cr.FieldPos(0)
		last, _ := cr.FieldPos(len(rec) - 1)
		row += 1 + max(start-end-1, 0)
		end = last + strings.Count(rec[len(rec)-1], "\n")
		if err := b.record(row, rec); err != nil {
			return err
		}
	}
}

func quoteMessage(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return `malformed quotes: a " inside a cell that does not start with one (quote the whole cell and double the " inside)`
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf(`malformed quotes: a quoted cell starting on line %d is not closed properly`, pe.StartLine)
	}
	return "the row cannot be read as CSV"
}

// delimiter returns ';' when the first non-blank line of head has more
// semicolons than commas outside quotes, and ',' otherwise.
func delimiter(head []byte) rune {
	var commas, semis int
	quoted, seen := false, false
	for _, c := range head {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if c == '\n' && seen {
			break
		}
		switch c {
		case ',':
			commas++
		case ';':
			semis++
		}
		if c > ' ' {
			seen = true
		}
	}
	if semis > commas {
		return ';'
	}
	return ','
}
