package store

// Operation returns the operation of an operation-group product that
// allows a request to proxy on pathSuffix with method (what Apigee
// reports as apiproduct.operation.resource); ok is false for a product
// without operation groups or when none matches. Environments are
// checked by Allows, not here.
func (p *APIProduct) Operation(proxy, pathSuffix, method string) (op *Operation, ok bool) {
	for _, oc := range p.Operations {
		if oc.APISource != proxy {
			continue
		}
		for i := range oc.Operations {
			o := &oc.Operations[i]
			if MatchResource(o.Resource, pathSuffix) && (len(o.Methods) == 0 || contains(o.Methods, method, true)) {
				return o, true
			}
		}
	}
	return nil, false
}
