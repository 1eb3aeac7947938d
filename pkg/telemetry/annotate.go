package telemetry

import "context"

// AnnotateMessage puts on the span of ctx the build id and spec hash msg names, as the unary
// interceptor does with every request: a streaming call knows its request only once its
// handler has read it.
func AnnotateMessage(ctx context.Context, msg any) { annotate(ctx, msg) }
