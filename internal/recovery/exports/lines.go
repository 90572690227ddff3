package exports

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
)

// Op is what a line of an export does to its item.
type Op int

const (
	// Put writes the item: every line of a full export, and an incremental
	// line with a new image.
	Put Op = iota
	// Delete removes the item: an incremental line without a new image.
	Delete
)

// Change is one decoded line.
type Change struct {
	Op   Op
	Key  items.Key
	Item items.Item // the new image (Put) or the key attributes (Delete)
	// Inserted is true for a put of NEW_AND_OLD_IMAGES incremental line with
	// no old image: the item did not exist at the window's start.
	Inserted bool
	// HadOld is true when the line carried an old image.
	HadOld bool
}

// ParseLine decodes one line of a data file of e.
//
//	full:        {"Item":{…}}
//	incremental: {"Metadata":{…},"Keys":{…},"NewImage":{…},"OldImage":{…}}
//
// NEW_AND_OLD_IMAGES: insert = Keys+NewImage, update = Keys+OldImage+NewImage,
// delete = Keys+OldImage; NEW_IMAGE: delete = Keys only.
func ParseLine(line []byte, incremental bool) (Change, error) {
	if !incremental {
		var l struct {
			Item json.RawMessage `json:"Item"`
		}
		if err := json.Unmarshal(line, &l); err != nil {
			return Change{}, err
		}
		if l.Item == nil {
			return Change{}, errors.New(`no "Item"`)
		}
		item, err := items.Decode(l.Item)
		if err != nil {
			return Change{}, err
		}
		key, err := items.KeyOf(item)
		return Change{Op: Put, Key: key, Item: item}, err
	}
	var l struct {
		Keys, NewImage, OldImage json.RawMessage
	}
	if err := json.Unmarshal(line, &l); err != nil {
		return Change{}, err
	}
	if l.Keys == nil {
		return Change{}, errors.New(`no "Keys"`)
	}
	keys, err := items.Decode(l.Keys)
	if err != nil {
		return Change{}, fmt.Errorf("Keys: %w", err)
	}
	key, err := items.KeyOf(keys)
	if err != nil {
		return Change{}, fmt.Errorf("Keys: %w", err)
	}
	c := Change{Op: Delete, Key: key, Item: keys, HadOld: l.OldImage != nil}
	if l.NewImage != nil {
		img, err := items.Decode(l.NewImage)
		if err != nil {
			return Change{}, fmt.Errorf("NewImage: %w", err)
		}
		if k, err := items.KeyOf(img); err != nil || k != key {
			return Change{}, fmt.Errorf("NewImage key %v does not match Keys %v", k, key)
		}
		c.Op, c.Item, c.Inserted = Put, img, !c.HadOld
	}
	return c, nil
}

// FileError names the data file a problem was found in.
type FileError struct {
	URI string
	Err error
}

func (e *FileError) Error() string { return e.URI + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// ErrChecksum is wrapped by a FileError whose object does not match its manifest.
var ErrChecksum = errors.New("MD5 does not match manifest-files.json")

// VerifyMD5 reads a data file and compares its MD5 with the manifest's,
// without keeping it: the object streams through the hash.
func VerifyMD5(ctx context.Context, client S3, bucket string, f DataFile) (int64, error) {
	uri := "s3://" + bucket + "/" + f.DataFileS3Key
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(f.DataFileS3Key)})
	if err != nil {
		return 0, &FileError{URI: uri, Err: err}
	}
	defer out.Body.Close()
	h := md5.New()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		return n, &FileError{URI: uri, Err: fmt.Errorf("read: %w", err)}
	}
	if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != f.MD5Checksum {
		return n, &FileError{URI: uri, Err: fmt.Errorf("%w: object has %s, manifest says %s", ErrChecksum, got, f.MD5Checksum)}
	}
	return n, nil
}

// maxLine bounds one line: a DynamoDB item is at most 400 KB, and its JSON
// (base64 binaries, type tags) stays well under this.
const maxLine = 4 << 20

// ReadLines streams a gzip data file line by line into fn, never holding
// more than one line: memory stays flat whatever the file's size. It checks
// the line count against the manifest's itemCount and returns the lines read.
func ReadLines(ctx context.Context, client S3, bucket string, f DataFile, fn func(n int64, line []byte) error) (int64, error) {
	uri := "s3://" + bucket + "/" + f.DataFileS3Key
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(f.DataFileS3Key)})
	if err != nil {
		return 0, &FileError{URI: uri, Err: err}
	}
	defer out.Body.Close()
	// The object's bytes go through the MD5 as they are read, so a file is
	// also checked when nothing verified it before (a session's lines).
	h := md5.New()
	body := bufio.NewReaderSize(io.TeeReader(out.Body, h), 64<<10)
	checkMD5 := func(n int64) (int64, error) {
		if _, err := io.Copy(io.Discard, body); err != nil {
			return n, &FileError{URI: uri, Err: fmt.Errorf("read: %w", err)}
		}
		if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != f.MD5Checksum {
			return n, &FileError{URI: uri, Err: fmt.Errorf("%w: object has %s, manifest says %s", ErrChecksum, got, f.MD5Checksum)}
		}
		return n, nil
	}
	var n int64
	if _, err := body.Peek(1); err == io.EOF {
		if f.ItemCount != 0 {
			return 0, &FileError{URI: uri, Err: fmt.Errorf("empty object, manifest-files.json says itemCount %d", f.ItemCount)}
		}
		return checkMD5(0) // empty partitions give empty files
	}
	zr, err := gzip.NewReader(body)
	if err != nil {
		if _, merr := checkMD5(0); merr != nil {
			return 0, merr
		}
		return 0, &FileError{URI: uri, Err: fmt.Errorf("gzip: %w", err)}
	}
	zr.Multistream(true)
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		n++
		if err := fn(n, line); err != nil {
			var fe *FileError
			if errors.As(err, &fe) {
				return n, err
			}
			return n, &FileError{URI: uri, Err: fmt.Errorf("line %d: %w", n, err)}
		}
		if n%1024 == 0 && ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
	if err := sc.Err(); err != nil {
		if _, merr := checkMD5(n); merr != nil {
			return n, merr
		}
		return n, &FileError{URI: uri, Err: fmt.Errorf("after line %d: %w", n, err)}
	}
	if _, err := checkMD5(n); err != nil {
		return n, err
	}
	if n != f.ItemCount {
		return n, &FileError{URI: uri, Err: fmt.Errorf("%d lines, manifest-files.json says itemCount %d", n, f.ItemCount)}
	}
	return n, nil
}
