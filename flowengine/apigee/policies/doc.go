// Package policies holds the Apigee policy types flowproc runs, one file
// per type with its table test. Each registers itself with the engine by
// its root element name in an init function.
package policies
