package streamrouter

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

// This file reads the event Lambda hands the router, a DynamoDB stream batch
// in JSON, without reflection and without building what the router never
// reads. aws-lambda-go's events.DynamoDBEvent decodes every attribute of
// every image through a map[string]interface{} and a second json.Unmarshal
// per attribute value; in a 10,000-record batch that was most of the
// router's CPU (docs/BENCHMARKS.md). decodeBatch keeps the fields Transform
// reads, as substrings of one copy of the payload, and only checks the
// syntax of the rest.
//
// Where aws-lambda-go decodes a batch, decodeBatch yields the same fields
// (FuzzDecodeMatchesLambdaEvents checks it): struct keys match
// case-insensitively as in encoding/json, strings are unescaped and invalid
// UTF-8 becomes U+FFFD as in encoding/json, the creation time is converted
// as events.SecondsEpochTime does. Where they differ, decodeBatch is the more
// lenient: an attribute of an unknown type or shape, which makes
// aws-lambda-go fail the whole batch, is skipped if the router does not read
// it and is "unusable" (sent as null, counted) if it does.

// attrKind is the DynamoDB type of an attribute value, as far as the router
// cares.
type attrKind uint8

const (
	attrAbsent attrKind = iota // not in the item
	attrNull                   // {"NULL": true}
	attrString                 // {"S": "..."}
	attrNumber                 // {"N": "..."}
	attrOther                  // any other type, or not an attribute value
)

// attr is one attribute value: its kind and, for S and N, its text.
type attr struct {
	kind attrKind
	text string
}

// The image attributes Transform reads, as indexes of an image.
const (
	attrRole = iota
	attrTokenCount
	attrResponseID
	attrStatus
	attrCustomerID
	attrTurnCount
	attrAgentID
	attrReason
	numImageAttrs
)

// imageAttrNames are the attribute names, by index.
var imageAttrNames = [numImageAttrs]string{
	attrRole: "role", attrTokenCount: "token_count", attrResponseID: "response_id", attrStatus: "status",
	attrCustomerID: "customer_id", attrTurnCount: "turn_count", attrAgentID: "agent_id", attrReason: "reason",
}

func imageAttrIndex(name string) int {
	switch name {
	case "role":
		return attrRole
	case "token_count":
		return attrTokenCount
	case "response_id":
		return attrResponseID
	case "status":
		return attrStatus
	case "customer_id":
		return attrCustomerID
	case "turn_count":
		return attrTurnCount
	case "agent_id":
		return attrAgentID
	case "reason":
		return attrReason
	}
	return -1
}

// image holds the attributes of one item image that Transform reads.
type image [numImageAttrs]attr

// streamRecord is what the router reads of one DynamoDB stream record.
type streamRecord struct {
	eventID, eventName, sequenceNumber string
	awsRegion                          string    // the region whose stream it is
	created                            time.Time // zero when absent
	sizeBytes                          int64
	pk, sk                             attr
	newImage, oldImage                 image
	change                             changeKey // the same in every region (changekey.go)
}

// fromLambdaRecord converts aws-lambda-go's record.
func fromLambdaRecord(rec *events.DynamoDBEventRecord) streamRecord {
	r := streamRecord{
		eventID: rec.EventID, eventName: rec.EventName, sequenceNumber: rec.Change.SequenceNumber,
		awsRegion: rec.AWSRegion, created: rec.Change.ApproximateCreationDateTime.Time, sizeBytes: rec.Change.SizeBytes,
		change: changeKeyOf(rec),
	}
	r.pk = fromLambdaAttr(rec.Change.Keys, sessions.PartitionKey)
	r.sk = fromLambdaAttr(rec.Change.Keys, sessions.SortKey)
	for i, name := range imageAttrNames {
		r.newImage[i] = fromLambdaAttr(rec.Change.NewImage, name)
		r.oldImage[i] = fromLambdaAttr(rec.Change.OldImage, name)
	}
	return r
}

func fromLambdaAttr(m map[string]events.DynamoDBAttributeValue, name string) attr {
	av, ok := m[name]
	if !ok {
		return attr{}
	}
	// Check the type first: the accessors of aws-lambda-go panic on others.
	switch av.DataType() {
	case events.DataTypeNull:
		return attr{kind: attrNull}
	case events.DataTypeString:
		return attr{kind: attrString, text: av.String()}
	case events.DataTypeNumber:
		return attr{kind: attrNumber, text: av.Number()}
	}
	return attr{kind: attrOther}
}

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

// decoder reads JSON from s, a copy of the payload: every string it returns
// without escapes is a substring of s, so decoding allocates once for the
// payload and once for the records, not per field.
type decoder struct {
	s     string
	i     int
	depth int
	canon canonScratch // for change keys, reused from record to record
}

// payloadSpan is where a value lies in the payload, s[lo:hi]; empty when absent.
type payloadSpan struct{ lo, hi int }

// rawMaps are the spans of a record's Keys and images, hashed into its
// change key once the whole record has been read.
type rawMaps struct{ keys, oldImage, newImage payloadSpan }

// decodeBatch decodes a DynamoDB stream event. An error means the payload is
// not JSON, or a field the router reads has the wrong JSON type; Lambda then
// retries the batch as it does when aws-lambda-go cannot decode it.
func decodeBatch(payload []byte) ([]streamRecord, error) {
	d := &decoder{s: string(payload)}
	var recs []streamRecord
	err := d.value(func() error {
		if d.null() {
			return nil
		}
		return d.object(func(key string) error {
			if !fieldIs(key, "Records") {
				return d.skip()
			}
			if d.null() {
				recs = nil
				return nil
			}
			if recs == nil {
				recs = make([]streamRecord, 0, len(d.s)/400+1) // a record is ~400 bytes and up
			}
			// A repeated key decodes into the records already there, as
			// encoding/json does; Lambda never repeats it.
			n := 0
			err := d.array(func() error {
				if n < cap(recs) {
					recs = recs[:n+1]
				} else {
					recs = append(recs[:n], streamRecord{})
				}
				n++
				return d.record(&recs[n-1])
			})
			recs = recs[:n]
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	d.space()
	if d.i != len(d.s) {
		return nil, d.errorf("data after the event")
	}
	return recs, nil
}

// fieldIs matches an object key to a struct field's name as encoding/json
// does: exactly, or else ignoring case.
func fieldIs(key, name string) bool { return key == name || strings.EqualFold(key, name) }

func (d *decoder) record(r *streamRecord) error {
	if d.null() {
		return nil
	}
	var raw rawMaps
	err := d.object(func(key string) error {
		switch {
		case fieldIs(key, "eventID"):
			return d.stringField(&r.eventID)
		case fieldIs(key, "eventName"):
			return d.stringField(&r.eventName)
		case fieldIs(key, "awsRegion"):
			return d.stringField(&r.awsRegion)
		case fieldIs(key, "dynamodb"):
			return d.change(r, &raw)
		}
		return d.skip()
	})
	if err != nil {
		return err
	}
	r.change, err = d.changeKey(r.eventName, raw)
	return err
}

// changeKey reads the record's Keys and images again, in canonical form,
// and hashes them.
func (d *decoder) changeKey(eventName string, raw rawMaps) (changeKey, error) {
	resume := d.i
	defer func() { d.i = resume }()
	c := &d.canon
	c.begin(eventName)
	for _, sp := range [...]payloadSpan{raw.keys, raw.oldImage, raw.newImage} {
		if sp.lo == sp.hi || d.s[sp.lo:sp.hi] == "null" {
			c.out = append(c.out, 'x')
			continue
		}
		d.i = sp.lo
		if err := c.canonJSON(d, false); err != nil {
			return changeKey{}, err
		}
	}
	return c.sum(), nil
}

// spanOf runs read on the value at d and notes where it lay.
func (d *decoder) spanOf(dst *payloadSpan, read func() error) error {
	d.space()
	lo := d.i
	err := read()
	*dst = payloadSpan{lo, d.i}
	return err
}

func (d *decoder) change(r *streamRecord, raw *rawMaps) error {
	if d.null() {
		return nil
	}
	return d.object(func(key string) error {
		switch {
		case fieldIs(key, "ApproximateCreationDateTime"):
			return d.creationTime(&r.created)
		case fieldIs(key, "Keys"):
			return d.spanOf(&raw.keys, func() error { return d.keys(r) })
		case fieldIs(key, "NewImage"):
			return d.spanOf(&raw.newImage, func() error { return d.image(&r.newImage) })
		case fieldIs(key, "OldImage"):
			return d.spanOf(&raw.oldImage, func() error { return d.image(&r.oldImage) })
		case fieldIs(key, "SequenceNumber"):
			return d.stringField(&r.sequenceNumber)
		case fieldIs(key, "SizeBytes"):
			return d.intField(&r.sizeBytes)
		}
		return d.skip()
	})
}

// keys reads PK and SK of Keys. A null map clears them, as it does a Go map.
func (d *decoder) keys(r *streamRecord) error {
	if d.null() {
		r.pk, r.sk = attr{}, attr{}
		return nil
	}
	return d.object(func(key string) (err error) {
		switch key {
		case sessions.PartitionKey:
			r.pk, err = d.attr()
		case sessions.SortKey:
			r.sk, err = d.attr()
		default:
			err = d.skip()
		}
		return err
	})
}

func (d *decoder) image(img *image) error {
	if d.null() {
		*img = image{}
		return nil
	}
	return d.object(func(key string) (err error) {
		i := imageAttrIndex(key)
		if i < 0 {
			return d.skip()
		}
		img[i], err = d.attr()
		return err
	})
}

// attr reads an attribute value such as {"S":"x"}. Anything but exactly one
// type, or an S or N whose value is not a string, is attrOther.
func (d *decoder) attr() (attr, error) {
	if d.peek() != '{' {
		return attr{kind: attrOther}, d.skip()
	}
	var (
		a     attr
		first string
		n     int
		mixed bool // two different types: aws-lambda-go refuses it too
	)
	err := d.object(func(key string) error {
		if n == 0 {
			first = key
		} else if key != first {
			mixed = true
		}
		n++
		switch key {
		case "S", "N":
			if d.peek() != '"' {
				a = attr{kind: attrOther}
				return d.skip()
			}
			text, err := d.str()
			a = attr{kind: attrString, text: text}
			if key == "N" {
				a.kind = attrNumber
			}
			return err
		case "NULL":
			a = attr{kind: attrNull}
		default:
			a = attr{kind: attrOther}
		}
		return d.skip()
	})
	if n == 0 || mixed {
		a = attr{kind: attrOther}
	}
	return a, err
}

// stringField reads a string into *dst; null leaves it as it is.
func (d *decoder) stringField(dst *string) error {
	if d.null() {
		return nil
	}
	if d.peek() != '"' {
		return d.typeError("a string")
	}
	s, err := d.str()
	if err == nil {
		*dst = s
	}
	return err
}

// intField reads an integer into *dst; null leaves it as it is.
func (d *decoder) intField(dst *int64) error {
	if d.null() {
		return nil
	}
	lit, err := d.number()
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		return d.typeError("an integer")
	}
	*dst = n
	return nil
}

// creationTime reads epoch seconds as events.SecondsEpochTime does.
func (d *decoder) creationTime(dst *time.Time) error {
	if d.null() {
		*dst = time.Unix(0, 0) // SecondsEpochTime reads null as 0
		return nil
	}
	lit, err := d.number()
	if err != nil {
		return err
	}
	epoch, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return d.typeError("epoch seconds")
	}
	sec := int64(epoch)
	*dst = time.Unix(sec, int64((epoch-float64(sec))*1e9))
	return nil
}

// --- JSON syntax ---

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("stream event: "+format+" at byte %d", append(args, d.i)...)
}

func (d *decoder) typeError(want string) error { return d.errorf("want %s", want) }

func (d *decoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (d *decoder) peek() byte {
	d.space()
	if d.i < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

// null consumes a null literal if one is next.
func (d *decoder) null() bool {
	if d.peek() == 'n' && strings.HasPrefix(d.s[d.i:], "null") {
		d.i += 4
		return true
	}
	return false
}

// value runs read one level deeper, bounded by maxDepth.
func (d *decoder) value(read func() error) error {
	if d.depth++; d.depth > maxDepth {
		return d.errorf("nested deeper than %d", maxDepth)
	}
	err := read()
	d.depth--
	return err
}

// object reads an object, calling member for each key with the decoder at
// its value, which member must consume.
func (d *decoder) object(member func(key string) error) error {
	if d.peek() != '{' {
		return d.typeError("an object")
	}
	d.i++
	return d.value(func() error {
		if d.peek() == '}' {
			d.i++
			return nil
		}
		for {
			if d.peek() != '"' {
				return d.errorf("want a key")
			}
			key, err := d.str()
			if err != nil {
				return err
			}
			if d.peek() != ':' {
				return d.errorf("want ':'")
			}
			d.i++
			if err := member(key); err != nil {
				return err
			}
			switch d.peek() {
			case ',':
				d.i++
			case '}':
				d.i++
				return nil
			default:
				return d.errorf("want ',' or '}'")
			}
		}
	})
}

// array reads an array, calling element with the decoder at each element.
func (d *decoder) array(element func() error) error {
	if d.peek() != '[' {
		return d.typeError("an array")
	}
	d.i++
	return d.value(func() error {
		if d.peek() == ']' {
			d.i++
			return nil
		}
		for {
			d.space()
			if err := element(); err != nil {
				return err
			}
			switch d.peek() {
			case ',':
				d.i++
			case ']':
				d.i++
				return nil
			default:
				return d.errorf("want ',' or ']'")
			}
		}
	})
}

// skip checks and consumes any value.
func (d *decoder) skip() error {
	switch c := d.peek(); c {
	case '{':
		return d.object(func(string) error { return d.skip() })
	case '[':
		return d.array(d.skip)
	case '"':
		_, err := d.str()
		return err
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	default:
		_, err := d.number()
		return err
	}
}

func (d *decoder) literal(word string) error {
	if !strings.HasPrefix(d.s[d.i:], word) {
		return d.errorf("want %s", word)
	}
	d.i += len(word)
	return nil
}

// number consumes a JSON number and returns its text.
func (d *decoder) number() (string, error) {
	d.space()
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.s) && '0' <= d.s[d.i] && d.s[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.s) && d.s[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.s) && d.s[d.i] == '0':
		d.i++
	case digits() == 0:
		return "", d.errorf("want a value")
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return "", d.errorf("want a digit after '.'")
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return "", d.errorf("want a digit in the exponent")
		}
	}
	return d.s[start:d.i], nil
}

// plain marks the bytes a string may hold as they are: printable ASCII but
// the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str consumes a string and returns its value: a substring of the payload
// when it holds no escapes and only valid UTF-8, else an unescaped copy.
func (d *decoder) str() (string, error) {
	d.i++ // the opening quote
	start := d.i
	for d.i < len(d.s) {
		for d.i < len(d.s) && plain[d.s[d.i]] {
			d.i++
		}
		if d.i == len(d.s) {
			break
		}
		switch c := d.s[d.i]; {
		case c == '"':
			d.i++
			return d.s[start : d.i-1], nil
		case c == '\\' || c < ' ':
			return d.unescape(start)
		default: // not ASCII
			r, size := utf8.DecodeRuneInString(d.s[d.i:])
			if r == utf8.RuneError && size == 1 {
				return d.unescape(start)
			}
			d.i += size
		}
	}
	return "", d.errorf("unterminated string")
}

// unescape continues a string at d.i that needs unescaping or replacement
// of invalid UTF-8, as encoding/json's unquote does.
func (d *decoder) unescape(start int) (string, error) {
	b := make([]byte, 0, d.i-start+16)
	b = append(b, d.s[start:d.i]...)
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			return string(b), nil
		case c < ' ':
			return "", d.errorf("control character in string")
		case c == '\\':
			if d.i+1 >= len(d.s) {
				return "", d.errorf("unterminated string")
			}
			switch e := d.s[d.i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(d.s[d.i+2:])
				if r < 0 {
					return "", d.errorf("invalid \\u escape")
				}
				d.i += 6
				if utf16.IsSurrogate(r) {
					if r2 := hex4Escape(d.s[d.i:]); r2 >= 0 {
						if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
							d.i += 6
							b = utf8.AppendRune(b, dec)
							continue
						}
					}
					r = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				return "", d.errorf("invalid escape \\%c", e)
			}
			d.i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.i++
		default:
			r, size := utf8.DecodeRuneInString(d.s[d.i:])
			b = utf8.AppendRune(b, r) // invalid UTF-8 becomes U+FFFD
			d.i += size
		}
	}
	return "", d.errorf("unterminated string")
}

// hex4 reads 4 hex digits, or returns -1.
func hex4(s string) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range []byte(s[:4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// hex4Escape reads a \uXXXX escape, or returns -1.
func hex4Escape(s string) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	return hex4(s[2:])
}
