package gateway

import (
	"testing"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// A member of the wrong type is named as the protocol spells it, however the client spelled
// it (encoding/json matches names without regard to case; Go 1.27's errors keep the
// client's spelling), and an output that is not text before any other.
func TestTypeErrorsNameTheProtocolField(t *testing.T) {
	const notText = "output must be a string or null."
	cases := []struct {
		body string
		into proto.Message
		want string
	}{
		{`{"Phase_Name": 5}`, &ingestv1.UpdatePhaseRequest{}, "phase_name must be a string."},
		{`{"ſtatus": 5, "phase_name": "x"}`, &ingestv1.UpdatePhaseRequest{}, "status must be a string."},
		{`{"PHASE_NAME": 5, "OUTPUT": 5}`, &ingestv1.UpdatePhaseRequest{}, notText},
		{`{"OUTPUT": [], "Status": {}}`, &ingestv1.UpdatePhaseRequest{}, notText},
		{`{"STATUS": 5, "build_id": 1}`, &ingestv1.UpdateBuildStatusRequest{}, "status must be a string."},
		{`{"Spack_Version": 17, "spec": {}}`, &ingestv1.NewSpecRequest{}, "spack_version must be a string."},
		{`{"HostName": ["x"]}`, &ingestv1.NewBuildRequest{}, "hostname must be a string."},
		{`{"build_id": 1, "metadata": 5}`, &analysisv1.RecordAnalysisRequest{}, ""},
	}
	for _, c := range cases {
		err := newCodec().decode([]byte(c.body), c.into)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.body, err)
		case c.want != "" && (err == nil || err.Error() != c.want):
			t.Errorf("%s: got %v, want %q", c.body, err, c.want)
		}
		if _, isPhase := c.into.(*ingestv1.UpdatePhaseRequest); isPhase {
			for _, oneByte := range []bool{false, true} {
				if _, err := streamed([]byte(c.body), oneByte); err == nil || status.Convert(err).Message() != c.want {
					t.Errorf("%s, streamed: got %v, want %q", c.body, err, c.want)
				}
			}
		}
	}
}
