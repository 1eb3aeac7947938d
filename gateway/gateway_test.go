package gateway

import (
	"context"
	"log/slog"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func TestConfigIsValidated(t *testing.T) {
	conn, err := grpc.NewClient("127.0.0.1:1", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, c := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{APIPrefix: "ms1", MaxBodyBytes: 1}, true},
		{Config{APIPrefix: "/ms2/", MaxBodyBytes: 1}, true},
		{Config{APIPrefix: "", MaxBodyBytes: 1}, false},
		{Config{APIPrefix: "api", MaxBodyBytes: 1}, false},
		{Config{APIPrefix: "metrics", MaxBodyBytes: 1}, false},
		{Config{APIPrefix: "a/b", MaxBodyBytes: 1}, false},
		{Config{APIPrefix: "ms1", MaxBodyBytes: 0}, false},
	} {
		_, err := New(context.Background(), c.cfg, slog.Default(), Backends{Ingest: conn, Auth: conn, Analysis: conn})
		if (err == nil) != c.ok {
			t.Errorf("%+v: error %v", c.cfg, err)
		}
	}
}
