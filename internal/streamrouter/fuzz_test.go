package streamrouter

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
)

// FuzzTransform feeds arbitrary bytes, as Lambda would hand them over, to
// Transform: it must not panic, every event it makes must encode as one
// valid JSON line, and the router's own encoder must write that line byte
// for byte. `go test` runs the seeds; -fuzz explores further.
func FuzzTransform(f *testing.F) {
	seeds := []string{
		`{"eventID":"e1","eventName":"INSERT","dynamodb":{"ApproximateCreationDateTime":1774447207.25,"Keys":{"PK":{"S":"SESSION#s-1"},"SK":{"S":"TURN#1"}},"NewImage":{"PK":{"S":"SESSION#s-1"},"SK":{"S":"TURN#1"},"role":{"S":"user"},"token_count":{"N":"17"}},"SequenceNumber":"100","SizeBytes":50}}`,
		`{"eventID":"e2","eventName":"MODIFY","dynamodb":{"Keys":{"PK":{"S":"SESSION#s-1"},"SK":{"S":"META"}},"NewImage":{"status":{"S":"closed"},"turn_count":{"N":"1e400"}},"OldImage":{"status":{"S":"active"}},"SequenceNumber":"101"}}`,
		`{"eventID":"e3","eventName":"REMOVE","dynamodb":{"Keys":{"PK":{"S":"SESSION#s-1"},"SK":{"S":"SUMMARY#\u0000<>&"}},"OldImage":{"summary":{"S":"x"}},"SequenceNumber":"102"}}`,
		`{"eventID":"e4","eventName":"INSERT","dynamodb":{"Keys":{"PK":{"N":"1"},"SK":{"S":"META"}},"SequenceNumber":"103"}}`,
		`{"eventID":"e5","eventName":"INSERT","dynamodb":{"Keys":{"PK":{"S":"SESSION#\udc00"},"SK":{"S":"HANDOFF#x"}},"NewImage":{"agent_id":{"L":[{"S":"a"}]},"reason":{"NULL":true}},"SequenceNumber":"104"}}`,
		`{"eventName":"INSERT","dynamodb":{"ApproximateCreationDateTime":-1e300,"Keys":{"PK":{"S":"SESSION#s"},"SK":{"S":"META"}},"SequenceNumber":"1"},"eventID":"x"}`,
		`{}`,
		`null`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var rec events.DynamoDBEventRecord
		if json.Unmarshal(data, &rec) != nil {
			return
		}
		ev, _, err := Transform(&rec, received)
		if err != nil {
			var skipErr *SkipError
			if !errors.As(err, &skipErr) {
				t.Fatalf("Transform error is %T, want *SkipError: %v", err, err)
			}
			return
		}
		line, err := analytics.MarshalLine(&ev)
		if err != nil {
			t.Fatalf("event does not encode: %v (%+v)", err, ev)
		}
		r := fromLambdaRecord(&rec)
		var fast event
		if _, err := transform(&r, received, &fast); err != nil {
			t.Fatalf("transform skips what Transform does not: %v", err)
		}
		if got := appendEvent(nil, &fast); !bytes.Equal(got, line) {
			t.Fatalf("appendEvent wrote\n%q\nMarshalLine wrote\n%q", got, line)
		}
		if !bytes.HasSuffix(line, []byte("\n")) || bytes.Count(line, []byte("\n")) != 1 {
			t.Fatalf("not one line ending in a newline: %q", line)
		}
		if !json.Valid(line) {
			t.Fatalf("not valid JSON: %q", line)
		}
		var back map[string]any
		if err := json.Unmarshal(line, &back); err != nil || back["session_id"] == "" || back["sequence_number"] == "" {
			t.Fatalf("event lost its keys: %q (%v)", line, err)
		}
	})
}
