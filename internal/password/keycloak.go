package password

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// FormatKeycloak is reported in Hash.Format for Keycloak's credential export.
const FormatKeycloak = "keycloak"

// maxKeycloakLen bounds the JSON of a Keycloak credential: the other forms'
// maxEncodedLen, plus its names, escapes and the export's metadata.
const maxKeycloakLen = 2048

// keycloakAlgorithms maps Keycloak's algorithm names to ours. Its plain
// "pbkdf2" is PBKDF2-SHA1, which we do not take.
var keycloakAlgorithms = map[string]string{
	"pbkdf2-sha256": PBKDF2SHA256,
	"pbkdf2-sha512": PBKDF2SHA512,
}

// parseKeycloak parses a Keycloak password credential, in one of two forms:
//
//	{"algorithm":"pbkdf2-sha256","hashIterations":27500,"value":"<base64 key>","salt":"<base64 salt>"}
//	{"credentialData":{"hashIterations":27500,"algorithm":"pbkdf2-sha256","additionalParameters":{}},
//	 "secretData":{"value":"<base64 key>","salt":"<base64 salt>","additionalParameters":{}}}
//
// In the second, as in Keycloak's realm export, credentialData and
// secretData may be JSON strings holding those objects, and the credential's
// type ("password"), id, userLabel and createdDate may be present. Names
// are case-sensitive and appear once; any other name, an additionalParameters
// that is not empty, a number that is not a plain integer or base64 that is
// not canonical standard base64 with padding is refused. Encode returns the
// input as it is.
func parseKeycloak(s string) (Hash, error) {
	if len(s) > maxKeycloakLen {
		return Hash{}, malformed("keycloak: too long")
	}
	top, err := jsonObject([]byte(s))
	if err != nil {
		return Hash{}, err
	}
	var fields map[string]json.RawMessage
	_, cd := top["credentialData"]
	_, sd := top["secretData"]
	if cd || sd {
		if fields, err = keycloakExport(top); err != nil {
			return Hash{}, err
		}
	} else {
		if err := onlyNames(top, "algorithm", "hashIterations", "value", "salt", "additionalParameters"); err != nil {
			return Hash{}, err
		}
		fields = top
	}
	if err := emptyParams(fields["additionalParameters"]); err != nil {
		return Hash{}, err
	}
	alg, err := jsonString(fields, "algorithm")
	if err != nil {
		return Hash{}, err
	}
	value, err := jsonString(fields, "value")
	if err != nil {
		return Hash{}, err
	}
	salt, err := jsonString(fields, "salt")
	if err != nil {
		return Hash{}, err
	}
	h := Hash{Format: FormatKeycloak, raw: s}
	var ok bool
	if h.Algorithm, ok = keycloakAlgorithms[alg]; !ok {
		return Hash{}, malformed("keycloak: unsupported algorithm; want pbkdf2-sha256 or pbkdf2-sha512")
	}
	raw, ok := fields["hashIterations"]
	if !ok {
		return Hash{}, malformed("keycloak: missing hashIterations")
	}
	i, ok := decimal(string(raw))
	if !ok {
		return Hash{}, malformed("keycloak: hashIterations is not a plain integer")
	}
	if i < minPBKDF2Iter || i > maxPBKDF2Iter {
		return Hash{}, malformed(fmt.Sprintf("keycloak: %d iterations out of bounds", i))
	}
	h.Iterations = int(i)
	if h.Salt, h.Key, err = saltKey(djangoB64, salt, value, "keycloak"); err != nil {
		return Hash{}, err
	}
	return h, nil
}

// keycloakExport merges the credentialData and secretData of a credential
// export into one set of fields.
func keycloakExport(top map[string]json.RawMessage) (map[string]json.RawMessage, error) {
	if err := onlyNames(top, "credentialData", "secretData", "type", "id", "userLabel", "createdDate"); err != nil {
		return nil, err
	}
	if t, ok := top["type"]; ok && string(t) != `"password"` {
		return nil, malformed(`keycloak: type is not "password"`)
	}
	cred, err := nestedObject(top, "credentialData")
	if err != nil {
		return nil, err
	}
	secret, err := nestedObject(top, "secretData")
	if err != nil {
		return nil, err
	}
	if err := onlyNames(cred, "algorithm", "hashIterations", "additionalParameters"); err != nil {
		return nil, err
	}
	if err := onlyNames(secret, "value", "salt", "additionalParameters"); err != nil {
		return nil, err
	}
	if err := emptyParams(cred["additionalParameters"]); err != nil {
		return nil, err
	}
	if err := emptyParams(secret["additionalParameters"]); err != nil {
		return nil, err
	}
	fields := map[string]json.RawMessage{}
	for k, v := range cred {
		fields[k] = v
	}
	for k, v := range secret {
		fields[k] = v
	}
	delete(fields, "additionalParameters")
	return fields, nil
}

// nestedObject returns top[name], an object or a JSON string holding one.
func nestedObject(top map[string]json.RawMessage, name string) (map[string]json.RawMessage, error) {
	raw, ok := top[name]
	if !ok {
		return nil, malformed("keycloak: missing " + name)
	}
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, malformed("keycloak: " + name + " is not a JSON string")
		}
		raw = []byte(s)
	}
	return jsonObject(raw)
}

// jsonObject parses exactly one JSON object, refusing a name that appears
// twice (encoding/json would keep the last) and anything after the object.
// The values are left raw.
func jsonObject(b []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, malformed("keycloak: not a JSON object")
	}
	obj := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, malformed("keycloak: invalid JSON")
		}
		name, ok := t.(string)
		if !ok {
			return nil, malformed("keycloak: invalid JSON")
		}
		if _, dup := obj[name]; dup {
			return nil, malformed("keycloak: a name appears twice")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, malformed("keycloak: invalid JSON")
		}
		obj[name] = v
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, malformed("keycloak: invalid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, malformed("keycloak: data after the JSON object")
	}
	return obj, nil
}

// onlyNames refuses an object with a name outside names.
func onlyNames(obj map[string]json.RawMessage, names ...string) error {
	allowed := map[string]bool{}
	for _, n := range names {
		allowed[n] = true
	}
	for n := range obj {
		if !allowed[n] {
			return malformed("keycloak: unexpected field")
		}
	}
	return nil
}

// emptyParams accepts an absent or empty additionalParameters: parameters
// we do not know could change what the hash means.
func emptyParams(raw json.RawMessage) error {
	if raw == nil {
		return nil
	}
	obj, err := jsonObject(raw)
	if err != nil || len(obj) != 0 {
		return malformed("keycloak: additionalParameters is not empty")
	}
	return nil
}

// jsonString returns fields[name], which must be a JSON string.
func jsonString(fields map[string]json.RawMessage, name string) (string, error) {
	raw, ok := fields[name]
	if !ok {
		return "", malformed("keycloak: missing " + name)
	}
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", malformed("keycloak: " + name + " is not a string")
	}
	return s, nil
}

// encodeKeycloak writes h, which did not come from Parse, in the first form.
func encodeKeycloak(h Hash) string {
	alg := "pbkdf2-sha256"
	if h.Algorithm == PBKDF2SHA512 {
		alg = "pbkdf2-sha512"
	}
	return fmt.Sprintf(`{"algorithm":%q,"hashIterations":%d,"value":%q,"salt":%q}`,
		alg, h.Iterations, djangoB64.EncodeToString(h.Key), djangoB64.EncodeToString(h.Salt))
}
