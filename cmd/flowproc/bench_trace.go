package main

import (
	"context"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/internal/tracehub"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

// benchTraceSample is the server child's -trace-sample ("" = no tracing).
var benchTraceSample string

// benchTracing returns the server child's Tracing for -trace-sample: a hub
// with one session sampling that fraction of the exchanges, drained by a
// goroutine that encodes every trace as the API's gRPC stream does (so the
// measured cost includes building and serialising the documents).
// nil without -trace-sample or for the no-op server (res nil).
func benchTracing(ctx context.Context, res extproc.Resolver) (extproc.Tracing, error) {
	if benchTraceSample == "" || res == nil {
		return nil, nil
	}
	rate, err := strconv.ParseFloat(benchTraceSample, 64)
	if err != nil {
		return nil, fmt.Errorf("-trace-sample %q: want a fraction in (0, 1]", benchTraceSample)
	}
	hub, err := tracehub.New(tracehub.Options{Buffer: 1024})
	if err != nil {
		return nil, err
	}
	sess, err := hub.Open(ctx, &flowprocv1.TraceRequest{Sample: rate})
	if err != nil {
		return nil, fmt.Errorf("-trace-sample: %w", err)
	}
	go func() {
		for t := range sess.C {
			_, _ = proto.Marshal(t)
		}
	}()
	return hub, nil
}
