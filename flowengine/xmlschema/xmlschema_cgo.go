//go:build xslt && cgo

package xmlschema

/*
#cgo pkg-config: libxml-2.0
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

// xsState is one compilation or validation: the files a compilation may
// load, the first location it refused and the first error reported.
typedef struct {
	int n;
	char **names;
	char **data;
	char refused[512];
	char err[1024];
	int line;
} xsState;

// The external entity loader is process-wide in libxml2; which files it
// may serve is per thread: a compilation or validation sets xsCur (or
// xsRefuse) on its own thread for the length of one C call. Other libxml2
// users in the process (libxslt) keep the previous loader.
static __thread xsState *xsCur = NULL;
static __thread int xsRefuse = 0;
static xmlExternalEntityLoader xsPrev = NULL;

static const char *xsLocal(const char *url) {
	if (strncmp(url, "xsd://", 6) == 0) url += 6;
	else if (strncmp(url, "wsdl://", 7) == 0) url += 7;
	while (strncmp(url, "./", 2) == 0) url += 2;
	if (*url == 0 || strchr(url, '/') != NULL || strchr(url, '\\') != NULL || strchr(url, ':') != NULL) return NULL;
	return url;
}

static xmlParserInputPtr xsLoader(const char *url, const char *id, xmlParserCtxtPtr ctxt) {
	xsState *st = xsCur;
	if (st == NULL && !xsRefuse) return xsPrev != NULL ? xsPrev(url, id, ctxt) : NULL;
	if (st != NULL && url != NULL) {
		const char *name = xsLocal(url);
		for (int i = 0; name != NULL && i < st->n; i++) {
			if (strcmp(st->names[i], name) == 0) {
				xmlParserInputPtr in = xmlNewStringInputStream(ctxt, (const xmlChar *) st->data[i]);
				if (in != NULL) in->filename = (const char *) xmlStrdup((const xmlChar *) name);
				return in;
			}
		}
	}
	if (st != NULL && st->refused[0] == 0) snprintf(st->refused, sizeof st->refused, "%s", url != NULL ? url : (id != NULL ? id : "?"));
	return NULL;
}

static void xsInstall(void) {
	xmlInitParser();
	xsPrev = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(xsLoader);
}

static void xsError(void *ud, xmlErrorPtr e) {
	xsState *st = ud;
	if (st == NULL || e == NULL || e->level < XML_ERR_ERROR || st->err[0] != 0) return;
	snprintf(st->err, sizeof st->err, "%s", e->message != NULL ? e->message : "error");
	st->line = e->line;
}


static xmlSchemaPtr xsCompile(xsState *st, const char *main) {
	xmlStructuredErrorFunc prevFn = xmlStructuredError;
	void *prevCtx = xmlStructuredErrorContext;
	xsCur = st;
	xmlSetStructuredErrorFunc(st, xsError);
	xmlSchemaPtr s = NULL;
	xmlSchemaParserCtxtPtr p = xmlSchemaNewParserCtxt(main);
	if (p != NULL) {
		xmlSchemaSetParserStructuredErrors(p, xsError, st);
		s = xmlSchemaParse(p);
		xmlSchemaFreeParserCtxt(p);
	}
	xmlSetStructuredErrorFunc(prevCtx, prevFn);
	xsCur = NULL;
	if (s != NULL && st->refused[0] != 0) {
		xmlSchemaFree(s);
		s = NULL;
	}
	return s;
}

static int xsParseOpts(void) { return XML_PARSE_NONET | XML_PARSE_NOCDATA; }

// xsValidate validates doc (len bytes): the whole document when envNS is
// NULL, else each element child of the SOAP Body (envelope namespace
// envNS). It returns 0 when valid, -2 when doc is not well-formed, -3
// when it has no Body, another value when it is invalid.
static int xsValidate(xmlSchemaPtr s, const char *doc, int len, const char *envNS, xsState *st) {
	int ret = -1;
	xmlStructuredErrorFunc prevFn = xmlStructuredError;
	void *prevCtx = xmlStructuredErrorContext;
	xsRefuse = 1;
	xmlSetStructuredErrorFunc(st, xsError);
	xmlDocPtr d = xmlReadMemory(doc, len, NULL, NULL, xsParseOpts());
	if (d == NULL) {
		ret = -2;
		goto out;
	}
	xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(s);
	if (v == NULL) goto free;
	xmlSchemaSetValidStructuredErrors(v, xsError, st);
	if (envNS == NULL) {
		ret = xmlSchemaValidateDoc(v, d);
	} else {
		xmlNodePtr root = xmlDocGetRootElement(d), body = NULL;
		for (xmlNodePtr c = root != NULL ? root->children : NULL; c != NULL; c = c->next) {
			if (c->type == XML_ELEMENT_NODE && c->ns != NULL && xmlStrcmp(c->ns->href, (const xmlChar *) envNS) == 0 && xmlStrcmp(c->name, (const xmlChar *) "Body") == 0) {
				body = c;
				break;
			}
		}
		ret = body == NULL ? -3 : 0;
		for (xmlNodePtr c = body != NULL ? body->children : NULL; c != NULL && ret == 0; c = c->next) {
			if (c->type == XML_ELEMENT_NODE) ret = xmlSchemaValidateOneElement(v, c);
		}
	}
	xmlSchemaFreeValidCtxt(v);
free:
	xmlFreeDoc(d);
out:
	xmlSetStructuredErrorFunc(prevCtx, prevFn);
	xsRefuse = 0;
	return ret;
}

static xsState *xsNew(int n) {
	xsState *st = calloc(1, sizeof(xsState));
	if (st == NULL) return NULL;
	st->n = n;
	if (n > 0) {
		st->names = calloc(n, sizeof(char *));
		st->data = calloc(n, sizeof(char *));
	}
	return st;
}

static void xsSet(xsState *st, int i, char *name, char *data) { st->names[i] = name; st->data[i] = data; }

static void xsFree(xsState *st) {
	for (int i = 0; i < st->n; i++) {
		free(st->names[i]);
		free(st->data[i]);
	}
	free(st->names);
	free(st->data);
	free(st);
}
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

var installOnce sync.Once

// Available reports whether this binary has an XML Schema validator.
func Available() bool { return true }

// Schema is a compiled XML Schema, safe for concurrent validation.
type Schema struct {
	s C.xmlSchemaPtr
}

func compile(main string, files map[string][]byte) (*Schema, error) {
	installOnce.Do(func() { C.xsInstall() })
	names := make([]string, 0, len(files))
	for n, b := range files {
		if bytes.IndexByte(b, 0) >= 0 {
			return nil, fmt.Errorf("%s contains a NUL byte", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	st := C.xsNew(C.int(len(names)))
	if st == nil {
		return nil, errors.New("out of memory")
	}
	defer C.xsFree(st)
	for i, n := range names {
		C.xsSet(st, C.int(i), C.CString(n), C.CString(string(files[n])))
	}
	cmain := C.CString(main)
	defer C.free(unsafe.Pointer(cmain))
	s := C.xsCompile(st, cmain)
	if s == nil {
		if r := C.GoString(&st.refused[0]); r != "" {
			return nil, fmt.Errorf("schema %s: refused to load %q: imports and includes may only name the bundle's own xsd/wsdl resources by file name", main, r)
		}
		if msg := strings.TrimSpace(C.GoString(&st.err[0])); msg != "" {
			return nil, fmt.Errorf("schema %s does not compile: %s", main, msg)
		}
		return nil, fmt.Errorf("schema %s does not compile", main)
	}
	sc := &Schema{s: s}
	runtime.SetFinalizer(sc, func(sc *Schema) { C.xmlSchemaFree(sc.s) })
	return sc, nil
}

// Validate validates a whole document. A document that is not
// well-formed or not valid is a *ValidationError.
func (s *Schema) Validate(doc []byte) error { return s.validate(doc, "") }

// ValidateSOAPBody validates each element child of a SOAP envelope's Body
// (envelopeNS is the envelope's namespace) on its own, as a WSDL's
// messages describe them; the envelope and its Header are not validated.
func (s *Schema) ValidateSOAPBody(doc []byte, envelopeNS string) error {
	if envelopeNS == "" {
		return errors.New("no SOAP envelope namespace")
	}
	return s.validate(doc, envelopeNS)
}

func (s *Schema) validate(doc []byte, envNS string) error {
	if len(doc) == 0 {
		return &ValidationError{Reason: "the document is empty"}
	}
	if len(doc) > 1<<31-1 {
		return &ValidationError{Reason: "the document is too large"}
	}
	st := C.xsNew(0)
	if st == nil {
		return errors.New("out of memory")
	}
	defer C.xsFree(st)
	cdoc := C.CBytes(doc)
	defer C.free(cdoc)
	var cns *C.char
	if envNS != "" {
		cns = C.CString(envNS)
		defer C.free(unsafe.Pointer(cns))
	}
	ret := C.xsValidate(s.s, (*C.char)(cdoc), C.int(len(doc)), cns, st)
	runtime.KeepAlive(s)
	if ret == 0 {
		return nil
	}
	msg := strings.TrimSpace(C.GoString(&st.err[0]))
	switch {
	case ret == -2 && msg == "":
		msg = "the document is not well-formed XML"
	case ret == -3:
		msg = "the SOAP envelope has no Body"
	case ret < 0 && msg == "":
		return errors.New("the validation could not run (libxml2 internal error)")
	case msg == "":
		msg = "the document is not valid"
	}
	return &ValidationError{Line: int(st.line), Reason: msg}
}
