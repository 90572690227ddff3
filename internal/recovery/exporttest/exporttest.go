// Package exporttest writes DynamoDB table exports in the layout AWS writes
// them (DynamoDB Developer Guide, "DynamoDB table export output format"), for
// tests of the readers: moto's own export writes one gz file without
// manifests and ignores incremental exports, so it cannot be the fixture.
//
//	<prefix>/AWSDynamoDB/<id>/_started
//	<prefix>/AWSDynamoDB/<id>/manifest-summary.json (+ .md5)
//	<prefix>/AWSDynamoDB/<id>/manifest-files.json   (+ .md5)
//	<prefix>/AWSDynamoDB/<id>/data/<name>.json.gz   full exports
//	<prefix>/AWSDynamoDB/data/<name>.json.gz        incremental exports
package exporttest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/manga-assist/manga-assist-data/internal/recovery/exports"
	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

// Putter is the part of the S3 client the writer needs.
type Putter interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Writer writes exports of one table under s3://Bucket/Prefix.
type Writer struct {
	S3       Putter
	Bucket   string
	Prefix   string // "" for none
	TableArn string
}

// Written is what one export put in S3.
type Written struct {
	ID        string
	URI       string   // s3://bucket/prefix/AWSDynamoDB/<id>
	DataKeys  []string // the data files' keys, in manifest order
	ItemCount int64
}

// Line is one line of an incremental export. Keys are derived from
// NewImage or OldImage when nil.
type Line struct {
	Keys, NewImage, OldImage items.Item
}

// Insert, Update and Delete build incremental lines as NEW_AND_OLD_IMAGES
// writes them; NewImageOnly turns a line into what NEW_IMAGE writes.
func Insert(item items.Item) Line      { return Line{NewImage: item} }
func Update(old, item items.Item) Line { return Line{OldImage: old, NewImage: item} }
func Delete(old items.Item) Line       { return Line{OldImage: old} }
func NewImageOnly(l Line) Line         { l.Keys = keysOf(l); l.OldImage = nil; return l }
func keysOf(l Line) items.Item         { return keysOfItem(firstNonNil(l.Keys, l.NewImage, l.OldImage)) }
func firstNonNil(ms ...items.Item) items.Item {
	for _, m := range ms {
		if m != nil {
			return m
		}
	}
	return nil
}

func keysOfItem(it items.Item) items.Item {
	return items.Item{sessions.PartitionKey: it[sessions.PartitionKey], sessions.SortKey: it[sessions.SortKey]}
}

func (w *Writer) root() string {
	if w.Prefix == "" {
		return "AWSDynamoDB/"
	}
	return w.Prefix + "/AWSDynamoDB/"
}

// Full writes a full export as of at, its items spread over files data
// files (files beyond the item count are empty, as empty partitions are).
func (w *Writer) Full(ctx context.Context, id string, at time.Time, all []items.Item, files int) (Written, error) {
	lines := make([][]byte, len(all))
	for i, it := range all {
		b, err := items.Encode(it)
		if err != nil {
			return Written{}, err
		}
		lines[i] = append(append([]byte(`{"Item":`), b...), '}')
	}
	dir := w.root() + id + "/"
	summary := exports.Summary{
		ExportType: exports.FullExport,
		ExportTime: at.UTC().Format("2006-01-02T15:04:05.000Z"),
		StartTime:  at.Add(time.Minute).UTC().Format(time.RFC3339),
		EndTime:    at.Add(6 * time.Minute).UTC().Format(time.RFC3339),
	}
	return w.write(ctx, id, dir, dir+"data/", summary, lines, files)
}

// Incremental writes an incremental export of [from, to) in view
// (exports.ViewNewImage or exports.ViewNewAndOldImages).
func (w *Writer) Incremental(ctx context.Context, id string, from, to time.Time, view string, ls []Line, files int) (Written, error) {
	lines := make([][]byte, len(ls))
	for i, l := range ls {
		if view == exports.ViewNewImage {
			l = NewImageOnly(l)
		}
		var buf bytes.Buffer
		micros := to.Add(-time.Second).UnixMicro()
		fmt.Fprintf(&buf, `{"Metadata":{"WriteTimestampMicros":{"N":"%d"}},"Keys":`, micros)
		for _, part := range []struct {
			name string
			item items.Item
		}{{"", keysOf(l)}, {"NewImage", l.NewImage}, {"OldImage", l.OldImage}} {
			if part.item == nil {
				continue
			}
			if part.name != "" {
				fmt.Fprintf(&buf, `,%q:`, part.name)
			}
			b, err := items.Encode(part.item)
			if err != nil {
				return Written{}, err
			}
			buf.Write(b)
		}
		buf.WriteByte('}')
		lines[i] = buf.Bytes()
	}
	summary := exports.Summary{
		ExportType:     exports.IncrementalExport,
		ExportFromTime: from.UTC().Format("2006-01-02T15:04:05.000Z"),
		ExportToTime:   to.UTC().Format("2006-01-02T15:04:05.000Z"),
		OutputView:     view,
		StartTime:      to.Add(time.Minute).UTC().Format(time.RFC3339),
		EndTime:        to.Add(4 * time.Minute).UTC().Format(time.RFC3339),
	}
	dir := w.root() + id + "/"
	return w.write(ctx, id, dir, w.root()+"data/", summary, lines, files)
}

func (w *Writer) write(ctx context.Context, id, dir, dataDir string, summary exports.Summary, lines [][]byte, files int) (Written, error) {
	if files < 1 {
		files = 1
	}
	out := Written{ID: id, URI: "s3://" + w.Bucket + "/" + dir[:len(dir)-1], ItemCount: int64(len(lines))}
	if err := w.put(ctx, dir+"_started", nil); err != nil {
		return out, err
	}
	var manifest bytes.Buffer
	for f := range files {
		var raw bytes.Buffer
		n := int64(0)
		for i := f; i < len(lines); i += files {
			raw.Write(lines[i])
			raw.WriteByte('\n')
			n++
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(raw.Bytes())
		_ = zw.Close()
		sum := md5.Sum(gz.Bytes())
		name := dataName(id, f)
		key := dataDir + name + ".json.gz"
		if err := w.put(ctx, key, gz.Bytes()); err != nil {
			return out, err
		}
		entry, _ := json.Marshal(exports.DataFile{
			ItemCount:     n,
			MD5Checksum:   base64.StdEncoding.EncodeToString(sum[:]),
			ETag:          hex.EncodeToString(sum[:]),
			DataFileS3Key: key,
		})
		manifest.Write(entry)
		manifest.WriteByte('\n')
		out.DataKeys = append(out.DataKeys, key)
	}
	if err := w.putWithMD5(ctx, dir+"manifest-files", manifest.Bytes()); err != nil {
		return out, err
	}
	summary.Version = "2020-06-30"
	summary.ExportArn = w.TableArn + "/export/" + id
	summary.TableArn = w.TableArn
	summary.TableID = "00000000-0000-4000-8000-000000000000"
	summary.S3Bucket = w.Bucket
	summary.S3Prefix = w.Prefix
	summary.S3SseAlgorithm = "AES256"
	summary.ManifestFilesS3Key = dir + "manifest-files.json"
	summary.ItemCount = int64(len(lines))
	summary.OutputFormat = "DYNAMODB_JSON"
	sb, _ := json.Marshal(summary)
	return out, w.putWithMD5(ctx, dir+"manifest-summary", sb)
}

// dataName is a stable stand-in for the random names AWS gives data files.
func dataName(id string, f int) string {
	sum := sha256.Sum256([]byte(id + "/" + strconv.Itoa(f)))
	return base32ish(sum[:13])
}

func base32ish(b []byte) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	out := make([]byte, 0, len(b)*8/5+1)
	var acc, bits uint
	for _, c := range b {
		acc = acc<<8 | uint(c)
		bits += 8
		for bits >= 5 {
			out = append(out, alphabet[(acc>>(bits-5))&31])
			bits -= 5
		}
	}
	return string(out)
}

func (w *Writer) putWithMD5(ctx context.Context, base string, body []byte) error {
	if err := w.put(ctx, base+".json", body); err != nil {
		return err
	}
	sum := md5.Sum(body)
	return w.put(ctx, base+".md5", []byte(hex.EncodeToString(sum[:])))
}

func (w *Writer) put(ctx context.Context, key string, body []byte) error {
	_, err := w.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(w.Bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		return fmt.Errorf("exporttest: put s3://%s/%s: %w", w.Bucket, key, err)
	}
	return nil
}

// Corrupt overwrites a data file with different bytes of the same length,
// so only the MD5 can tell.
func (w *Writer) Corrupt(ctx context.Context, key string, body []byte) error {
	bad := bytes.Clone(body)
	bad[len(bad)/2] ^= 0xff
	return w.put(ctx, key, bad)
}

// Session returns the items of one session: a META item, n TURN items and a
// SUMMARY item, the turns carrying every attribute type DynamoDB has.
func Session(id string, n int) []items.Item {
	pk := &types.AttributeValueMemberS{Value: sessions.PK(id)}
	out := []items.Item{{
		sessions.PartitionKey: pk,
		sessions.SortKey:      &types.AttributeValueMemberS{Value: sessions.MetaSortKey},
		"status":              &types.AttributeValueMemberS{Value: "active"},
		"customer_id":         &types.AttributeValueMemberS{Value: "cust-" + id},
		"turn_count":          &types.AttributeValueMemberN{Value: strconv.Itoa(n)},
	}}
	for i := range n {
		out = append(out, AllTypes(id, fmt.Sprintf("%s%04d", sessions.TurnPrefix, i)))
	}
	out = append(out, items.Item{
		sessions.PartitionKey: pk,
		sessions.SortKey:      &types.AttributeValueMemberS{Value: sessions.SummaryPrefix + "1"},
		"summary":             &types.AttributeValueMemberS{Value: "asked about volume 3 of 月刊少女野崎くん"},
	})
	return out
}

// AllTypes is an item of session id with sort key sk holding every
// attribute type: S, N, B, BOOL, NULL, SS, NS, BS, L and M.
func AllTypes(id, sk string) items.Item {
	return items.Item{
		sessions.PartitionKey: &types.AttributeValueMemberS{Value: sessions.PK(id)},
		sessions.SortKey:      &types.AttributeValueMemberS{Value: sk},
		"role":                &types.AttributeValueMemberS{Value: "user"},
		"token_count":         &types.AttributeValueMemberN{Value: "42"},
		"price":               &types.AttributeValueMemberN{Value: "-12.50"},
		"embedding":           &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 0xfe, 0xff}},
		"escalated":           &types.AttributeValueMemberBOOL{Value: false},
		"agent_id":            &types.AttributeValueMemberNULL{Value: true},
		"tags":                &types.AttributeValueMemberSS{Value: []string{"manga", "shipping"}},
		"volumes":             &types.AttributeValueMemberNS{Value: []string{"1", "3", "7"}},
		"hashes":              &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}},
		"products": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "B0123"},
			&types.AttributeValueMemberN{Value: "2"},
			&types.AttributeValueMemberM{Value: items.Item{"nested": &types.AttributeValueMemberBOOL{Value: true}}},
		}},
		"context": &types.AttributeValueMemberM{Value: items.Item{
			"locale": &types.AttributeValueMemberS{Value: "ja-JP"},
			"cart":   &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}}},
		}},
	}
}

// With returns a copy of item with attribute name set to v.
func With(item items.Item, name string, v types.AttributeValue) items.Item {
	out := make(items.Item, len(item)+1)
	for k, av := range item {
		out[k] = av
	}
	out[name] = v
	return out
}
