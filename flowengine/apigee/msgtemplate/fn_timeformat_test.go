package msgtemplate

import (
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnTimeFormat(t *testing.T) {
	defer func(z *time.Location) { localZone = z }(localZone)
	localZone = time.FixedZone("CET", 3600)
	// 2024-02-29T13:04:05.678Z, a Thursday.
	v := flowvar.Map{"ms": int64(1709211845678), "s": "1709211845", "f": "yyyy-MM-dd'T'HH:mm:ss.SSSX"}
	runFnCases(t, []fnCase{
		{tmpl: "{timeFormatUTCMs(f,ms)}", vars: v, want: "2024-02-29T13:04:05.678Z"},
		{tmpl: "{timeFormatUTCMs('yyyy-MM-dd HH:mm:ss',ms)}", vars: v, want: "2024-02-29 13:04:05"},
		{tmpl: "{timeFormatUTC('EEE, dd MMM yyyy HH:mm:ss z',s)}", vars: v, want: "Thu, 29 Feb 2024 13:04:05 UTC"},
		{tmpl: "{timeFormatUTC('EEEE MMMM d yy D',s)}", vars: v, want: "Thursday February 29 24 60"},
		{tmpl: "{timeFormatUTC('h:mm a k K u G',s)}", vars: v, want: "1:04 PM 13 1 4 AD"},
		{tmpl: `{timeFormatUTC("'at' HH 'o''clock'",s)}`, vars: v, want: "at 13 o'clock"},
		{tmpl: "{timeFormatUTC(q,s)}", vars: flowvar.Map{"q": "'o''clock' H", "s": 0}, want: "o'clock 0"},
		{tmpl: "{timeFormatMs('HH:mm Z XXX',ms)}", vars: v, want: "14:04 +0100 +01:00"},
		{tmpl: "{timeFormat('yyyy-MM-dd HH z',s)}", vars: v, want: "2024-02-29 14 CET"},
		{tmpl: "{timeFormatUTCMs('yyyy',missing)}", vars: v, want: ""},
		{tmpl: "{timeFormatUTCMs('yyyy w',ms)}", vars: v, err: CodeBadArgument},
		{tmpl: "{timeFormatUTCMs('yyyy ''oops',ms)}", vars: v, err: CodeBadArgument},
		{tmpl: "{timeFormatUTCMs('yyyy',f)}", vars: v, err: CodeFunctionFailed},
		{tmpl: "{timeFormatUTCMs(bad,ms)}", vars: flowvar.Map{"bad": "Q", "ms": 1}, err: CodeFunctionFailed},
		{tmpl: "{timeFormatUTCMs('yyyy')}", err: CodeArity},
	})
}
