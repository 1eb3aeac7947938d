package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// codec is the gateway's only marshaler, whatever the Content-Type: Spack labels its JSON
// application/x-www-form-urlencoded. The bodies of the /ms1 writes are read by their
// rows' decoders (protocol.go) from the protocol's JSON shapes (ids as numbers or digit
// strings, tags as a string or a list, spec documents passed through untouched); other
// bodies are protojson. Messages are written with the proto field names and ids as numbers
// (messageValue); what a row shapes is written as JSON, or as it is when raw.
type codec struct {
	in protojson.UnmarshalOptions
}

func newCodec() *codec {
	return &codec{in: protojson.UnmarshalOptions{DiscardUnknown: true}}
}

var _ runtime.Marshaler = (*codec)(nil)

// ContentType is the type of every answer but the raw ones, whose rows set their own.
func (c *codec) ContentType(any) string {
	return "application/json"
}

// rawBody is an answer written as it is (a binary attribute value, a phase's log).
type rawBody []byte

func (c *codec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case rawBody:
		return m, nil
	case proto.Message:
		return json.Marshal(messageValue(m.ProtoReflect()))
	}
	return json.Marshal(v)
}

func (c *codec) Unmarshal(data []byte, v any) error {
	return c.decode(data, v)
}

func (c *codec) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		data, err := readBody(r)
		if err != nil {
			return fmt.Errorf("The request body could not be read: %w", err)
		}
		return c.decode(data, v)
	})
}

func (c *codec) NewEncoder(w io.Writer) runtime.Encoder {
	return runtime.EncoderFunc(func(v any) error {
		data, err := c.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
}

func (c *codec) decode(data []byte, v any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return errors.New("The request body is empty; a JSON object is expected.")
	}
	if data[0] != '{' {
		return errors.New("The request body must be a JSON object.")
	}
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("cannot decode into %T", v)
	}
	if read := bodyDecoders[proto.MessageName(m)]; read != nil {
		return read(data, m)
	}
	return c.in.Unmarshal(data, m)
}

// decodeInto decodes a protocol body in one pass (a phase log can be hundreds of MiB, so
// it is decoded once, straight into its bytes) and then fills the request.
func decodeInto(data []byte, body any, fill func() error) error {
	if err := json.Unmarshal(data, body); err != nil {
		var typeErr *json.UnmarshalTypeError
		isType := errors.As(err, &typeErr)
		switch {
		// An output that is not text is named before any other member of the wrong type,
		// as the streamed decoding (phaseBody) names it, whichever error encoding/json
		// stopped at (Go 1.26's the output's, 1.27's the first type error).
		case errors.Is(err, errNotText) || isType && hasMistypedText(data, body):
			return errors.New("output must be a string or null.")
		case isType && typeErr.Field != "":
			// Named as the protocol names it: Go 1.27's error spells the member as the
			// client did ("Phase_Name"), 1.26's as the field's tag.
			return fmt.Errorf("%s must be a string.", tagMatching(body, typeErr.Field))
		}
		return fmt.Errorf("Invalid JSON body: %v", err)
	}
	return fill()
}

// tagMatching is the JSON name of the field of body (a pointer to a struct) that a member
// named key fills, matched without regard to case as encoding/json matches it, or key itself
// when none does.
func tagMatching(body any, key string) string {
	fields := reflect.TypeOf(body).Elem()
	for i := range fields.NumField() {
		if name := jsonName(fields.Field(i)); strings.EqualFold(name, key) {
			return name
		}
	}
	return key
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// hasMistypedText tells whether a member of the JSON object data that a logText field of
// body (a pointer to a struct) takes holds something else than a string or null. Member
// names match fields without regard to case, as encoding/json matches them.
func hasMistypedText(data []byte, body any) bool {
	fields := reflect.TypeOf(body).Elem()
	var texts []string
	for i := range fields.NumField() {
		if f := fields.Field(i); f.Type == reflect.TypeFor[logText]() {
			texts = append(texts, jsonName(f))
		}
	}
	if len(texts) == 0 {
		return false
	}
	// Every member in turn, each of a name given twice too.
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		key, err := dec.Token()
		var value json.RawMessage
		if err != nil || dec.Decode(&value) != nil {
			return false
		}
		for _, name := range texts {
			if strings.EqualFold(key.(string), name) && value[0] != '"' && string(value) != "null" {
				return true
			}
		}
	}
	return false
}

// maxPrealloc bounds what a declared Content-Length can make the gateway reserve up front.
const maxPrealloc = 4 << 20

// readBody reads a whole body, into one buffer of the declared size when there is one
// (a large phase log would otherwise be copied over and over as the buffer grows).
func readBody(r io.Reader) ([]byte, error) {
	b, ok := r.(*limitedBody)
	if !ok || b.declared <= 0 {
		return io.ReadAll(r)
	}
	// The declared length is only a claim: a client that declares 256 MiB and sends one
	// byte must not make the gateway allocate 256 MiB.
	buf := bytes.NewBuffer(make([]byte, 0, min(b.declared, maxPrealloc)+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// The bodies of the protocol's writes. Strings that are absent or null read as "".
type newSpecBody struct {
	Spec         json.RawMessage `json:"spec"`
	SpackVersion string          `json:"spack_version"`
}

func readNewSpec(data []byte, m *ingestv1.NewSpecRequest) error {
	var b newSpecBody
	return decodeInto(data, &b, func() error {
		m.Spec, m.SpackVersion = document(b.Spec), b.SpackVersion
		return nil
	})
}

type newBuildBody struct {
	FullHash      string          `json:"full_hash"`
	SpackVersion  string          `json:"spack_version"`
	Hostname      string          `json:"hostname"`
	KernelVersion string          `json:"kernel_version"`
	HostOS        string          `json:"host_os"`
	HostTarget    string          `json:"host_target"`
	Platform      string          `json:"platform"`
	Tags          json.RawMessage `json:"tags"`
	Spec          json.RawMessage `json:"spec"`
}

func readNewBuild(data []byte, m *ingestv1.NewBuildRequest) error {
	var b newBuildBody
	return decodeInto(data, &b, func() (err error) {
		m.FullHash, m.SpackVersion, m.Hostname = b.FullHash, b.SpackVersion, b.Hostname
		m.KernelVersion, m.HostOs, m.HostTarget, m.Platform = b.KernelVersion, b.HostOS, b.HostTarget, b.Platform
		m.Spec = document(b.Spec)
		m.Tags, err = tags(b.Tags)
		return err
	})
}

type updateBuildBody struct {
	BuildID json.RawMessage `json:"build_id"`
	Status  string          `json:"status"`
}

func readUpdateBuild(data []byte, m *ingestv1.UpdateBuildStatusRequest) error {
	var b updateBuildBody
	return decodeInto(data, &b, func() (err error) {
		m.Status = b.Status
		m.BuildId, err = id("build_id", b.BuildID)
		return err
	})
}

type updatePhaseBody struct {
	BuildID   json.RawMessage `json:"build_id"`
	PhaseName string          `json:"phase_name"`
	Status    string          `json:"status"`
	Output    logText         `json:"output"`
}

func readUpdatePhase(data []byte, m *ingestv1.UpdatePhaseRequest) error {
	var b updatePhaseBody
	return decodeInto(data, &b, func() (err error) {
		m.PhaseName, m.Status = b.PhaseName, b.Status
		if b.Output.set {
			m.Output = b.Output.data
		}
		m.BuildId, err = id("build_id", b.BuildID)
		return err
	})
}

// analyzeBody passes metadata on as the client sent it, null included: the service tells
// absent, null and malformed apart.
type analyzeBody struct {
	BuildID  json.RawMessage `json:"build_id"`
	Metadata json.RawMessage `json:"metadata"`
}

func readAnalyze(data []byte, m *analysisv1.RecordAnalysisRequest) error {
	var b analyzeBody
	return decodeInto(data, &b, func() (err error) {
		if len(b.Metadata) > 0 {
			m.Metadata = b.Metadata
		}
		m.BuildId, err = id("build_id", b.BuildID)
		return err
	})
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// id reads an id given as a JSON number or a string of digits (Spack echoes back whatever
// it was given); absent and null read as 0, which the services call missing, so an id
// given as 0 or less is refused here as invalid.
func id(name string, raw json.RawMessage) (int64, error) {
	if isNull(raw) {
		return 0, nil
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, fmt.Errorf("%s must be an integer.", name)
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s must be an integer.", name)
	}
	if n <= 0 {
		return 0, fmt.Errorf("%s must be a positive integer.", name)
	}
	return n, nil
}

// document returns a spec document as raw JSON, or nil when it is absent or null.
func document(raw json.RawMessage) []byte {
	if isNull(raw) {
		return nil
	}
	return raw
}

// tags reads tags given as Spack does (one comma-separated string) or as a list.
func tags(raw json.RawMessage) ([]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strings.Split(s, ","), nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("tags must be a comma-separated string or a list of strings.")
	}
	return list, nil
}
