package flat

import (
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"path/filepath"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/cors"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// sides is the run state that only runs with side calls need; it is
// allocated on the first side call, so other runs do not pay for it.
type sides struct {
	// contents are fit://request/content/<id>: the upstream bodies by ID.
	contents map[string]*content
	// forceBackendHTTPS: set-config security/force-backend-https.
	forceBackendHTTPS bool
	// test is the state of the flowproc test run this run belongs to
	// (nil outside tests): assertions, backend flows, set-env.
	test *testState
	// validated is the match of a request whose operation validates a
	// direction (x-flat-validate), kept for the response check.
	validated *apidef.Match
	// corsHeaders go on the response the request ends with (x-flat-cors).
	corsHeaders []cors.Header
	// mainDoc is the parsed main content, for mainDocOf (content()).
	mainDoc   *dom.Node
	mainDocOf []byte
	// proxied: a proxy-request with options made its call (once only).
	proxied bool
	// jwtHeaders are the out-headers of verified tokens, sent with every
	// upstream request.
	jwtHeaders []upstream.Field
	// called: the run made a side call (request, requests, a proxy-request
	// with options), so it is not recycled (run.recyclable).
	called bool
}

// content is one stored body with its media type; doc is its parsed form,
// built on first use by content().
type content struct {
	body []byte
	mime string
	doc  *dom.Node
}

func (r *run) sideState() *sides {
	if r.side == nil {
		r.side = &sides{}
	}
	return r.side
}

// upstreamVar returns the $upstream object, creating it, or
// materialising the tree a forward recorded it in (upstreamTree) so that
// it can change.
func (r *run) upstreamVar() *dom.Node {
	if r.upstream != nil {
		return r.upstream
	}
	if i := r.varIndex("upstream"); i >= 0 {
		r.varAt(i) // a pending tree is built, so that main is kept
	}
	if r.upDoc == nil {
		r.upstream = r.slab.object("upstream")
		r.storeVar("upstream", expr.NodeSet{r.upstream}) // traced by setUpstreamEntry
		return r.upstream
	}
	el := loneRoot(r.upDoc)
	r.upstream = el
	for i := range r.vars {
		if e := &r.vars[i]; e.name == "upstream" && e.doc == r.upDoc {
			// From now on $upstream changes: Var and TreeVar must
			// give the element, not the tree.
			e.val, e.doc = expr.NodeSet{el}, nil
		}
	}
	return el
}

// setUpstreamEntry replaces $upstream/<id> with entry.
func (r *run) setUpstreamEntry(id string, entry *dom.Node) {
	up := r.upstreamVar()
	if oxn.IsXMLName(id) {
		entry.Name = id
	} else {
		entry.Name = "json-element"
		oxn.SetKey(entry, id)
	}
	for c := up.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == dom.ElementNode && oxn.Key(c) == id {
			c.Detach()
			break
		}
	}
	up.AppendChild(entry)
	if r.x.Trace != nil {
		b, _ := renderValue(expr.NodeSet{up})
		r.x.TraceVar("upstream", string(b))
	}
}

// storeContent makes body the content of request id; "main" also becomes
// the main content (the response body).
func (r *run) storeContent(id string, body []byte, mimeType string) {
	s := r.sideState()
	if s.contents == nil {
		s.contents = map[string]*content{}
	}
	s.contents[id] = &content{body: body, mime: mimeType}
	if id == "main" {
		r.setMain(body, mimeType)
	}
}

// ContentBody implements expr.Contents: the raw body of request id, or of
// the main content for "".
func (r *run) ContentBody(id string) ([]byte, string, bool) {
	if id == "" {
		if r.x.Forwarded && !r.x.Resp.BodySet && r.x.Upstream != nil {
			if err := r.ensureResponseBody(); err != nil {
				return nil, "", false
			}
		}
		if !r.x.Resp.BodySet {
			return nil, "", false
		}
		return r.x.Resp.Body, r.x.Resp.ContentType, true
	}
	if r.side != nil {
		if c, ok := r.side.contents[id]; ok {
			return c.body, c.mime, true
		}
	}
	if id == "main" && r.x.Forwarded && r.x.Upstream != nil {
		// proxy-request: fit://request/content/main is the upstream body.
		b, err := r.x.ResponseBody()
		if err != nil {
			return nil, "", false
		}
		return b, r.x.UpstreamHeader("content-type"), true
	}
	return nil, "", false
}

// ContentDoc implements expr.Contents: the parsed document of request id
// (or of the main content for ""), nil when there is none or it does not
// parse. Upstream documents are parsed once per run.
func (r *run) ContentDoc(id string) (*dom.Node, error) {
	if id != "" && r.side != nil {
		if c, ok := r.side.contents[id]; ok {
			if c.doc == nil {
				c.doc = r.parseDoc(c.body, c.mime)
			}
			return c.doc, nil
		}
	}
	b, mt, ok := r.ContentBody(id)
	if !ok || len(b) == 0 {
		return nil, nil
	}
	if id != "" {
		return r.parseDoc(b, mt), nil
	}
	// The main content changes as actions run: its parsed form is kept
	// for as long as the body is the same slice, so content() read many
	// times in one template is parsed once.
	s := r.sideState()
	if s.mainDoc == nil || len(s.mainDocOf) != len(b) || &s.mainDocOf[0] != &b[0] {
		s.mainDoc, s.mainDocOf = r.parseDoc(b, mt), b
	}
	return s.mainDoc, nil
}

// parseDoc parses a body as JSON (OXN) or XML into a document node; nil
// when it is neither.
func (r *run) parseDoc(b []byte, mimeType string) *dom.Node {
	if len(b) == 0 {
		return nil
	}
	if isJSONType(mimeType) || mimeType == "" || strings.HasPrefix(mimeType, "text/plain") {
		if doc, err := r.slab.Parse(b, r.p.opts.maxDepth()); err == nil {
			return doc
		}
	}
	if doc, err := dom.ParseXML(b, r.p.opts.maxDepth()); err == nil {
		return doc
	}
	if doc, err := r.slab.Parse(b, r.p.opts.maxDepth()); err == nil {
		return doc
	}
	return nil
}

var _ expr.Contents = (*run)(nil)

// errNoContent is returned for a location that holds nothing.
var errNoContent = errors.New("no such content")

// readLocation reads what a FLAT location names (FLAT docs: fit:// locations):
// a $variable, fit://request/content[/<id>], fit://request/request/body,
// fit://site/… or fit://project/… (project files), or a file relative to
// the running flow. Files never leave the project directory.
func (r *run) readLocation(loc string) ([]byte, string, error) {
	switch {
	case strings.HasPrefix(loc, "$"):
		if !varName.MatchString(loc) {
			return nil, "", fmt.Errorf("%q is not a variable name", loc)
		}
		if loc == "$body" {
			if err := r.ensureBody(); err != nil {
				return nil, "", err
			}
			b, err := r.x.RequestBody()
			return b, r.header("content-type"), err
		}
		v, ok := r.Var(loc[1:])
		if !ok {
			return nil, "", fmt.Errorf("variable %s: %w", loc, errNoContent)
		}
		b, mt := renderValue(v)
		return b, mt, nil
	case loc == "fit://request/content":
		b, mt, ok := r.ContentBody("")
		if !ok {
			return nil, "", errNoContent
		}
		return b, mt, nil
	case strings.HasPrefix(loc, "fit://request/content/"):
		b, mt, ok := r.ContentBody(strings.TrimPrefix(loc, "fit://request/content/"))
		if !ok {
			return nil, "", errNoContent
		}
		return b, mt, nil
	case loc == "fit://request/request/body":
		b, err := r.x.RequestBody()
		return b, r.header("content-type"), err
	case loc == "fit://request/empty":
		return []byte("<empty/>"), "application/xml", nil
	}
	name, err := r.projectFile(loc)
	if err != nil {
		return nil, "", err
	}
	b, err := r.p.root.ReadFile(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("file %s: %w", loc, errNoContent)
		}
		return nil, "", fmt.Errorf("file %s: not readable", loc)
	}
	return b, mimeByName(name), nil
}

// projectFile resolves fit://site/…, fit://project/… or a path relative
// to the running flow to a name inside the project root.
func (r *run) projectFile(loc string) (string, error) {
	var name string
	switch {
	case strings.HasPrefix(loc, "fit://site/"), strings.HasPrefix(loc, "fit://project/"):
		_, rest, _ := strings.Cut(strings.TrimPrefix(loc, "fit://"), "/")
		name = path.Clean("/" + rest)[1:]
	case strings.HasPrefix(loc, "fit://"), strings.Contains(loc, "://"):
		return "", fmt.Errorf("location %q is not supported", loc)
	default:
		rel, err := filepath.Rel(r.p.dir, filepath.Join(r.dir, filepath.FromSlash(loc)))
		if err != nil {
			return "", fmt.Errorf("file %s: %w", loc, errOutside)
		}
		name = filepath.ToSlash(rel)
	}
	if name == "" || !filepath.IsLocal(filepath.FromSlash(name)) {
		return "", fmt.Errorf("file %s: %w", loc, errOutside)
	}
	return filepath.FromSlash(name), nil
}

// mimeByName is the media type of a file by its extension.
func mimeByName(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return "application/json"
	case ".xml":
		return "application/xml"
	case ".html", ".htm":
		return "text/html"
	case ".txt":
		return "text/plain"
	case "":
		return "application/octet-stream"
	}
	if t := mime.TypeByExtension(filepath.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}
