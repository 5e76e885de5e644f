package msgtemplate

// firstnonnull(a, b, …): the first argument that is not null (an unknown or
// null variable); literals are never null. All null renders "". Its
// arguments never count as unresolved: handling them is its job.
func init() {
	register("firstnonnull", &function{min: 1, max: -1, nullable: true, call: func(_ any, a []value) (string, error) {
		for _, v := range a {
			if !v.null {
				return v.s, nil
			}
		}
		return "", nil
	}})
}
