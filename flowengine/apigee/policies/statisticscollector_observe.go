package policies

import (
	"strconv"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// record is what a test observer gets for the statistic's parsed value v
// (a label string, or a float64 for numeric types).
func (st *statistic) record(policy string, v any) engine.StatisticRecord {
	rec := engine.StatisticRecord{Policy: policy, Name: st.name, Type: st.typ}
	switch x := v.(type) {
	case float64:
		if st.kind == statInt {
			rec.Value = strconv.FormatInt(int64(x), 10)
		} else {
			rec.Value = strconv.FormatFloat(x, 'g', -1, 64)
		}
	case string:
		rec.Value = x
	}
	return rec
}
