package exporttest

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/manga-assist/manga-assist-data/internal/recovery/exports"
	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
)

// Scenario is a chain written in the real layout and the table it must
// give: a full export, a NEW_AND_OLD_IMAGES incremental (inserts, updates,
// deletes) and a NEW_IMAGE incremental (the same), back to back.
type Scenario struct {
	Full, Inc1, Inc2 Written
	Start            time.Time // the full export's time
	Mid, End         time.Time // the ends of the two incrementals
	Want             map[items.Key]items.Item
}

// WriteScenario writes sessions sessions of turns turns each (every
// attribute type in each turn) as of start, spread over files data files
// per export, then the two incremental windows of a day each. Every
// session's first turn is updated in window 1 and again in window 2, its
// summary deleted in window 1, its META deleted in window 2; one new turn
// per session is inserted in each window.
func WriteScenario(ctx context.Context, w *Writer, start time.Time, sessionCount, turns, files int) (Scenario, error) {
	sc := Scenario{Start: start, Mid: start.Add(24 * time.Hour), End: start.Add(48 * time.Hour), Want: map[items.Key]items.Item{}}
	var all []items.Item
	var l1, l2 []Line
	for s := range sessionCount {
		id := fmt.Sprintf("s%06d", s)
		sess := Session(id, turns)
		all = append(all, sess...)
		for _, it := range sess {
			k, _ := items.KeyOf(it)
			sc.Want[k] = it
		}
		meta, first, summary := sess[0], sess[1], sess[len(sess)-1]
		upd1 := With(first, "role", &types.AttributeValueMemberS{Value: "assistant"})
		upd2 := With(upd1, "token_count", &types.AttributeValueMemberN{Value: "99"})
		ins1 := AllTypes(id, "TURN#9001")
		ins2 := AllTypes(id, "TURN#9002")
		l1 = append(l1, Update(first, upd1), Delete(summary), Insert(ins1))
		l2 = append(l2, Update(upd1, upd2), Delete(meta), Insert(ins2))
		for _, it := range []items.Item{upd2, ins1, ins2} {
			k, _ := items.KeyOf(it)
			sc.Want[k] = it
		}
		for _, it := range []items.Item{summary, meta} {
			k, _ := items.KeyOf(it)
			delete(sc.Want, k)
		}
	}
	var err error
	if sc.Full, err = w.Full(ctx, "01700000000000-f0000000", start, all, files); err != nil {
		return sc, err
	}
	if sc.Inc1, err = w.Incremental(ctx, "01700000000001-i1000000", start, sc.Mid, exports.ViewNewAndOldImages, l1, files); err != nil {
		return sc, err
	}
	if sc.Inc2, err = w.Incremental(ctx, "01700000000002-i2000000", sc.Mid, sc.End, exports.ViewNewImage, l2, files); err != nil {
		return sc, err
	}
	return sc, nil
}
