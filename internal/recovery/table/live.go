package table

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"golang.org/x/sync/errgroup"

	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
	"github.com/manga-assist/manga-assist-data/internal/recovery/progress"
	"github.com/manga-assist/manga-assist-data/internal/recovery/writeback"
)

// LiveWriter is what CopyMissing needs: reads and conditional writes.
type LiveWriter interface {
	DynamoDB
	writeback.DynamoDB
}

// CopyReport is what CopyMissing did.
type CopyReport struct {
	Read      int64                `json:"read"`
	Restored  int64                `json:"restored"`
	Unchanged int64                `json:"unchanged"`
	Conflicts int64                `json:"conflicts"`
	Examples  []writeback.Conflict `json:"conflict_examples,omitempty"` // the first 20
}

// CopyMissing puts every item of from that live lacks into live, each with
// attribute_not_exists (package writeback, mode missing): an item the
// application wrote meanwhile is never overwritten. It scans from in
// segments parallel segments, one conditional write per item, so memory
// stays flat. Items that exist in live and differ are counted as conflicts.
func CopyMissing(ctx context.Context, ddb LiveWriter, from, live string, segments int, meter *progress.Meter) (CopyReport, error) {
	var rep CopyReport
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	for s := range segments {
		g.Go(func() error {
			in := &dynamodb.ScanInput{TableName: aws.String(from), Segment: aws.Int32(int32(s)), TotalSegments: aws.Int32(int32(segments)), ConsistentRead: aws.Bool(true)}
			for {
				page, err := ddb.Scan(ctx, in)
				if err != nil {
					return fmt.Errorf("scan %s: %w", from, err)
				}
				for _, it := range page.Items {
					k, err := items.KeyOf(it)
					if err != nil {
						return err
					}
					cur, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(live), Key: k.Attrs(), ConsistentRead: aws.Bool(true)})
					if err != nil {
						return fmt.Errorf("read %s from %s: %w", k, live, err)
					}
					var current []items.Item
					if len(cur.Item) > 0 {
						current = []items.Item{cur.Item}
					}
					res, err := writeback.Apply(ctx, ddb, live, []items.Item{it}, current, writeback.Missing, writeback.Options{})
					if err != nil {
						return err
					}
					mu.Lock()
					rep.Read++
					rep.Restored += int64(len(res.Restored))
					rep.Unchanged += int64(res.Unchanged)
					rep.Conflicts += int64(len(res.Conflicts))
					for _, c := range res.Conflicts {
						if len(rep.Examples) < 20 {
							rep.Examples = append(rep.Examples, c)
						}
					}
					mu.Unlock()
					if meter != nil {
						meter.Add(1)
					}
				}
				if page.LastEvaluatedKey == nil {
					return nil
				}
				in.ExclusiveStartKey = page.LastEvaluatedKey
			}
		})
	}
	err := g.Wait()
	return rep, err
}
