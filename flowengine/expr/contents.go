package expr

import "github.com/flowproc/flowproc/flowengine/dom"

// Contents is what a front end's run offers the content functions (body,
// content) through Context.Runtime: FLAT's fit://request/content, the
// main content, and fit://request/content/<id>, the body of the upstream
// request with that ID.
type Contents interface {
	// ContentBody returns the raw body stored under id ("" is the main
	// content) and its media type; ok is false when there is none.
	ContentBody(id string) (body []byte, mediaType string, ok bool)
	// ContentDoc returns the body under id parsed as a document (JSON as
	// OXN, or XML); nil when there is none or it does not parse.
	ContentDoc(id string) (*dom.Node, error)
}

// contents returns the run's Contents, or nil outside a run.
func contents(c *Context) Contents {
	if c == nil {
		return nil
	}
	cs, _ := c.Runtime.(Contents)
	return cs
}

// Locations is what fit-document reads through Context.Runtime: any FLAT
// location (fit://request/content[/<id>], fit://site/…, a project file).
type Locations interface {
	// ReadLocation returns the data at loc and its media type.
	ReadLocation(loc string) (body []byte, mediaType string, err error)
}

// RunLog is what fit-log and get-log use through Context.Runtime.
type RunLog interface {
	// FitLog writes a message of the flow to the server log.
	FitLog(msg string)
	// AccessLog returns the access-log fields of the run so far, standard
	// and custom, as an OXN object.
	AccessLog() *dom.Node
}
