package policies

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// FuzzCalloutPoliciesCompile feeds policy XML to the compilers of this package's policy
// types: whatever the input, compiling reports errors and never panics,
// and a nil policy always comes with an error.
func FuzzCalloutPoliciesCompile(f *testing.F) {
	for _, s := range []string{
		`<FlowCallout name="FC"><SharedFlowBundle>sf</SharedFlowBundle><Parameters><Parameter name="a" ref="b">c</Parameter></Parameters></FlowCallout>`,
		`<MessageLogging name="ML"><Syslog><Message>{a} b</Message><Host>h</Host><Port>514</Port><Protocol>TCP</Protocol><FormatMessage>true</FormatMessage><DateFormat>yyyy</DateFormat><SSLInfo><Enabled>true</Enabled></SSLInfo></Syslog><logLevel>INFO</logLevel></MessageLogging>`,
		`<MessageLogging name="ML"><File><Message>m</Message><FileName>f.log</FileName><FileRotationOptions rotateFileOnStartup="true"><FileRotationType>TIME</FileRotationType><RotationFrequency unit="hour">1</RotationFrequency><MaxFilesToRetain>2</MaxFilesToRetain></FileRotationOptions></File></MessageLogging>`,
		`<StatisticsCollector name="SC"><Statistics><Statistic name="a" ref="b" type="integer">1</Statistic><Statistic name="c" ref="d" type="boolean"/></Statistics></StatisticsCollector>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, errs := engine.TestPolicy(src, nil, nil)
		if p == nil && len(errs) == 0 {
			t.Fatalf("no policy and no error for %q", src)
		}
	})
}
