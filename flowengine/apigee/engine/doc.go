// Package engine runs Apigee Edge proxy bundles on flowproc's shared
// runtime: it compiles a loaded bundle (package bundle) into flows of
// runtime.Steps, keeps each exchange's Apigee state (messages, flow
// variables, the fault), and runs ProxyEndpoint and TargetEndpoint flows,
// RouteRules, FaultRules and PostClientFlow in Apigee's order
// (Apigee docs: execution order, fault handling).
//
// Policies live in package policies, one file each; they register a
// Factory here by their root element name and receive a *Run while they
// execute.
package engine
