// Package exports reads DynamoDB table exports in the layout AWS writes them
// to S3 (DynamoDB Developer Guide, "DynamoDB table export output format"):
//
//	<prefix>/AWSDynamoDB/<export id>/manifest-summary.json
//	<prefix>/AWSDynamoDB/<export id>/manifest-files.json   one JSON line per data file
//	<prefix>/AWSDynamoDB/<export id>/data/<name>.json.gz    full exports
//	<prefix>/AWSDynamoDB/data/<name>.json.gz                incremental exports, shared folder
//
// An export's data files are always taken from its manifest-files.json,
// never by listing: incremental exports share one data folder. It also picks
// the chain of exports that rebuilds a table as of a time (chain.go) and
// decodes data-file lines into puts and deletes (lines.go).
package exports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3 is the part of the S3 client the readers use.
type S3 interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Export types as manifest-summary.json names them.
const (
	FullExport        = "FULL_EXPORT"
	IncrementalExport = "INCREMENTAL_EXPORT"
)

// Incremental export views (the Go SDK's ExportViewType values).
const (
	ViewNewImage        = "NEW_IMAGE"
	ViewNewAndOldImages = "NEW_AND_OLD_IMAGES"
)

// Summary is manifest-summary.json. Fields AWS may leave out stay empty.
type Summary struct {
	Version            string `json:"version"`
	ExportArn          string `json:"exportArn"`
	StartTime          string `json:"startTime"`
	EndTime            string `json:"endTime"`
	TableArn           string `json:"tableArn"`
	TableID            string `json:"tableId"`
	ExportTime         string `json:"exportTime"`
	S3Bucket           string `json:"s3Bucket"`
	S3Prefix           string `json:"s3Prefix"`
	S3SseAlgorithm     string `json:"s3SseAlgorithm"`
	ManifestFilesS3Key string `json:"manifestFilesS3Key"`
	BilledSizeBytes    int64  `json:"billedSizeBytes"`
	ItemCount          int64  `json:"itemCount"`
	OutputFormat       string `json:"outputFormat"`
	ExportType         string `json:"exportType"`
	ExportFromTime     string `json:"exportFromTime"`
	ExportToTime       string `json:"exportToTime"`
	OutputView         string `json:"outputView"`
}

// DataFile is one line of manifest-files.json.
type DataFile struct {
	ItemCount     int64  `json:"itemCount"`
	MD5Checksum   string `json:"md5Checksum"` // base64 of the MD5 of the object's bytes
	ETag          string `json:"etag"`
	DataFileS3Key string `json:"dataFileS3Key"`
}

// Export is one completed export found under a prefix.
type Export struct {
	Bucket string
	ID     string // the folder name under AWSDynamoDB/
	Dir    string // key prefix of its folder, ending in "/"
	Summary
	Incremental bool
	// Time is a full export's point in time; From and To bound an
	// incremental export (From inclusive, To exclusive).
	Time, From, To time.Time
}

// Location is s3://BUCKET/PREFIX.
type Location struct{ Bucket, Prefix string }

func (l Location) String() string {
	if l.Prefix == "" {
		return "s3://" + l.Bucket
	}
	return "s3://" + l.Bucket + "/" + l.Prefix
}

// ParseLocation parses s3://BUCKET[/PREFIX].
func ParseLocation(s string) (Location, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return Location{}, fmt.Errorf("%q is not s3://BUCKET/PREFIX", s)
	}
	return Location{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}, nil
}

// ParseExportLocation parses s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT-ID, the
// folder of one export, into the location of its prefix and the export id.
func ParseExportLocation(s string) (Location, string, error) {
	loc, err := ParseLocation(s)
	if err != nil {
		return Location{}, "", err
	}
	dir, id := path.Split(loc.Prefix)
	dir = strings.TrimSuffix(dir, "/")
	if id == "" || id == "data" || path.Base(dir) != "AWSDynamoDB" {
		return Location{}, "", fmt.Errorf("%q is not the folder of one export: s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT-ID", s)
	}
	return Location{Bucket: loc.Bucket, Prefix: strings.TrimSuffix(strings.TrimSuffix(dir, "AWSDynamoDB"), "/")}, id, nil
}

// root is the AWSDynamoDB/ folder under a prefix.
func (l Location) root() string {
	if l.Prefix == "" {
		return "AWSDynamoDB/"
	}
	return l.Prefix + "/AWSDynamoDB/"
}

// Listing is what List found.
type Listing struct {
	Exports []*Export
	// Incomplete are export folders without a manifest-summary.json: still
	// running, or failed. They are never used.
	Incomplete []string
}

// List finds every export under loc, oldest first (by export time, or by
// From for incrementals).
func List(ctx context.Context, client S3, loc Location) (Listing, error) {
	var out Listing
	in := &s3.ListObjectsV2Input{Bucket: aws.String(loc.Bucket), Prefix: aws.String(loc.root()), Delimiter: aws.String("/")}
	for p := s3.NewListObjectsV2Paginator(client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return Listing{}, fmt.Errorf("list %s: %w", loc, err)
		}
		for _, cp := range page.CommonPrefixes {
			dir := aws.ToString(cp.Prefix)
			id := path.Base(strings.TrimSuffix(dir, "/"))
			if id == "data" { // the incremental exports' shared data folder
				continue
			}
			e, err := Open(ctx, client, loc, id)
			if errors.Is(err, errNoSummary) {
				out.Incomplete = append(out.Incomplete, dir)
				continue
			}
			if err != nil {
				return Listing{}, err
			}
			out.Exports = append(out.Exports, e)
		}
	}
	slices.SortFunc(out.Exports, func(a, b *Export) int { return a.Start().Compare(b.Start()) })
	return out, nil
}

var errNoSummary = errors.New("no manifest-summary.json")

// Open reads the summary of the export with the given id under loc.
func Open(ctx context.Context, client S3, loc Location, id string) (*Export, error) {
	dir := loc.root() + id + "/"
	body, err := getSmall(ctx, client, loc.Bucket, dir+"manifest-summary.json")
	if isNotFound(err) {
		return nil, fmt.Errorf("export s3://%s/%s: %w (not finished, or not an export)", loc.Bucket, dir, errNoSummary)
	}
	if err != nil {
		return nil, err
	}
	e := &Export{Bucket: loc.Bucket, ID: id, Dir: dir}
	if err := json.Unmarshal(body, &e.Summary); err != nil {
		return nil, fmt.Errorf("s3://%s/%smanifest-summary.json is not JSON: %w", loc.Bucket, dir, err)
	}
	where := fmt.Sprintf("s3://%s/%smanifest-summary.json", loc.Bucket, dir)
	switch e.ExportType {
	case "", FullExport: // exports from before exportType existed are full
		e.ExportType = FullExport
		if e.Time, err = parseTime(e.ExportTime); err != nil {
			return nil, fmt.Errorf("%s: exportTime: %w", where, err)
		}
	case IncrementalExport:
		e.Incremental = true
		if e.From, err = parseTime(e.ExportFromTime); err != nil {
			return nil, fmt.Errorf("%s: exportFromTime: %w", where, err)
		}
		if e.To, err = parseTime(e.ExportToTime); err != nil {
			return nil, fmt.Errorf("%s: exportToTime: %w", where, err)
		}
		if !e.To.After(e.From) {
			return nil, fmt.Errorf("%s: exportToTime %s is not after exportFromTime %s", where, e.ExportToTime, e.ExportFromTime)
		}
		if e.OutputView != ViewNewImage && e.OutputView != ViewNewAndOldImages {
			return nil, fmt.Errorf("%s: outputView %q: want %s or %s", where, e.OutputView, ViewNewImage, ViewNewAndOldImages)
		}
	default:
		return nil, fmt.Errorf("%s: unknown exportType %q", where, e.ExportType)
	}
	if e.OutputFormat != "" && e.OutputFormat != "DYNAMODB_JSON" {
		return nil, fmt.Errorf("%s: outputFormat %q: only DYNAMODB_JSON is read", where, e.OutputFormat)
	}
	return e, nil
}

// Start is the time an export's data starts from: a full export's time, an
// incremental export's From.
func (e *Export) Start() time.Time {
	if e.Incremental {
		return e.From
	}
	return e.Time
}

// End is the time an export's data is as of: a full export's time, an
// incremental export's To.
func (e *Export) End() time.Time {
	if e.Incremental {
		return e.To
	}
	return e.Time
}

// URI is where the export's folder is.
func (e *Export) URI() string { return "s3://" + e.Bucket + "/" + e.Dir }

func (e *Export) String() string {
	if e.Incremental {
		return fmt.Sprintf("incremental export %s (%s to %s, %s)", e.ID, stamp(e.From), stamp(e.To), e.OutputView)
	}
	return fmt.Sprintf("full export %s (%s)", e.ID, stamp(e.Time))
}

// Files reads the export's manifest-files.json.
func (e *Export) Files(ctx context.Context, client S3) ([]DataFile, error) {
	key := e.ManifestFilesS3Key
	if key == "" {
		key = e.Dir + "manifest-files.json"
	}
	key = e.resolve(key)
	body, err := getSmall(ctx, client, e.Bucket, key)
	if err != nil {
		return nil, fmt.Errorf("%s: manifest-files: %w", e, err)
	}
	var files []DataFile
	dec := json.NewDecoder(strings.NewReader(string(body)))
	for n := 1; ; n++ {
		var f DataFile
		if err := dec.Decode(&f); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("s3://%s/%s line %d: %w", e.Bucket, key, n, err)
		}
		if f.DataFileS3Key == "" || f.MD5Checksum == "" {
			return nil, fmt.Errorf("s3://%s/%s line %d: dataFileS3Key and md5Checksum are required", e.Bucket, key, n)
		}
		f.DataFileS3Key = e.resolve(f.DataFileS3Key)
		files = append(files, f)
	}
	return files, nil
}

// resolve makes a key from a manifest absolute: AWS's examples show keys
// both with and without the export's S3 prefix.
func (e *Export) resolve(key string) string {
	prefix := strings.TrimSuffix(strings.TrimSuffix(e.Dir, e.ID+"/"), "AWSDynamoDB/")
	if prefix == "" || strings.HasPrefix(key, prefix) {
		return key
	}
	return prefix + key
}

// maxManifest bounds what getSmall reads: manifests list files, not items.
const maxManifest = 64 << 20

func getSmall(ctx context.Context, client S3, bucket, key string) ([]byte, error) {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	if len(b) > maxManifest {
		return nil, fmt.Errorf("s3://%s/%s is over %d bytes: not a manifest", bucket, key, maxManifest)
	}
	return b, nil
}

func isNotFound(err error) bool {
	var nsk *s3types.NoSuchKey
	var nf *s3types.NotFound
	return errors.As(err, &nsk) || errors.As(err, &nf)
}

// parseTime reads the manifests' times ("2020-11-04T07:28:34.028Z").
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
