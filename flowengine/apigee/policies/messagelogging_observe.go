package policies

import (
	"context"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// observe returns the delivery of a test run: instead of sending sent
// (whose rendered message is sent[start:end]) it hands the message to
// obs. It runs where the send would, so a test sees messages in delivery
// order: those of the request and response flows once the answer is
// out, then the PostClientFlow's.
func (ml *messageLogging) observe(obs engine.Observer, seg engine.Segment, sent []byte, start, end int) func(context.Context) {
	if end < start { // a header longer than the size bound: no message left
		start = end
	}
	rec := engine.MessageLogRecord{
		Policy:  ml.name,
		To:      ml.dest,
		Level:   ml.level,
		Message: string(sent[start:end]),
		Sent:    sent,
		Segment: seg,
	}
	return func(context.Context) { obs.MessageLog(rec) }
}
