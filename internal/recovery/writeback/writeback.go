// Package writeback puts restored items back into a live table without ever
// overwriting an item that changed after the tool read it. Every write is a
// single conditional PutItem or DeleteItem (BatchWriteItem cannot carry a
// condition):
//
//   - an item that is missing is put with attribute_not_exists(PK): if the
//     application created it meanwhile, the write fails and the item is
//     reported, untouched;
//   - in replace mode, an item that differs is put, and an item that must go
//     is deleted, each with a condition that every attribute the tool read is
//     still there with the value it read. If anything changed since the read,
//     the write fails and the item is reported, untouched.
//
// The condition compares the attributes that were read; a concurrent write
// that only adds an attribute the item did not have is not seen by it.
package writeback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

// Mode is how restored items meet live ones.
type Mode string

const (
	// Missing writes back only items that no longer exist; items that exist
	// but differ are listed as conflicts and left alone.
	Missing Mode = "missing"
	// Replace makes the items exactly as restored: differing items are
	// overwritten and items that were not there at the restore point are
	// deleted, each only if unchanged since it was read.
	Replace Mode = "replace"
)

// ParseMode checks a --mode value.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case Missing, Replace:
		return Mode(s), nil
	}
	return "", fmt.Errorf("--mode %q: must be %s or %s", s, Missing, Replace)
}

// DynamoDB is the part of the client write-back uses.
type DynamoDB interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Conflict is an item write-back left alone, and why.
type Conflict struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
	Live   string `json:"live,omitempty"`
	Wanted string `json:"restored,omitempty"`
}

// Result is what write-back did.
type Result struct {
	Mode      Mode       `json:"mode"`
	Restored  []string   `json:"restored"`             // put back: missing before
	Replaced  []string   `json:"replaced,omitempty"`   // overwritten (replace mode)
	Deleted   []string   `json:"deleted,omitempty"`    // removed (replace mode)
	Unchanged int        `json:"unchanged"`            // already as restored
	Newer     []string   `json:"newer_kept,omitempty"` // live items the restore point does not have (missing mode keeps them)
	Conflicts []Conflict `json:"conflicts,omitempty"`
}

// Options of Apply.
type Options struct {
	// BeforeWrite, if set, runs just before each conditional write; tests
	// use it to change an item between the read and the write.
	BeforeWrite func(key items.Key)
	// DryRun decides and reports but writes nothing.
	DryRun bool
}

// Apply makes table's items agree with want, given live, the items as read
// from the table just before (both for the same set of keys, e.g. one
// session).
func Apply(ctx context.Context, ddb DynamoDB, table string, want, live []items.Item, mode Mode, opts Options) (Result, error) {
	res := Result{Mode: mode, Restored: []string{}}
	wantBy, err := byKey(want)
	if err != nil {
		return res, fmt.Errorf("restored items: %w", err)
	}
	liveBy, err := byKey(live)
	if err != nil {
		return res, fmt.Errorf("live items: %w", err)
	}
	keys := make([]items.Key, 0, len(wantBy)+len(liveBy))
	for k := range wantBy {
		keys = append(keys, k)
	}
	for k := range liveBy {
		if _, ok := wantBy[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b items.Key) int { return strings.Compare(a.String(), b.String()) })

	for _, k := range keys {
		w, hasW := wantBy[k]
		l, hasL := liveBy[k]
		switch {
		case hasW && !hasL:
			ok, err := put(ctx, ddb, table, w, nil, opts, k)
			if err != nil {
				return res, err
			}
			if ok {
				res.Restored = append(res.Restored, k.String())
			} else {
				res.Conflicts = append(res.Conflicts, Conflict{Key: k.String(), Reason: "created in the live table after it was read; left as is", Wanted: items.Describe(w, 300)})
			}
		case hasW && items.Equal(w, l):
			res.Unchanged++
		case hasW && mode == Missing:
			res.Conflicts = append(res.Conflicts, Conflict{Key: k.String(), Reason: "exists and differs from the restore point; --mode missing leaves it",
				Live: items.Describe(l, 300), Wanted: items.Describe(w, 300)})
		case hasW: // replace
			ok, err := put(ctx, ddb, table, w, l, opts, k)
			if err != nil {
				return res, err
			}
			if ok {
				res.Replaced = append(res.Replaced, k.String())
			} else {
				res.Conflicts = append(res.Conflicts, Conflict{Key: k.String(), Reason: "changed in the live table after it was read; left as is",
					Live: items.Describe(l, 300), Wanted: items.Describe(w, 300)})
			}
		case mode == Missing: // live only
			res.Newer = append(res.Newer, k.String())
		default: // live only, replace: it was not there at the restore point
			ok, err := del(ctx, ddb, table, k, l, opts)
			if err != nil {
				return res, err
			}
			if ok {
				res.Deleted = append(res.Deleted, k.String())
			} else {
				res.Conflicts = append(res.Conflicts, Conflict{Key: k.String(), Reason: "changed in the live table after it was read; not deleted",
					Live: items.Describe(l, 300)})
			}
		}
	}
	return res, nil
}

func byKey(list []items.Item) (map[items.Key]items.Item, error) {
	out := make(map[items.Key]items.Item, len(list))
	for _, it := range list {
		k, err := items.KeyOf(it)
		if err != nil {
			return nil, err
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s appears twice", k)
		}
		out[k] = it
	}
	return out, nil
}

// put writes item if the live item is still read (nil: still absent). It
// reports false when the condition failed.
func put(ctx context.Context, ddb DynamoDB, table string, item, read items.Item, opts Options, k items.Key) (bool, error) {
	if opts.BeforeWrite != nil {
		opts.BeforeWrite(k)
	}
	if opts.DryRun {
		return true, nil
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}
	in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues = Unchanged(read)
	_, err := ddb.PutItem(ctx, in)
	return outcome(err, "put", table, k)
}

func del(ctx context.Context, ddb DynamoDB, table string, k items.Key, read items.Item, opts Options) (bool, error) {
	if opts.BeforeWrite != nil {
		opts.BeforeWrite(k)
	}
	if opts.DryRun {
		return true, nil
	}
	in := &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: k.Attrs()}
	in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues = Unchanged(read)
	_, err := ddb.DeleteItem(ctx, in)
	return outcome(err, "delete", table, k)
}

func outcome(err error, op, table string, k items.Key) (bool, error) {
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ccf):
		return false, nil
	default:
		return false, fmt.Errorf("%s %s in %s: %w", op, k, table, err)
	}
}

// Unchanged is the condition that the item in the table is still read:
// absent when read is nil, else holding every attribute of read with the
// value read.
func Unchanged(read items.Item) (*string, map[string]string, map[string]types.AttributeValue) {
	names := map[string]string{"#pk": sessions.PartitionKey}
	if read == nil {
		return aws.String("attribute_not_exists(#pk)"), names, nil
	}
	attrs := make([]string, 0, len(read))
	for n := range read {
		attrs = append(attrs, n)
	}
	slices.Sort(attrs)
	values := map[string]types.AttributeValue{}
	conds := []string{"attribute_exists(#pk)"}
	for i, n := range attrs {
		name, value := "#a"+strconv.Itoa(i), ":v"+strconv.Itoa(i)
		names[name] = n
		if _, isNull := read[n].(*types.AttributeValueMemberNULL); isNull {
			// NULL has no value to compare; its type is what was read.
			values[value] = &types.AttributeValueMemberS{Value: "NULL"}
			conds = append(conds, fmt.Sprintf("attribute_type(%s, %s)", name, value))
			continue
		}
		values[value] = read[n]
		conds = append(conds, fmt.Sprintf("%s = %s", name, value))
	}
	return aws.String(strings.Join(conds, " AND ")), names, values
}
