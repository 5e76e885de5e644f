//go:build !vtprotobuf

package extproc

// vtprotoBuild reports whether this build marshals with vtprotobuf: without
// the tag the generated VT methods are not compiled in, and vtCodec
// marshals through grpc-go's protobuf codec.
const vtprotoBuild = false
