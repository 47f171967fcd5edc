package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/account"
)

// maxJSONBody is the largest JSON request body accepted.
const maxJSONBody = 1 << 20

// decode reads exactly one JSON value into v, strictly: a body over 1 MiB is
// body_too_large, an unknown field unknown_field naming it, anything else
// that is not one well-formed value invalid_json.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	body, err := readAll(r)
	if err != nil {
		return err
	}
	return decodeBytes(body, v)
}

// readAll reads the (size-limited) body; too large is body_too_large.
func readAll(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &account.Error{Code: account.CodeBodyTooLarge, Message: "The request body is larger than 1 MiB.", Err: err}
	}
	if err != nil {
		return nil, &account.Error{Code: account.CodeInvalidJSON, Message: "The request body could not be read.", Err: err}
	}
	return b, nil
}

// decodeBytes decodes one JSON value strictly.
func decodeBytes(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = errors.New("trailing data after the JSON value")
		}
	}
	if err == nil {
		return nil
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name := strings.Trim(f, `"`)
		return &account.Error{Code: account.CodeUnknownField, Message: "Unknown field " + f + ".",
			Details: []account.Detail{{Field: name, Message: "unknown field"}}, Err: err}
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return &account.Error{Code: account.CodeInvalidJSON, Message: "Field " + typeErr.Field + " has the wrong type.",
			Details: []account.Detail{{Field: typeErr.Field, Message: "want " + typeErr.Type.String()}}, Err: err}
	}
	if errors.Is(err, io.EOF) {
		return &account.Error{Code: account.CodeInvalidJSON, Message: "The request body is empty; send a JSON object.", Err: err}
	}
	return &account.Error{Code: account.CodeInvalidJSON, Message: "The request body is not valid JSON.", Err: err}
}
