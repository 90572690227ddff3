package table

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/manga-assist/manga-assist-data/internal/recovery/exports"
	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
)

// sampler keeps a uniform sample of the items the restore put (reservoir
// sampling over put lines) and follows each sampled key through the rest of
// the chain, so that what it expects is the key's final state: a later put
// replaces the expected item, a later delete expects it gone. It holds at
// most n items, whatever the export's size.
type sampler struct {
	n    int
	mu   sync.Mutex
	seen int64
	rnd  *rand.Rand
	keys []items.Key
	want map[items.Key]items.Item // nil value: the item must be absent
}

func newSampler(n int) *sampler {
	if n < 0 {
		n = 0
	}
	return &sampler{n: n, rnd: rand.New(rand.NewPCG(rand.Uint64(), 1)), want: map[items.Key]items.Item{}}
}

func (s *sampler) see(c exports.Change) {
	if s.n == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, tracked := s.want[c.Key]; tracked {
		if c.Op == exports.Put {
			s.want[c.Key] = c.Item
		} else {
			s.want[c.Key] = nil
		}
		return
	}
	if c.Op != exports.Put {
		return
	}
	s.seen++
	switch {
	case len(s.keys) < s.n:
		s.keys = append(s.keys, c.Key)
		s.want[c.Key] = c.Item
	default:
		if j := s.rnd.Int64N(s.seen); j < int64(s.n) {
			delete(s.want, s.keys[j])
			s.keys[j] = c.Key
			s.want[c.Key] = c.Item
		}
	}
}

// check reads every sampled key from the table (consistent reads) and
// reports each difference; it returns how many keys it compared.
func (s *sampler) check(ctx context.Context, ddb DynamoDB, table string, mismatch func(string)) (int, error) {
	s.mu.Lock()
	keys := append([]items.Key(nil), s.keys...)
	s.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: k.Attrs(), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return 0, fmt.Errorf("read back %s from %s: %w", k, table, err)
		}
		want := s.want[k]
		got := items.Item(out.Item)
		switch {
		case want == nil && len(got) > 0:
			mismatch(fmt.Sprintf("%s: deleted by the exports, but %s holds %s", k, table, items.Describe(got, 200)))
		case want != nil && len(got) == 0:
			mismatch(fmt.Sprintf("%s: missing from %s", k, table))
		case want != nil && !items.Equal(want, got):
			mismatch(fmt.Sprintf("%s: %s holds %s; the exports say %s", k, table, items.Describe(got, 200), items.Describe(want, 200)))
		}
	}
	return len(keys), nil
}
