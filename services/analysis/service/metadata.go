package service

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/analysis/manifest"
	"github.com/spackmon/spackmon/services/analysis/store"
)

// The analyzer keys the protocol gives a meaning of their own; every other key names an
// analyzer whose value is a list of results.
const (
	keyConfigArgs  = "config_args"
	keyEnvironment = "environment_variables"
	keyManifest    = "install_files"
)

// analyzed is an analyze request's metadata, checked for shape. The install manifest stays
// unconverted until the build's hashes are known, since they locate its install prefix.
type analyzed struct {
	analysis store.Analysis
	manifest map[string]manifest.Entry
}

// result is one item of a generic analyzer's list.
type result struct {
	InstallFile *string         `json:"install_file"`
	Name        *string         `json:"name"`
	Value       json.RawMessage `json:"value"`
	BinaryValue json.RawMessage `json:"binary_value"`
	JSONValue   json.RawMessage `json:"json_value"`
}

// badKey is the 400 for the value at key ("install_files", "symbolator[2].json_value"): the
// message says which value is wrong and what was expected.
func badKey(key, format string, args ...any) error {
	return errs.New(errs.BadRequest, "metadata.%s %s", key, fmt.Sprintf(format, args...))
}

func at(key string, i int, field string) string {
	return fmt.Sprintf("%s[%d]%s", key, i, field)
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// parseMetadata checks raw, the metadata object as the client sent it. Absent, null or
// anything but an object is the client's mistake (PROTOCOL.md §4): an analyze request
// without results is a client that lost them.
func parseMetadata(raw []byte) (analyzed, error) {
	var md analyzed
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return md, errs.New(errs.BadRequest, "metadata is required: a JSON object of analyzer results.")
	}
	if string(raw) == "null" {
		return md, errs.New(errs.BadRequest, "metadata must be a JSON object of analyzer results, not null.")
	}
	if raw[0] != '{' {
		return md, errs.New(errs.BadRequest, "metadata must be a JSON object of analyzer results.")
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return md, errs.New(errs.BadRequest, "metadata is not valid JSON: %v", err)
	}
	for key, value := range keys {
		// A client sends null for an analyzer that found nothing; it asks for no change.
		if isNull(value) {
			continue
		}
		var err error
		switch key {
		case keyConfigArgs:
			var s string
			if json.Unmarshal(value, &s) != nil {
				return md, badKey(key, "must be a string (the configure arguments).")
			}
			md.analysis.ConfigArgs = &s
		case keyEnvironment:
			if md.analysis.Environment, err = environment(value); err != nil {
				return md, badKey(key, "must be an object of names to string values.")
			}
		case keyManifest:
			if md.manifest, err = manifest.Parse(value); err != nil || md.manifest == nil {
				return md, badKey(key, "must be an install manifest: an object of paths to {type, mode, owner, group, hash, size}.")
			}
		default:
			err = md.addResults(key, value)
		}
		if err != nil {
			return md, err
		}
	}
	return md, nil
}

// addResults adds the results of analyzer key.
func (md *analyzed) addResults(key string, value json.RawMessage) error {
	if strings.TrimSpace(key) == "" {
		return errs.New(errs.BadRequest, "metadata keys must name an analyzer; the empty key does not.")
	}
	var items []json.RawMessage
	if json.Unmarshal(value, &items) != nil {
		return badKey(key, "must be a list of results ({install_file, name, value | binary_value | json_value}).")
	}
	for i, item := range items {
		var r result
		if isNull(item) || bytes.TrimSpace(item)[0] != '{' || json.Unmarshal(item, &r) != nil {
			return badKey(at(key, i, ""), "must be an object {install_file, name, value | binary_value | json_value}.")
		}
		if r.Name == nil || *r.Name == "" {
			return badKey(at(key, i, ""), "needs a name (a non-empty string).")
		}
		a := store.Attribute{Analyzer: key, Name: *r.Name}
		if r.InstallFile != nil {
			a.InstallFile = *r.InstallFile
		}
		if !isNull(r.Value) {
			var s string
			if json.Unmarshal(r.Value, &s) != nil {
				return badKey(at(key, i, ".value"), "must be a string.")
			}
			a.Value = &s
		}
		if !isNull(r.BinaryValue) {
			var s string
			if json.Unmarshal(r.BinaryValue, &s) != nil {
				return badKey(at(key, i, ".binary_value"), "must be a base64 string.")
			}
			b, err := decodeBase64(s)
			if err != nil {
				return badKey(at(key, i, ".binary_value"), "must be a base64 string: %v", err)
			}
			a.BinaryValue = b
		}
		if !isNull(r.JSONValue) {
			text, err := jsonValue(r.JSONValue)
			if err != nil {
				return badKey(at(key, i, ".json_value"), "%v", err)
			}
			a.JSONValue = &text
		}
		if a.Value == nil && a.BinaryValue == nil && a.JSONValue == nil {
			return badKey(at(key, i, ""), "needs a value, binary_value or json_value.")
		}
		md.analysis.Attributes = append(md.analysis.Attributes, a)
	}
	return nil
}

// decodeBase64 takes standard base64, padded or not: clients differ.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if b == nil && err == nil {
		b = []byte{}
	}
	return b, err
}

// jsonValue returns the JSON text of a json_value: Spack sends a string holding JSON, other
// clients the JSON itself; both are stored as the same compact text.
func jsonValue(raw json.RawMessage) (string, error) {
	text := []byte(raw)
	if bytes.TrimSpace(raw)[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("must be JSON text or a JSON value")
		}
		text = []byte(s)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, text); err != nil {
		return "", fmt.Errorf("is not valid JSON: %v", err)
	}
	return buf.String(), nil
}

// resolve returns the analysis to record: the manifest's paths made relative to the
// install prefix the build's hashes locate, and the results' absolute paths with them.
func (md analyzed) resolve(hashes ...string) store.Analysis {
	a := md.analysis
	if md.manifest == nil {
		return a
	}
	var prefix string
	a.InstallFiles, prefix = manifest.FilesAndPrefix(md.manifest, hashes...)
	for i, attr := range a.Attributes {
		if strings.HasPrefix(attr.InstallFile, "/") {
			a.Attributes[i].InstallFile = manifest.Relative(prefix, attr.InstallFile)
		}
	}
	return a
}

// environment reads the environment_variables object. A null value would decode as "",
// which is not what was sent: refused, as any other value that is not a string.
func environment(value json.RawMessage) (map[string]string, error) {
	var sent map[string]*string
	if err := json.Unmarshal(value, &sent); err != nil {
		return nil, err
	}
	env := make(map[string]string, len(sent))
	for name, v := range sent {
		if v == nil {
			return nil, errors.New("a null value")
		}
		env[name] = *v
	}
	return env, nil
}
