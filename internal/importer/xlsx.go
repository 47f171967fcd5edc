package importer

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// maxZipEntries bounds the parts of an XLSX; a workbook of one sheet has
// about ten.
const maxZipEntries = 10_000

// xlsxOptions bound what excelize unpacks: in all, and in memory per sheet
// (a bigger sheet goes through a temporary file, removed by Close).
var xlsxOptions = excelize.Options{UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: 16 << 20}

func readXLSX(r io.Reader, b *builder) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("importer: read: %w", err)
	}
	if err := checkZip(data); err != nil {
		return err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), xlsxOptions)
	if err != nil {
		return fmt.Errorf("%w: not a readable XLSX workbook: %v", ErrFormat, err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return fmt.Errorf("%w: the workbook has no sheet", ErrFormat)
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return fmt.Errorf("%w: the first sheet cannot be read: %v", ErrFormat, err)
	}
	defer rows.Close()
	// Next steps through every row number, Columns returning nothing for
	// the rows the sheet leaves out, so line is the row number.
	for line := 1; rows.Next(); line++ {
		cells, err := rows.Columns()
		if err != nil {
			return fmt.Errorf("%w: row %d of the first sheet cannot be read: %v", ErrFormat, line, err)
		}
		if err := b.record(line, cells); err != nil {
			return err
		}
	}
	if err := rows.Error(); err != nil {
		return fmt.Errorf("%w: the first sheet cannot be read: %v", ErrFormat, err)
	}
	return nil
}

// checkZip refuses a zip that is not one, has too many parts or declares
// more than maxUnzipped in all; archive/zip then refuses to read a part past
// its declared size, so the declaration cannot lie.
func checkZip(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("%w: not an XLSX workbook (not a valid zip file)", ErrFormat)
	}
	if len(zr.File) > maxZipEntries {
		return fmt.Errorf("%w: the workbook has %d parts", ErrTooLarge, len(zr.File))
	}
	var total uint64
	for _, zf := range zr.File {
		total += zf.UncompressedSize64
		if total > maxUnzipped || zf.UncompressedSize64 > maxUnzipped {
			return fmt.Errorf("%w: the workbook unpacks to more than %d MiB", ErrTooLarge, maxUnzipped>>20)
		}
	}
	return nil
}
