package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// codec is the gateway's only marshaler, whatever the Content-Type: Spack labels its JSON
// application/x-www-form-urlencoded. Requests of the /ms1 protocol are read from the
// protocol's JSON shapes (ids as numbers or digit strings, tags as a string or a list, spec
// documents passed through untouched); answers of /ms1 are written as envelopes; the
// /api/v1 reads use protojson with the proto field names.
type codec struct {
	out protojson.MarshalOptions
	in  protojson.UnmarshalOptions
}

func newCodec() *codec {
	return &codec{
		out: protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
		in:  protojson.UnmarshalOptions{DiscardUnknown: true},
	}
}

var _ runtime.Marshaler = (*codec)(nil)

func (c *codec) ContentType(v any) string {
	if _, ok := v.(*ingestv1.PhaseOutput); ok {
		return "text/plain; charset=utf-8"
	}
	return "application/json"
}

func (c *codec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case *ingestv1.PhaseOutput:
		return m.GetData(), nil
	case proto.Message:
		return c.out.Marshal(m)
	}
	return json.Marshal(v)
}

func (c *codec) Unmarshal(data []byte, v any) error {
	return c.decode(data, v)
}

func (c *codec) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		data, err := io.ReadAll(r)
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

// fields is a JSON object whose values are decoded on demand, so a large spec document or
// log is never decoded into a generic tree.
type fields map[string]json.RawMessage

func (c *codec) decode(data []byte, v any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return errors.New("The request body is empty; a JSON object is expected.")
	}
	if data[0] != '{' {
		return errors.New("The request body must be a JSON object.")
	}
	var f fields
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("Invalid JSON body: %v", err)
	}
	switch m := v.(type) {
	case *ingestv1.NewSpecRequest:
		return f.newSpec(m)
	case *ingestv1.NewBuildRequest:
		return f.newBuild(m)
	case *ingestv1.UpdateBuildStatusRequest:
		return f.updateBuild(m)
	case *ingestv1.UpdatePhaseRequest:
		return f.updatePhase(m)
	case proto.Message:
		return c.in.Unmarshal(data, m)
	}
	return fmt.Errorf("cannot decode into %T", v)
}

func (f fields) newSpec(m *ingestv1.NewSpecRequest) (err error) {
	m.Spec = f.document("spec")
	m.SpackVersion, err = f.str("spack_version")
	return err
}

func (f fields) newBuild(m *ingestv1.NewBuildRequest) error {
	for name, dst := range map[string]*string{
		"full_hash": &m.FullHash, "spack_version": &m.SpackVersion, "hostname": &m.Hostname,
		"kernel_version": &m.KernelVersion, "host_os": &m.HostOs, "host_target": &m.HostTarget,
		"platform": &m.Platform,
	} {
		var err error
		if *dst, err = f.str(name); err != nil {
			return err
		}
	}
	m.Spec = f.document("spec")
	var err error
	m.Tags, err = f.tags()
	return err
}

func (f fields) updateBuild(m *ingestv1.UpdateBuildStatusRequest) (err error) {
	if m.BuildId, err = f.id("build_id"); err != nil {
		return err
	}
	m.Status, err = f.str("status")
	return err
}

func (f fields) updatePhase(m *ingestv1.UpdatePhaseRequest) (err error) {
	if m.BuildId, err = f.id("build_id"); err != nil {
		return err
	}
	if m.PhaseName, err = f.str("phase_name"); err != nil {
		return err
	}
	if m.Status, err = f.str("status"); err != nil {
		return err
	}
	if raw, ok := f["output"]; ok && !isNull(raw) {
		var out string
		if err := json.Unmarshal(raw, &out); err != nil {
			return errors.New("output must be a string or null.")
		}
		m.Output = []byte(out)
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// str reads a string field; absent and null read as "".
func (f fields) str(name string) (string, error) {
	raw, ok := f[name]
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s must be a string.", name)
	}
	return s, nil
}

// id reads an id given as a JSON number or a string of digits (Spack echoes back whatever
// it was given); absent and null read as 0.
func (f fields) id(name string) (int64, error) {
	raw, ok := f[name]
	if !ok || isNull(raw) {
		return 0, nil
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, fmt.Errorf("%s must be an integer.", name)
		}
	}
	id, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s must be an integer.", name)
	}
	return id, nil
}

// document returns a field holding a spec document as raw JSON, or nil when it is absent.
func (f fields) document(name string) []byte {
	raw := f[name]
	if isNull(raw) {
		return nil
	}
	return raw
}

// tags reads tags given as Spack does (one comma-separated string) or as a list.
func (f fields) tags() ([]string, error) {
	raw, ok := f["tags"]
	if !ok || isNull(raw) {
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
