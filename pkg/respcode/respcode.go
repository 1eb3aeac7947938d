// Package respcode lets a service choose the HTTP status of a successful answer (201 for a
// created resource) without knowing about HTTP: it sends the status in a gRPC response
// header that the gateway turns into the HTTP status and the envelope's code.
package respcode

import (
	"context"
	"net/http"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Header is the gRPC response header carrying the status.
const Header = "x-http-code"

// Created marks the answer of the current call as 201 Created.
func Created(ctx context.Context) {
	// SetHeader fails only outside a gRPC call (a direct in-process call in a test), where
	// there is no HTTP answer to shape.
	_ = grpc.SetHeader(ctx, metadata.Pairs(Header, strconv.Itoa(http.StatusCreated)))
}

// FromMetadata returns the status a service chose, or 200.
func FromMetadata(md metadata.MD) int {
	if v := md.Get(Header); len(v) > 0 {
		if code, err := strconv.Atoi(v[0]); err == nil && code >= 200 && code < 300 {
			return code
		}
	}
	return http.StatusOK
}
