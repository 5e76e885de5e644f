// Package msgtemplate implements Apigee message templates: literal text
// with {variable} references, {variable:default} defaults and
// {function(args)} calls, as used in AssignMessage, RaiseFault,
// MessageLogging, ServiceCallout and other policy elements.
//
// Semantics (project reference shared/Apigee docs: message templates, citing the
// Apigee message-template page; apigeelint's template validator
// lib/package/plugins/_pluginUtil.js and test/specs/testTemplateCheck.js,
// read, not copied):
//
//   - A reference opens with the prefix (default "{") directly followed by a
//     letter or "_", and closes with the suffix (default "}"). Anything
//     else is literal text: "{" followed by a space, a quote, a digit or
//     "}" (JSON such as {"a":{}}), a reference-looking run that never
//     closes, or a name followed by a character names cannot hold. This is
//     how JSON payloads keep their braces.
//   - "{{text}}" renders as the literal "{text}" (apigeelint: "dbl curly
//     just means curly").
//   - {name:default} renders default when name is unresolved
//     (apigeelint fixture CORS.xml: {request.header.origin:*}).
//   - {fn(arg,…)} calls one of the functions in funcs.go. An argument is a
//     'single-quoted' (or "double-quoted") literal, a number, true/false/null,
//     a variable name, or, when it is none of these, literal text (JSONPath
//     and XPath expressions are usually written unquoted). Calls do not
//     nest. A malformed call or an unknown function is a load error.
//   - Unresolved variables render as the empty string. Apigee policies
//     with IgnoreUnresolvedVariables=false fault instead: Append reports
//     the first unresolved name and ExecuteStrict fails with
//     *UnresolvedError before writing anything, so the policy can raise
//     steps.<policy>.UnresolvedVariable.
//
// AssignMessage's <Payload variablePrefix="@" variableSuffix="#"> is
// Parse(src, '@', '#'): the same syntax with other delimiters.
package msgtemplate
