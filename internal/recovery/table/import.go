package table

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/manga-assist/manga-assist-data/internal/recovery/checkpoint"
	"github.com/manga-assist/manga-assist-data/internal/recovery/exports"
	"github.com/manga-assist/manga-assist-data/internal/recovery/progress"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

// Importer is the part of the client ImportTable needs.
type Importer interface {
	DynamoDB
	ImportTable(ctx context.Context, in *dynamodb.ImportTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ImportTableOutput, error)
	DescribeImport(ctx context.Context, in *dynamodb.DescribeImportInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeImportOutput, error)
}

// MaxImportObjects is ImportTable's limit of S3 objects per import
// (DynamoDB Developer Guide, "Import format quotas and validation").
const MaxImportObjects = 50000

// ImportReport is what an import did.
type ImportReport struct {
	Export      string  `json:"export"`
	Target      string  `json:"target"`
	ImportArn   string  `json:"import_arn"`
	Files       int     `json:"files"`
	Imported    int64   `json:"imported"`
	Expected    int64   `json:"expected"`
	Errors      int64   `json:"errors"`
	WaitSeconds float64 `json:"wait_seconds"`
}

// Import loads one full export into a new table with ImportTable, which
// creates the table itself (import into an existing table is not
// supported) and consumes no write capacity. The data files' MD5s are
// checked first; the import's counts against the manifest afterwards.
// ImportTable reads every object under its prefix, which for a full export
// is exactly its data/ folder. A full export's data files are already in
// ImportTable's DYNAMODB_JSON format ({"Item":…} lines, GZIP); incremental
// exports' are not, hence full exports only.
func Import(ctx context.Context, ddb Importer, s3 exports.S3, e *exports.Export, target string, cp *checkpoint.File, prog progress.Options, poll time.Duration) (ImportReport, error) {
	rep := ImportReport{Export: e.String(), Target: target, Expected: e.ItemCount}
	if e.Incremental {
		return rep, fmt.Errorf("--import takes a full export; %s is incremental (its lines are not ImportTable's format)", e)
	}
	files, err := e.Files(ctx, s3)
	if err != nil {
		return rep, err
	}
	rep.Files = len(files)
	if len(files) > MaxImportObjects {
		return rep, fmt.Errorf("%s has %d data files; ImportTable takes at most %d objects: restore without --import", e, len(files), MaxImportObjects)
	}
	if err := verify(ctx, s3, []exportPlan{{export: e, files: files}}, Options{FileWorkers: 4, Checkpoint: cp, Progress: prog}); err != nil {
		return rep, err
	}
	start := time.Now()
	arn := cp.Value("import-arn")
	if arn == "" {
		if t, err := Describe(ctx, ddb, target); err != nil {
			return rep, err
		} else if t != nil {
			return rep, fmt.Errorf("--to %s already exists: ImportTable creates a new table", target)
		}
		def := sessions.CreateTableInput(target)
		out, err := ddb.ImportTable(ctx, &dynamodb.ImportTableInput{
			ClientToken:          aws.String("recover-" + checkpoint.Key([]string{e.URI(), target})),
			InputFormat:          types.InputFormatDynamodbJson,
			InputCompressionType: types.InputCompressionTypeGzip,
			S3BucketSource:       &types.S3BucketSource{S3Bucket: aws.String(e.Bucket), S3KeyPrefix: aws.String(e.Dir + "data/")},
			TableCreationParameters: &types.TableCreationParameters{
				TableName:            def.TableName,
				AttributeDefinitions: def.AttributeDefinitions,
				KeySchema:            def.KeySchema,
				BillingMode:          def.BillingMode,
			},
		})
		if err != nil {
			return rep, fmt.Errorf("import %s into %s: %w", e, target, err)
		}
		arn = aws.ToString(out.ImportTableDescription.ImportArn)
		if err := cp.SetValue("import-arn", arn); err != nil {
			return rep, err
		}
	}
	rep.ImportArn = arn
	meter := progress.Start(prog, "import into "+target, "items", e.ItemCount)
	defer meter.Done()
	for {
		out, err := ddb.DescribeImport(ctx, &dynamodb.DescribeImportInput{ImportArn: aws.String(arn)})
		if err != nil {
			return rep, fmt.Errorf("describe import %s: %w", arn, err)
		}
		d := out.ImportTableDescription
		meter.Add(d.ProcessedItemCount - meter.Count())
		rep.Imported, rep.Errors = d.ImportedItemCount, d.ErrorCount
		switch d.ImportStatus {
		case types.ImportStatusCompleted:
			rep.WaitSeconds = time.Since(start).Seconds()
			if rep.Errors > 0 || rep.Imported != rep.Expected {
				return rep, fmt.Errorf("import %s: %d items imported, %d errors; the manifest says %d items", arn, rep.Imported, rep.Errors, rep.Expected)
			}
			_, err := WaitActive(ctx, ddb, target, poll, nil)
			return rep, err
		case types.ImportStatusFailed, types.ImportStatusCancelled, types.ImportStatusCancelling:
			return rep, fmt.Errorf("import %s %s: %s %s", arn, d.ImportStatus, aws.ToString(d.FailureCode), aws.ToString(d.FailureMessage))
		}
		select {
		case <-ctx.Done():
			return rep, errors.Join(ctx.Err(), fmt.Errorf("import %s still running; rerun to keep waiting", arn))
		case <-time.After(poll):
		}
	}
}
