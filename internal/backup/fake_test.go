package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

const (
	testTable  = "arn:aws:dynamodb:us-east-1:123456789012:table/sessions"
	testBucket = "manga-assist-backups-unit-123456789012"
	testKey    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
)

// fakeExport is one export the fake DynamoDB knows.
type fakeExport struct {
	in          dynamodb.ExportTableToPointInTimeInput
	arn         string
	status      types.ExportStatus
	requestedAt time.Time
	completedAt time.Time
}

// fakeDynamo is DynamoDB's export API as its reference describes it: client
// tokens valid for 8 hours after the export completes, the same token with
// other parameters an ExportConflictException, times outside the PITR window
// or windows outside 15 min-24 h an InvalidExportTimeException, and
// ListExports listing completed exports (API Reference, ListExports).
type fakeDynamo struct {
	mu               sync.Mutex
	clock            *time.Time
	earliest, latest time.Time
	pitr             types.PointInTimeRecoveryStatus
	missing          bool
	exports          []*fakeExport
	fail             map[string][]error // injected, by operation, in order
	calls            map[string]int
}

func newFake(clock *time.Time) *fakeDynamo {
	return &fakeDynamo{
		clock: clock, earliest: clock.Add(-35 * 24 * time.Hour), latest: clock.Add(-5 * time.Minute),
		pitr: types.PointInTimeRecoveryStatusEnabled, fail: map[string][]error{}, calls: map[string]int{},
	}
}

func apiError(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " (injected)"}
}

func (f *fakeDynamo) injected(op string) error {
	f.calls[op]++
	if errs := f.fail[op]; len(errs) > 0 {
		f.fail[op] = errs[1:]
		return errs[0]
	}
	return nil
}

func (f *fakeDynamo) DescribeContinuousBackups(_ context.Context, in *dynamodb.DescribeContinuousBackupsInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.injected("DescribeContinuousBackups"); err != nil {
		return nil, err
	}
	if f.missing {
		return nil, &types.TableNotFoundException{Message: aws.String("Table not found: " + aws.ToString(in.TableName))}
	}
	return &dynamodb.DescribeContinuousBackupsOutput{ContinuousBackupsDescription: &types.ContinuousBackupsDescription{
		ContinuousBackupsStatus: types.ContinuousBackupsStatusEnabled,
		PointInTimeRecoveryDescription: &types.PointInTimeRecoveryDescription{
			PointInTimeRecoveryStatus:  f.pitr,
			EarliestRestorableDateTime: aws.Time(f.earliest),
			LatestRestorableDateTime:   aws.Time(f.latest),
		},
	}}, nil
}

// sameRequest compares two requests but for their tokens, times by value.
func sameRequest(a, b dynamodb.ExportTableToPointInTimeInput) bool {
	a.ClientToken, b.ClientToken = nil, nil
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func (f *fakeDynamo) ExportTableToPointInTime(_ context.Context, in *dynamodb.ExportTableToPointInTimeInput, _ ...func(*dynamodb.Options)) (*dynamodb.ExportTableToPointInTimeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.injected("ExportTableToPointInTime"); err != nil {
		return nil, err
	}
	switch {
	case f.missing:
		return nil, &types.TableNotFoundException{Message: aws.String("table not found")}
	case f.pitr != types.PointInTimeRecoveryStatusEnabled:
		return nil, &types.PointInTimeRecoveryUnavailableException{Message: aws.String("PITR is not enabled")}
	}
	now := *f.clock
	for _, e := range f.exports {
		if aws.ToString(e.in.ClientToken) != aws.ToString(in.ClientToken) {
			continue
		}
		if e.status != types.ExportStatusInProgress && now.Sub(e.completedAt) > 8*time.Hour {
			continue // expired: a new request
		}
		if !sameRequest(e.in, *in) {
			return nil, &types.ExportConflictException{Message: aws.String("same token, other parameters")}
		}
		return &dynamodb.ExportTableToPointInTimeOutput{ExportDescription: f.describe(e)}, nil
	}
	inWindow := func(t time.Time) bool { return !t.Before(f.earliest) && !t.After(f.latest) }
	if in.ExportType == types.ExportTypeIncrementalExport {
		spec := in.IncrementalExportSpecification
		from, to := aws.ToTime(spec.ExportFromTime), aws.ToTime(spec.ExportToTime)
		if d := to.Sub(from); !inWindow(from) || !inWindow(to) || d < 15*time.Minute || d > 24*time.Hour {
			return nil, &types.InvalidExportTimeException{Message: aws.String(fmt.Sprintf("window %s..%s not allowed", from, to))}
		}
	} else if !inWindow(aws.ToTime(in.ExportTime)) {
		return nil, &types.InvalidExportTimeException{Message: aws.String("export time outside the PITR window")}
	}
	e := &fakeExport{in: *in, status: types.ExportStatusInProgress, requestedAt: now,
		arn: fmt.Sprintf("%s/export/%014d-%08x", aws.ToString(in.TableArn), now.UnixMilli(), len(f.exports)+1)}
	f.exports = append(f.exports, e)
	return &dynamodb.ExportTableToPointInTimeOutput{ExportDescription: f.describe(e)}, nil
}

func (f *fakeDynamo) describe(e *fakeExport) *types.ExportDescription {
	d := &types.ExportDescription{
		ExportArn: aws.String(e.arn), ExportStatus: e.status, ExportType: e.in.ExportType, ExportFormat: e.in.ExportFormat,
		ClientToken: e.in.ClientToken, S3Bucket: e.in.S3Bucket, S3Prefix: e.in.S3Prefix, TableArn: e.in.TableArn,
		ExportTime: e.in.ExportTime, IncrementalExportSpecification: e.in.IncrementalExportSpecification,
	}
	if e.status == types.ExportStatusFailed {
		d.FailureCode, d.FailureMessage = aws.String("UNKNOWN"), aws.String("injected failure")
	}
	return d
}

func (f *fakeDynamo) DescribeExport(_ context.Context, in *dynamodb.DescribeExportInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeExportOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.injected("DescribeExport"); err != nil {
		return nil, err
	}
	for _, e := range f.exports {
		if e.arn == aws.ToString(in.ExportArn) {
			return &dynamodb.DescribeExportOutput{ExportDescription: f.describe(e)}, nil
		}
	}
	return nil, &types.ExportNotFoundException{Message: aws.String("no export " + aws.ToString(in.ExportArn))}
}

func (f *fakeDynamo) ListExports(_ context.Context, in *dynamodb.ListExportsInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListExportsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.injected("ListExports"); err != nil {
		return nil, err
	}
	var listed []types.ExportSummary
	for _, e := range f.exports {
		if e.status == types.ExportStatusCompleted && aws.ToString(e.in.TableArn) == aws.ToString(in.TableArn) {
			listed = append(listed, types.ExportSummary{ExportArn: aws.String(e.arn), ExportStatus: e.status, ExportType: e.in.ExportType})
		}
	}
	start := 0
	if in.NextToken != nil {
		fmt.Sscan(*in.NextToken, &start)
	}
	end := min(start+int(aws.ToInt32(in.MaxResults)), len(listed))
	out := &dynamodb.ListExportsOutput{ExportSummaries: listed[start:end]}
	if end < len(listed) {
		out.NextToken = aws.String(fmt.Sprint(end))
	}
	return out, nil
}

// finish sets an export's final status.
func (f *fakeDynamo) finish(arn string, status types.ExportStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.exports {
		if e.arn == arn {
			e.status, e.completedAt = status, *f.clock
			return
		}
	}
	panic("no export " + arn)
}

// seed adds an export as if an earlier run had started it.
func (f *fakeDynamo) seed(e Export, status types.ExportStatus, completedAt time.Time) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := request(e)
	x := &fakeExport{in: in, status: status, completedAt: completedAt, requestedAt: e.RequestedAt,
		arn: fmt.Sprintf("%s/export/%014d-seed%04d", testTable, e.RequestedAt.UnixMilli(), len(f.exports)+1)}
	f.exports = append(f.exports, x)
	return x.arn
}

// started lists the export requests the fake accepted, in order.
func (f *fakeDynamo) started() []*fakeExport {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*fakeExport(nil), f.exports...)
}

// request is the request the orchestrator under test sends for e.
func request(e Export) dynamodb.ExportTableToPointInTimeInput {
	prefix := "exports/sessions"
	in := dynamodb.ExportTableToPointInTimeInput{
		TableArn: aws.String(testTable), ClientToken: aws.String(ClientToken(testTable, e, testBucket, prefix)),
		S3Bucket: aws.String(testBucket), S3BucketOwner: aws.String("123456789012"), S3Prefix: aws.String(prefix),
		S3SseAlgorithm: types.S3SseAlgorithmKms, S3SseKmsKeyId: aws.String(testKey), ExportFormat: types.ExportFormatDynamodbJson,
	}
	if e.Kind == Incremental {
		in.ExportType = types.ExportTypeIncrementalExport
		in.IncrementalExportSpecification = &types.IncrementalExportSpecification{
			ExportFromTime: aws.Time(e.From), ExportToTime: aws.Time(e.To), ExportViewType: types.ExportViewTypeNewAndOldImages}
	} else {
		in.ExportType = types.ExportTypeFullExport
		in.ExportTime = aws.Time(e.ExportTime)
	}
	return in
}

// memStore keeps the state in memory; failSave injects errors into saves.
type memStore struct {
	mu       sync.Mutex
	state    State
	saves    int
	failSave map[int]error // by 1-based save number
	failLoad error
}

func (m *memStore) Load(context.Context) (State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failLoad != nil {
		return State{}, m.failLoad
	}
	raw, err := m.state.Encode()
	if err != nil {
		return State{}, err
	}
	return DecodeState(raw) // through JSON, as from SSM
}

func (m *memStore) Save(_ context.Context, s State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saves++
	if err := m.failSave[m.saves]; err != nil {
		return err
	}
	if _, err := s.Encode(); err != nil {
		return err
	}
	m.state = s.Clone()
	return nil
}

func (m *memStore) get() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state.Clone()
}
