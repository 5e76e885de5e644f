// Package diag holds load-time diagnostics: errors with a file position and a
// stable code, reported as "file:line:col: CODE: message".
package diag

import (
	"fmt"
	"sort"
	"strings"
)

// Code is a stable diagnostic code. Codes never change meaning; new ones are
// added at the end of their block. docs/errors.md lists them all.
type Code string

// Diagnostic codes.
const (
	// Project structure (FP1xx).
	NoDefinition     Code = "FP100" // no swagger.yaml / openapi.yaml
	BadDefinition    Code = "FP101" // OpenAPI document does not parse or validate
	BadExtension     Code = "FP102" // malformed x-flat-* value
	MissingFile      Code = "FP103" // a referenced file does not exist
	ProxyAndFlow     Code = "FP104" // x-flat-proxy combined with x-flat-flow
	BadPath          Code = "FP105" // path template not supported
	DuplicateProject Code = "FP106" // two projects with one name
	BadConfig        Code = "FP107" // conf/config.xml is malformed or names no usable definition
	NotEnforced      Code = "FP108" // a security, validation or CORS setting flowproc does not enforce yet
	OutsideProject   Code = "FP109" // a referenced file is outside the project directory (or reached through a symlink leaving it)

	// Flow XML (FP2xx).
	XMLSyntax        Code = "FP200" // flow file is not well-formed XML
	BadRoot          Code = "FP201" // root element is not <flow>
	UnknownAction    Code = "FP202" // element is not a known action or control
	UnknownAttribute Code = "FP203" // attribute not allowed on this element
	MissingAttribute Code = "FP204" // required attribute absent
	BadAttribute     Code = "FP205" // attribute value invalid
	MisplacedElse    Code = "FP206" // elseif/else not directly after if/elseif
	SubFlowCycle     Code = "FP207" // sub-flow recursion without any condition (static cycle)
	BadContent       Code = "FP208" // action body invalid (e.g. not JSON where JSON is needed)

	// Expressions (FP3xx).
	XPathSyntax     Code = "FP300" // expression does not compile
	UnknownFunction Code = "FP301" // call to a function that does not exist
	BadArity        Code = "FP302" // wrong number of arguments
	BadVariable     Code = "FP303" // malformed variable name
	Unsupported     Code = "FP304" // construct the engine cannot evaluate

	// Templates (FP4xx).
	TemplateSyntax Code = "FP400" // template does not parse
)

// Error is one diagnostic.
type Error struct {
	File string
	Line int // 1-based; 0 = unknown
	Col  int // 1-based; 0 = unknown
	Code Code
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Col > 0 {
				fmt.Fprintf(&b, ":%d", e.Col)
			}
		}
		b.WriteString(": ")
	}
	if e.Code != "" {
		b.WriteString(string(e.Code))
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errorf returns a diagnostic at file:line:col.
func Errorf(file string, line, col int, code Code, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Col: col, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// List collects diagnostics; a project reports all of them, not the first.
type List []*Error

// Add appends e.
func (l *List) Add(e *Error) { *l = append(*l, e) }

// Addf appends a formatted diagnostic.
func (l *List) Addf(file string, line, col int, code Code, format string, args ...any) {
	l.Add(Errorf(file, line, col, code, format, args...))
}

// Sort orders the list by file, line, column.
func (l List) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

func (l List) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns l as an error, or nil when empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// PosError is an error positioned inside a string (an expression or a
// template): Offset is a byte offset, Line/Col are 1-based within the string.
// Loaders translate it to file positions.
type PosError struct {
	Code   Code
	Line   int
	Col    int
	Offset int
	Msg    string
}

func (e *PosError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d col %d: %s", e.Line, e.Col, e.Msg)
	}
	return e.Msg
}
