package msgtemplate

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// localZone is the zone of timeFormat and timeFormatMs (tests set it).
var localZone = time.Local

// timeFormat(format, seconds), timeFormatMs(format, millis) in the local
// time zone; timeFormatUTC(format, seconds), timeFormatUTCMs(format,
// millis) in UTC. format is a java.text.SimpleDateFormat pattern (see
// simpledateformat.go); the time is a count since the Unix epoch, e.g.
// system.timestamp for the Ms variants [doc: message-template reference;
// the reference notes the non-UTC variants use the server's zone]. A null
// time renders "". Apigee's own parser splits {…:…} at the colon, so its
// docs advise keeping "HH:mm" formats in variables; flowproc parses the
// call first and accepts them inline.
func init() {
	for name, spec := range map[string]struct {
		ms  bool
		utc bool
	}{
		"timeFormat": {}, "timeFormatMs": {ms: true}, "timeFormatUTC": {utc: true}, "timeFormatUTCMs": {ms: true, utc: true},
	} {
		register(name, &function{min: 2, max: 2, prepare: func(args []arg) (any, error) {
			if args[0].isVar || args[0].null {
				return nil, nil
			}
			return compileSDF(args[0].lit)
		}, call: func(st any, a []value) (string, error) {
			f, _ := st.(sdf)
			if f == nil {
				var err error
				if f, err = compileSDF(a[0].str()); err != nil {
					return "", err
				}
			}
			if a[1].null {
				return "", nil
			}
			n, err := strconv.ParseInt(strings.TrimSpace(a[1].s), 10, 64)
			if err != nil {
				return "", errors.New("time " + strconv.Quote(a[1].s) + " is not an integer")
			}
			var t time.Time
			if spec.ms {
				t = time.UnixMilli(n)
			} else {
				t = time.Unix(n, 0)
			}
			if spec.utc {
				t = t.UTC()
			} else {
				t = t.In(localZone)
			}
			return f.format(t), nil
		}})
	}
}
