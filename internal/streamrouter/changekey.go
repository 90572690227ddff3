package streamrouter

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// The change key identifies one change of one item in every region of a
// global table. A replicated write appears in the stream of every replica,
// each time with another eventID, SequenceNumber and creation time, but with
// the same keys, the same event name and the same item images (global tables
// version 2019.11.21 add no attributes of their own). The key is a hash of
// exactly those, in a canonical form, so events delivered twice around a
// switch of the analytics region are recognisable as one change
// (docs/components/global-table-failover.md).
//
// The canonical form encodes a JSON value as a tag byte and its content:
//
//	object  'o' count, then key and value per member, sorted by key
//	array   'a' count, then the elements; under "SS", "NS" and "BS" (sets,
//	        which have no order) sorted by their canonical form
//	string  's' length, bytes (unescaped)
//	number  'n' length, text
//	true 't', false 'f', null 'z'; an absent or null image or key map 'x'
//
// Counts and lengths are uvarints. Both images are hashed in full, every
// attribute and not only those the router reads, so two changes that
// differ only in an attribute analytics ignores still get different keys.
// Two changes with the same keys, event name and both images (an item set
// back and forth to exactly the same contents) share a key: see the doc.

// changeKeySize is the number of bytes of the SHA-256 kept: 128 bits.
const changeKeySize = 16

// changeKey is the key of one change.
type changeKey [changeKeySize]byte

// changeKeyVersion starts what is hashed, so that a later change of the
// canonical form cannot collide with this one.
const changeKeyVersion = "change-key-v1"

// canonScratch holds the buffers the canonical form is built in, reused from
// record to record. Objects and sets are built on stacks: a nested value is
// finished before its parent is sorted.
type canonScratch struct {
	out     []byte   // what is hashed
	members []member // pending object members / set elements, as a stack
	body    []byte   // copies of unsorted content, as a stack
}

// member is one object member (key set) or set element (key empty) whose
// canonical value is out[lo:hi].
type member struct {
	key    string
	lo, hi int
}

// sum hashes what scratch.out holds.
func (c *canonScratch) sum() changeKey {
	h := sha256.Sum256(c.out)
	var k changeKey
	copy(k[:], h[:changeKeySize])
	return k
}

func (c *canonScratch) begin(eventName string) {
	c.out = append(c.out[:0], changeKeyVersion...)
	c.out = appendCanonString(c.out, eventName)
}

func appendCanonString(b []byte, s string) []byte {
	b = append(b, 's')
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reorder replaces out[start:] by a header and the members in sorted order:
// by key for an object, by canonical form for a set.
func (c *canonScratch) reorder(start int, tag byte, base int, object bool) {
	ms := c.members[base:]
	if object {
		slices.SortStableFunc(ms, func(x, y member) int { return strings.Compare(x.key, y.key) })
	} else {
		out := c.out
		slices.SortStableFunc(ms, func(x, y member) int { return bytes.Compare(out[x.lo:x.hi], out[y.lo:y.hi]) })
	}
	bodyBase := len(c.body)
	c.body = append(c.body, c.out[start:]...)
	c.out = append(c.out[:start], tag)
	c.out = binary.AppendUvarint(c.out, uint64(len(ms)))
	for _, m := range ms {
		if object {
			c.out = appendCanonString(c.out, m.key)
		}
		c.out = append(c.out, c.body[bodyBase+m.lo-start:bodyBase+m.hi-start]...)
	}
	c.body = c.body[:bodyBase]
	c.members = c.members[:base]
}

// isSet says whether the array under key is a DynamoDB set.
func isSet(key string) bool { return key == "SS" || key == "NS" || key == "BS" }

// --- from the payload (the router's path: decoder.changeKey) ---

// canonJSON appends the canonical form of the next value of d.
func (c *canonScratch) canonJSON(d *decoder, set bool) error {
	switch ch := d.peek(); ch {
	case '{':
		start, base := len(c.out), len(c.members)
		err := d.object(func(key string) error {
			lo := len(c.out)
			err := c.canonJSON(d, isSet(key))
			c.members = append(c.members, member{key: key, lo: lo, hi: len(c.out)})
			return err
		})
		if err != nil {
			return err
		}
		c.reorder(start, 'o', base, true)
	case '[':
		start, base := len(c.out), len(c.members)
		err := d.array(func() error {
			lo := len(c.out)
			err := c.canonJSON(d, false)
			c.members = append(c.members, member{lo: lo, hi: len(c.out)})
			return err
		})
		if err != nil {
			return err
		}
		if set {
			c.reorder(start, 'a', base, false)
		} else {
			// In order: only the header goes before the elements.
			n := len(c.members) - base
			c.members = c.members[:base]
			bodyBase := len(c.body)
			c.body = append(c.body, c.out[start:]...)
			c.out = append(c.out[:start], 'a')
			c.out = binary.AppendUvarint(c.out, uint64(n))
			c.out = append(c.out, c.body[bodyBase:]...)
			c.body = c.body[:bodyBase]
		}
	case '"':
		s, err := d.str()
		if err != nil {
			return err
		}
		c.out = appendCanonString(c.out, s)
	case 't':
		return c.literal(d, "true", 't')
	case 'f':
		return c.literal(d, "false", 'f')
	case 'n':
		return c.literal(d, "null", 'z')
	default:
		num, err := d.number()
		if err != nil {
			return err
		}
		c.out = append(c.out, 'n')
		c.out = binary.AppendUvarint(c.out, uint64(len(num)))
		c.out = append(c.out, num...)
	}
	return nil
}

func (c *canonScratch) literal(d *decoder, word string, tag byte) error {
	if err := d.literal(word); err != nil {
		return err
	}
	c.out = append(c.out, tag)
	return nil
}

// --- from aws-lambda-go's types (Transform's path) ---

// changeKeyOf is the change key of a record decoded by aws-lambda-go: the
// same as decoder.changeKey of the JSON it was decoded from, as long as
// its binary values were canonical base64 (as DynamoDB writes them).
func changeKeyOf(rec *events.DynamoDBEventRecord) changeKey {
	var c canonScratch
	c.begin(rec.EventName)
	for _, m := range [...]map[string]events.DynamoDBAttributeValue{rec.Change.Keys, rec.Change.OldImage, rec.Change.NewImage} {
		c.canonAttrMap(m)
	}
	return c.sum()
}

func (c *canonScratch) canonAttrMap(m map[string]events.DynamoDBAttributeValue) {
	if m == nil {
		c.out = append(c.out, 'x')
		return
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	c.out = append(c.out, 'o')
	c.out = binary.AppendUvarint(c.out, uint64(len(names)))
	for _, name := range names {
		c.out = appendCanonString(c.out, name)
		c.canonAttr(m[name])
	}
}

// canonAttr appends an attribute value as its JSON, {"<type>": value}, would be.
func (c *canonScratch) canonAttr(av events.DynamoDBAttributeValue) {
	c.out = append(c.out, 'o', 1)
	strs := func(tag string, vs []string) {
		c.out = appendCanonString(c.out, tag)
		sorted := slices.Clone(vs)
		for i, v := range sorted {
			sorted[i] = string(appendCanonString(nil, v))
		}
		slices.Sort(sorted) // the canonical forms, as the JSON path sorts them
		c.out = append(c.out, 'a')
		c.out = binary.AppendUvarint(c.out, uint64(len(sorted)))
		for _, v := range sorted {
			c.out = append(c.out, v...)
		}
	}
	b64 := func(bs [][]byte) []string {
		out := make([]string, len(bs))
		for i, b := range bs {
			out[i] = base64.StdEncoding.EncodeToString(b)
		}
		return out
	}
	switch av.DataType() {
	case events.DataTypeString:
		c.out = appendCanonString(appendCanonString(c.out, "S"), av.String())
	case events.DataTypeNumber:
		c.out = appendCanonString(appendCanonString(c.out, "N"), av.Number())
	case events.DataTypeBinary:
		c.out = appendCanonString(appendCanonString(c.out, "B"), base64.StdEncoding.EncodeToString(av.Binary()))
	case events.DataTypeBoolean:
		tag := byte('f')
		if av.Boolean() {
			tag = 't'
		}
		c.out = append(appendCanonString(c.out, "BOOL"), tag)
	case events.DataTypeNull:
		c.out = append(appendCanonString(c.out, "NULL"), 't')
	case events.DataTypeStringSet:
		strs("SS", av.StringSet())
	case events.DataTypeNumberSet:
		strs("NS", av.NumberSet())
	case events.DataTypeBinarySet:
		strs("BS", b64(av.BinarySet()))
	case events.DataTypeList:
		c.out = appendCanonString(c.out, "L")
		l := av.List()
		c.out = append(c.out, 'a')
		c.out = binary.AppendUvarint(c.out, uint64(len(l)))
		for _, e := range l {
			c.canonAttr(e)
		}
	case events.DataTypeMap:
		c.out = appendCanonString(c.out, "M")
		c.canonAttrMap(av.Map())
	}
}
