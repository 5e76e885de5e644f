package flat

import "github.com/flowproc/flowproc/flowengine/xmlsrc"

// <set-env>{"NAME": value, …}</set-env> overrides $env for the rest of the
// test (FLAT docs: set-env): the body is a JSON template object;
// non-strings are cast to strings and null unsets a variable. Test files
// only.

func init() {
	registerAction("set-env", &actionSpec{attrs: []string{"in", "src"}, compile: compileSetEnv, testOnly: true})
}

type setEnvAction struct {
	t  *tmpl
	in input
}

func compileSetEnv(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &setEnvAction{in: c.input(f, e), t: c.template(f, e, true)}
	if a.t == nil {
		return nil
	}
	return a
}

func (a *setEnvAction) Run(r *run, s *step) (ctrl, error) {
	st := r.testState()
	if st == nil {
		return ctrlNext, nil
	}
	ms, err := r.renderObject(a.t, a.in, "set-env", s)
	if err != nil {
		return ctrlNext, err
	}
	base := r.p.env
	if st.env != nil {
		base = st.env
	}
	st.setEnv(base, ms)
	return ctrlNext, nil
}
