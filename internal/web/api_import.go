package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/importer"
)

// maxUpload is the largest import file accepted.
const maxUpload = 50 << 20

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// readUpload returns an import file sent as the body (text/csv or the XLSX
// type) or as the multipart field "file", and its format.
func readUpload(w http.ResponseWriter, r *http.Request) ([]byte, importer.Format, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1<<20)
	tooLarge := func(err error) error {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return &account.Error{Code: account.CodeBodyTooLarge, Message: "The file is larger than 50 MiB.", Err: err}
		}
		return &account.Error{Code: account.CodeInvalid, Message: "The upload could not be read.", Err: err}
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var (
		data     []byte
		filename string
		err      error
	)
	if ct == "multipart/form-data" {
		f, hdr, ferr := r.FormFile("file")
		if ferr != nil {
			if errors.Is(ferr, http.ErrMissingFile) {
				return nil, "", &account.Error{Code: account.CodeValidation, Message: "Choose a file to upload.",
					Details: []account.Detail{{Field: "file", Message: "missing"}}}
			}
			return nil, "", tooLarge(ferr)
		}
		defer f.Close()
		filename = hdr.Filename
		ct = hdr.Header.Get("Content-Type")
		data, err = io.ReadAll(io.LimitReader(f, maxUpload+1))
	} else {
		data, err = io.ReadAll(r.Body)
	}
	if err != nil {
		return nil, "", tooLarge(err)
	}
	if len(data) > maxUpload {
		return nil, "", &account.Error{Code: account.CodeBodyTooLarge, Message: "The file is larger than 50 MiB."}
	}
	if len(data) == 0 {
		return nil, "", &account.Error{Code: account.CodeValidation, Message: "The file is empty.",
			Details: []account.Detail{{Field: "file", Message: "empty"}}}
	}
	format, err := importer.DetectFormat(ct, filename, data[:min(len(data), 512)])
	if err != nil {
		return nil, "", &account.Error{Code: account.CodeValidation, Message: "Upload a CSV or XLSX file.",
			Details: []account.Detail{{Field: "file", Message: err.Error()}}, Err: err}
	}
	return data, format, nil
}

func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &account.Error{Code: account.CodeValidation, Message: "Some parameters are not valid.",
			Details: []account.Detail{{Field: name, Message: "Must be true or false."}}}
	}
	return b, nil
}

// apiImport serves POST /api/v1/imports.
func (s *Server) apiImport(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	dry, err := boolParam(r, "dry_run")
	if err != nil {
		return err
	}
	all, err := boolParam(r, "all_or_nothing")
	if err != nil {
		return err
	}
	data, format, err := readUpload(w, r)
	if err != nil {
		return err
	}
	rep, err := s.accounts.Import(r.Context(), a, account.ImportInput{Format: format, File: data, DryRun: dry, AllOrNothing: all})
	if err != nil {
		return err
	}
	st := http.StatusOK
	if rep.Status == account.ImportRunning {
		st = http.StatusAccepted
	}
	return encode(w, st, rep)
}

// apiImportStatus serves GET /api/v1/imports/{id}.
func (s *Server) apiImportStatus(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return &account.Error{Code: account.CodeNotFound, Message: "Not found."}
	}
	rep, err := s.accounts.ImportStatus(r.Context(), a, id)
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, rep)
}

// apiImportTemplate serves GET /api/v1/imports/template.csv and .xlsx.
func (s *Server) apiImportTemplate(format importer.Format) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var b bytes.Buffer
		ct := "text/csv; charset=utf-8"
		var err error
		if format == importer.XLSX {
			ct = xlsxType
			err = importer.TemplateXLSX(&b)
		} else {
			err = importer.TemplateCSV(&b)
		}
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", `attachment; filename="latchkey-users-template.`+string(format)+`"`)
		_, err = w.Write(b.Bytes())
		return err
	}
}

// apiExportUsers serves GET /api/v1/exports/users.csv, streaming.
func (s *Server) apiExportUsers(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	cw := importer.NewCSVWriter(w)
	started := false
	err := s.accounts.ExportUsers(r.Context(), a, func(rec []string) error {
		if !started {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="users.csv"`)
			w.Header().Set("X-Content-Type-Options", "nosniff")
			started = true
		}
		return cw.Write(rec)
	})
	if err != nil {
		if started {
			s.logError(r, http.StatusInternalServerError, err) // the status is sent; the file is cut short
			return nil
		}
		return err
	}
	return cw.Flush()
}
