//go:build vtprotobuf

package extproc

// vtprotoBuild reports whether this build marshals with vtprotobuf
// (-tags vtprotobuf compiles go-control-plane's *_vtproto.pb.go).
const vtprotoBuild = true
