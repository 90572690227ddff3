// Package items converts DynamoDB items between the DynamoDB JSON of table
// exports ({"S":"…"}, {"N":"…"}, {"B":"<base64>"}, {"M":{…}} …) and the
// aws-sdk-go-v2 attribute values, and compares items and keys. Every
// recovery command reads and writes items through it.
package items

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

// Item is one DynamoDB item.
type Item = map[string]types.AttributeValue

// Decode turns a DynamoDB JSON object ({"PK":{"S":"…"},…}) into an item.
func Decode(raw json.RawMessage) (Item, error) {
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(raw, &attrs); err != nil {
		return nil, fmt.Errorf("item is not a JSON object: %w", err)
	}
	out := make(Item, len(attrs))
	for name, v := range attrs {
		av, err := decodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		out[name] = av
	}
	return out, nil
}

func decodeValue(raw json.RawMessage) (types.AttributeValue, error) {
	var typed map[string]json.RawMessage
	if err := json.Unmarshal(raw, &typed); err != nil {
		return nil, fmt.Errorf("not a typed value: %w", err)
	}
	if len(typed) != 1 {
		return nil, fmt.Errorf("a typed value has exactly one type key, got %d", len(typed))
	}
	for kind, v := range typed {
		switch kind {
		case "S":
			var s string
			err := json.Unmarshal(v, &s)
			return &types.AttributeValueMemberS{Value: s}, err
		case "N":
			var n string
			err := json.Unmarshal(v, &n)
			return &types.AttributeValueMemberN{Value: n}, err
		case "B":
			var b []byte // base64 in JSON
			err := json.Unmarshal(v, &b)
			return &types.AttributeValueMemberB{Value: b}, err
		case "BOOL":
			var b bool
			err := json.Unmarshal(v, &b)
			return &types.AttributeValueMemberBOOL{Value: b}, err
		case "NULL":
			var b bool
			err := json.Unmarshal(v, &b)
			return &types.AttributeValueMemberNULL{Value: b}, err
		case "SS":
			var ss []string
			err := json.Unmarshal(v, &ss)
			return &types.AttributeValueMemberSS{Value: ss}, err
		case "NS":
			var ns []string
			err := json.Unmarshal(v, &ns)
			return &types.AttributeValueMemberNS{Value: ns}, err
		case "BS":
			var bs [][]byte
			err := json.Unmarshal(v, &bs)
			return &types.AttributeValueMemberBS{Value: bs}, err
		case "L":
			var elems []json.RawMessage
			if err := json.Unmarshal(v, &elems); err != nil {
				return nil, err
			}
			l := make([]types.AttributeValue, len(elems))
			for i, e := range elems {
				av, err := decodeValue(e)
				if err != nil {
					return nil, fmt.Errorf("L[%d]: %w", i, err)
				}
				l[i] = av
			}
			return &types.AttributeValueMemberL{Value: l}, nil
		case "M":
			m, err := Decode(v)
			if err != nil {
				return nil, fmt.Errorf("M: %w", err)
			}
			return &types.AttributeValueMemberM{Value: m}, nil
		default:
			return nil, fmt.Errorf("unknown type %q", kind)
		}
	}
	panic("unreachable")
}

// Encode turns an item into DynamoDB JSON, attributes in name order.
func Encode(item Item) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeMap(&buf, item); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func encodeMap(buf *bytes.Buffer, m Item) error {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	buf.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		buf.Write(k)
		buf.WriteByte(':')
		if err := encodeValue(buf, m[n]); err != nil {
			return fmt.Errorf("attribute %q: %w", n, err)
		}
	}
	buf.WriteByte('}')
	return nil
}

func encodeValue(buf *bytes.Buffer, av types.AttributeValue) error {
	put := func(kind string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		fmt.Fprintf(buf, `{%q:`, kind)
		buf.Write(b)
		buf.WriteByte('}')
		return nil
	}
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return put("S", v.Value)
	case *types.AttributeValueMemberN:
		return put("N", v.Value)
	case *types.AttributeValueMemberB:
		return put("B", v.Value)
	case *types.AttributeValueMemberBOOL:
		return put("BOOL", v.Value)
	case *types.AttributeValueMemberNULL:
		return put("NULL", v.Value)
	case *types.AttributeValueMemberSS:
		return put("SS", v.Value)
	case *types.AttributeValueMemberNS:
		return put("NS", v.Value)
	case *types.AttributeValueMemberBS:
		return put("BS", v.Value)
	case *types.AttributeValueMemberL:
		buf.WriteString(`{"L":[`)
		for i, e := range v.Value {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeValue(buf, e); err != nil {
				return fmt.Errorf("L[%d]: %w", i, err)
			}
		}
		buf.WriteString(`]}`)
		return nil
	case *types.AttributeValueMemberM:
		buf.WriteString(`{"M":`)
		if err := encodeMap(buf, v.Value); err != nil {
			return err
		}
		buf.WriteByte('}')
		return nil
	default:
		return fmt.Errorf("unsupported attribute value %T", av)
	}
}

// Key is the primary key of a sessions-table item, printable and usable as
// a map key.
type Key struct{ PK, SK string }

func (k Key) String() string { return k.PK + " / " + k.SK }

// KeyOf returns the key of an item (or of a key map) of the sessions table.
func KeyOf(item Item) (Key, error) {
	pk, ok1 := item[sessions.PartitionKey].(*types.AttributeValueMemberS)
	sk, ok2 := item[sessions.SortKey].(*types.AttributeValueMemberS)
	if !ok1 || !ok2 {
		return Key{}, fmt.Errorf("item has no string %s and %s", sessions.PartitionKey, sessions.SortKey)
	}
	return Key{PK: pk.Value, SK: sk.Value}, nil
}

// Attrs is the key as DynamoDB takes it in GetItem, DeleteItem and delete requests.
func (k Key) Attrs() Item {
	return Item{
		sessions.PartitionKey: &types.AttributeValueMemberS{Value: k.PK},
		sessions.SortKey:      &types.AttributeValueMemberS{Value: k.SK},
	}
}

// Equal reports whether two items hold the same attributes with the same
// values. Sets compare as sets; numbers compare by their text, as the export
// and the API both carry it.
func Equal(a, b Item) bool {
	if len(a) != len(b) {
		return false
	}
	for n, av := range a {
		bv, ok := b[n]
		if !ok || !equalValue(av, bv) {
			return false
		}
	}
	return true
}

func equalValue(a, b types.AttributeValue) bool {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberN:
		y, ok := b.(*types.AttributeValueMemberN)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberB:
		y, ok := b.(*types.AttributeValueMemberB)
		return ok && bytes.Equal(x.Value, y.Value)
	case *types.AttributeValueMemberBOOL:
		y, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberNULL:
		_, ok := b.(*types.AttributeValueMemberNULL)
		return ok
	case *types.AttributeValueMemberSS:
		y, ok := b.(*types.AttributeValueMemberSS)
		return ok && sameSet(x.Value, y.Value)
	case *types.AttributeValueMemberNS:
		y, ok := b.(*types.AttributeValueMemberNS)
		return ok && sameSet(x.Value, y.Value)
	case *types.AttributeValueMemberBS:
		y, ok := b.(*types.AttributeValueMemberBS)
		if !ok {
			return false
		}
		enc := func(bs [][]byte) []string {
			out := make([]string, len(bs))
			for i, v := range bs {
				out[i] = base64.StdEncoding.EncodeToString(v)
			}
			return out
		}
		return sameSet(enc(x.Value), enc(y.Value))
	case *types.AttributeValueMemberL:
		y, ok := b.(*types.AttributeValueMemberL)
		if !ok || len(x.Value) != len(y.Value) {
			return false
		}
		for i := range x.Value {
			if !equalValue(x.Value[i], y.Value[i]) {
				return false
			}
		}
		return true
	case *types.AttributeValueMemberM:
		y, ok := b.(*types.AttributeValueMemberM)
		return ok && Equal(x.Value, y.Value)
	}
	return false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// Describe prints an item compactly for reports: its DynamoDB JSON, cut at
// max bytes.
func Describe(item Item, max int) string {
	b, err := Encode(item)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	s := string(b)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
