package diag

// Apigee front-end diagnostic codes. They live apart from the FLAT codes so
// each front end's block grows on its own; docs/errors.md lists them.
const (
	// Bundle and loading (AP1xx).
	APNoBundle       Code = "AP100" // no apiproxy/ or sharedflowbundle/ directory
	APXMLSyntax      Code = "AP101" // a bundle file is not well-formed XML (or has a DOCTYPE)
	APBadRoot        Code = "AP102" // root element is not the one the folder requires
	APUnknownElement Code = "AP103" // element not allowed at this place
	APMissingElement Code = "AP104" // required element or attribute absent
	APDuplicateName  Code = "AP105" // two endpoints or policies with one name
	APNameMismatch   Code = "AP106" // reserved: a name attribute differing from its file name is accepted (Steps use the name)
	APBadZip         Code = "AP107" // bundle zip unreadable, or an entry escapes (../) or is a symlink

	// Flows and steps (AP2xx).
	APMissingPolicy   Code = "AP200" // a Step names a policy that does not exist
	APMissingTarget   Code = "AP201" // a RouteRule names a TargetEndpoint that does not exist
	APBadRoute        Code = "AP202" // RouteRules unusable (e.g. unconditional rule not last)
	APMissingFlow     Code = "AP203" // a FlowCallout names a shared flow that does not exist
	APMissingResource Code = "AP204" // a policy references a resource (jsc://, xsl://, …) the bundle lacks
	APBadDeployment   Code = "AP205" // the deployment settings file is invalid or names a missing TargetServer
	APNoKVMKey        Code = "AP206" // a KVM seed file declares an encrypted map and the process has no KVM key

	// Conditions (AP3xx).
	APConditionSyntax Code = "AP300" // a Condition does not compile

	// Policies (AP4xx).
	APUnsupportedPolicy Code = "AP400" // policy type flowproc does not support
	APBadPolicy         Code = "AP401" // policy content invalid
	APTemplateSyntax    Code = "AP402" // message template does not compile
)
