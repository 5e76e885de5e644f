//go:build xslt && cgo

package xslt

/*
#cgo pkg-config: libxslt
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxslt/xslt.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/transform.h>
#include <libxslt/variables.h>
#include <libxslt/xsltutils.h>
#include <libxslt/security.h>

static int parseOpts(void) { return XML_PARSE_NONET | XML_PARSE_NOCDATA; }

static xsltSecurityPrefsPtr newPrefs(void) {
	xsltSecurityPrefsPtr p = xsltNewSecurityPrefs();
	xsltSetSecurityPrefs(p, XSLT_SECPREF_READ_FILE, xsltSecurityForbid);
	xsltSetSecurityPrefs(p, XSLT_SECPREF_WRITE_FILE, xsltSecurityForbid);
	xsltSetSecurityPrefs(p, XSLT_SECPREF_CREATE_DIRECTORY, xsltSecurityForbid);
	xsltSetSecurityPrefs(p, XSLT_SECPREF_READ_NETWORK, xsltSecurityForbid);
	xsltSetSecurityPrefs(p, XSLT_SECPREF_WRITE_NETWORK, xsltSecurityForbid);
	return p;
}

static xmlDocPtr applyStyle(xsltStylesheetPtr style, xmlDocPtr doc, xsltSecurityPrefsPtr prefs, const char **params) {
	xsltTransformContextPtr ctxt = xsltNewTransformContext(style, doc);
	if (ctxt == NULL) return NULL;
	xsltSetCtxtSecurityPrefs(prefs, ctxt);
	if (params != NULL && xsltQuoteUserParams(ctxt, params) != 0) {
		xsltFreeTransformContext(ctxt);
		return NULL;
	}
	xmlDocPtr res = xsltApplyStylesheetUser(style, doc, NULL, NULL, NULL, ctxt);
	int failed = ctxt->state != XSLT_STATE_OK;
	xsltFreeTransformContext(ctxt);
	if (failed && res != NULL) { xmlFreeDoc(res); return NULL; }
	return res;
}

static const char *outMethod(xsltStylesheetPtr s) { return (const char *)s->method; }
static const char *outMediaType(xsltStylesheetPtr s) { return (const char *)s->mediaType; }
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

var (
	prefsOnce sync.Once
	prefs     C.xsltSecurityPrefsPtr
)

func securityPrefs() C.xsltSecurityPrefsPtr {
	prefsOnce.Do(func() { prefs = C.newPrefs() })
	return prefs
}

// Available reports whether this binary has an XSLT processor.
func Available() bool { return true }

// Stylesheet is a compiled XSLT stylesheet.
type Stylesheet struct {
	style C.xsltStylesheetPtr
}

// Compile parses and compiles a stylesheet (name is for messages).
func Compile(name string, src []byte) (*Stylesheet, error) {
	if len(src) == 0 {
		return nil, errors.New("empty stylesheet")
	}
	doc := parse(src)
	if doc == nil {
		return nil, errors.New("the stylesheet is not well-formed XML")
	}
	style := C.xsltParseStylesheetDoc(doc) // owns doc from here
	if style == nil {
		C.xmlFreeDoc(doc)
		return nil, errors.New("the stylesheet does not compile")
	}
	if n := int(style.errors); n > 0 {
		// libxslt returns a stylesheet even when parts did not compile
		// (e.g. XSLT 2.0 instructions): running it would silently skip
		// them.
		C.xsltFreeStylesheet(style)
		return nil, fmt.Errorf("the stylesheet does not compile (%d error(s); libxslt runs XSLT 1.0: XSLT 2.0 instructions such as xsl:namespace are not supported)", n)
	}
	s := &Stylesheet{style: style}
	runtime.SetFinalizer(s, func(s *Stylesheet) { C.xsltFreeStylesheet(s.style) })
	return s, nil
}

// Transform applies the stylesheet to input (an XML document). A runtime
// error of the transformation is an error; nothing is produced then.
func (s *Stylesheet) Transform(input []byte) (*Output, error) { return s.TransformWith(input, nil) }

// TransformWith is Transform with global stylesheet parameters, each
// passed as a string (name, value pairs: params[2k] is a name,
// params[2k+1] its value).
func (s *Stylesheet) TransformWith(input []byte, params []string) (*Output, error) {
	if len(params)%2 != 0 {
		return nil, errors.New("parameters must be name, value pairs")
	}
	doc := parse(input)
	if doc == nil {
		return nil, errors.New("the input is not well-formed XML")
	}
	defer C.xmlFreeDoc(doc)
	var cparams **C.char
	if len(params) > 0 {
		arr := C.malloc(C.size_t(len(params)+1) * C.size_t(unsafe.Sizeof(uintptr(0))))
		defer C.free(arr)
		slots := unsafe.Slice((**C.char)(arr), len(params)+1)
		for i, p := range params {
			slots[i] = C.CString(p)
			defer C.free(unsafe.Pointer(slots[i]))
		}
		slots[len(params)] = nil
		cparams = (**C.char)(arr)
	}
	res := C.applyStyle(s.style, doc, securityPrefs(), cparams)
	if res == nil {
		return nil, errors.New("the transformation failed")
	}
	defer C.xmlFreeDoc(res)
	var buf *C.xmlChar
	var size C.int
	if C.xsltSaveResultToString(&buf, &size, res, s.style) != 0 {
		return nil, errors.New("the result cannot be serialised")
	}
	out := &Output{Method: "xml"}
	if buf != nil {
		out.Data = C.GoBytes(unsafe.Pointer(buf), size)
		C.free(unsafe.Pointer(buf))
	}
	if m := C.outMethod(s.style); m != nil {
		out.Method = C.GoString(m)
	} else if res._type == C.XML_HTML_DOCUMENT_NODE {
		out.Method = "html"
	}
	if mt := C.outMediaType(s.style); mt != nil {
		out.MediaType = C.GoString(mt)
	}
	runtime.KeepAlive(s)
	return out, nil
}

func parse(b []byte) C.xmlDocPtr {
	if len(b) == 0 {
		return nil
	}
	cs := C.CBytes(b)
	defer C.free(cs)
	return C.xmlReadMemory((*C.char)(cs), C.int(len(b)), nil, nil, C.parseOpts())
}
