package session_test

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/emulator"
	"github.com/manga-assist/manga-assist-data/internal/recovery/exporttest"
	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
	"github.com/manga-assist/manga-assist-data/internal/recovery/session"
	"github.com/manga-assist/manga-assist-data/internal/recovery/table"
	"github.com/manga-assist/manga-assist-data/internal/recovery/writeback"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }

// moto's PITR restore copies the current items, so the write-back is tested
// here on a scratch table the test fills with the session as it was, next
// to a live table holding what happened since.
type tables struct {
	t    *testing.T
	ddb  *dynamodb.Client
	old  []items.Item // the session at the restore point: META, 3 turns, SUMMARY
	live map[string]items.Item
}

const id = "7f3e"

func setup(t *testing.T) *tables {
	emu := emulator.New(t)
	tb := &tables{t: t, ddb: emu.DynamoDB(), old: exporttest.Session(id, 3), live: map[string]items.Item{}}
	require.NoError(t, table.CreateSessionsTable(t.Context(), tb.ddb, "scratch"))
	require.NoError(t, table.CreateSessionsTable(t.Context(), tb.ddb, "live"))
	for _, it := range tb.old {
		tb.put("scratch", it)
	}
	// Live: TURN#0000 deleted by mistake; TURN#0001 edited since; META
	// unchanged; SUMMARY deleted; a new TURN#0003 written after the restore point.
	for _, it := range tb.old {
		switch sk(it) {
		case "TURN#0000", "SUMMARY#1":
		case "TURN#0001":
			tb.put("live", exporttest.With(it, "role", &types.AttributeValueMemberS{Value: "edited"}))
		default:
			tb.put("live", it)
		}
	}
	tb.put("live", exporttest.AllTypes(id, "TURN#0003"))
	tb.put("live", exporttest.AllTypes("other", "TURN#0000")) // another session: never touched
	return tb
}

func sk(it items.Item) string { return it[sessions.SortKey].(*types.AttributeValueMemberS).Value }

func (tb *tables) put(table string, it items.Item) {
	_, err := tb.ddb.PutItem(tb.t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it})
	require.NoError(tb.t, err)
}

func (tb *tables) get(table, sortKey string) items.Item {
	out, err := tb.ddb.GetItem(tb.t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: items.Key{PK: sessions.PK(id), SK: sortKey}.Attrs(), ConsistentRead: aws.Bool(true)})
	require.NoError(tb.t, err)
	return out.Item
}

func key(s string) string { return sessions.PK(id) + " / " + s }

func TestMissingPutsBackOnlyWhatIsGone(t *testing.T) {
	tb := setup(t)
	res, err := session.FromScratch(t.Context(), tb.ddb, "live", "scratch", id, writeback.Missing, writeback.Options{})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{key("TURN#0000"), key("SUMMARY#1")}, res.Restored)
	require.Len(t, res.Conflicts, 1)
	assert.Equal(t, key("TURN#0001"), res.Conflicts[0].Key)
	assert.Equal(t, []string{key("TURN#0003")}, res.Newer)
	assert.Equal(t, 2, res.Unchanged) // META, TURN#0002
	assert.Equal(t, "edited", tb.get("live", "TURN#0001")["role"].(*types.AttributeValueMemberS).Value)
	assert.NotEmpty(t, tb.get("live", "TURN#0003"), "missing mode keeps items newer than the restore point")
}

func TestReplaceMakesTheSessionAsItWas(t *testing.T) {
	tb := setup(t)
	res, err := session.FromScratch(t.Context(), tb.ddb, "live", "scratch", id, writeback.Replace, writeback.Options{})
	require.NoError(t, err)
	assert.Empty(t, res.Conflicts)
	assert.Equal(t, []string{key("TURN#0001")}, res.Replaced)
	assert.Equal(t, []string{key("TURN#0003")}, res.Deleted)
	now, err := session.Query(t.Context(), tb.ddb, "live", id)
	require.NoError(t, err)
	require.Len(t, now, len(tb.old))
	for _, it := range tb.old {
		assert.True(t, items.Equal(it, tb.get("live", sk(it))), "%s", sk(it))
	}
	other, err := session.Query(t.Context(), tb.ddb, "live", "other")
	require.NoError(t, err)
	assert.Len(t, other, 1)
}

// Between the read and the write the application changes the item (or
// creates it): the conditional write fails, the newer item stays, and the
// report names it.
func TestNewerLiveItemIsNeverOverwritten(t *testing.T) {
	for _, mode := range []writeback.Mode{writeback.Missing, writeback.Replace} {
		t.Run(string(mode), func(t *testing.T) {
			tb := setup(t)
			newer := map[string]items.Item{}
			race := func(k items.Key) {
				it := exporttest.With(exporttest.AllTypes(id, k.SK), "role", &types.AttributeValueMemberS{Value: "written during the restore"})
				newer[k.SK] = it
				tb.put("live", it)
			}
			res, err := session.FromScratch(t.Context(), tb.ddb, "live", "scratch", id, mode, writeback.Options{BeforeWrite: race})
			require.NoError(t, err)
			assert.Empty(t, res.Restored)
			assert.Empty(t, res.Replaced)
			assert.Empty(t, res.Deleted)
			require.NotEmpty(t, newer)
			for s, it := range newer {
				assert.True(t, items.Equal(it, tb.get("live", s)), "%s was overwritten", s)
			}
			var keys []string
			for _, c := range res.Conflicts {
				keys = append(keys, c.Key)
			}
			for s := range newer {
				assert.Contains(t, keys, key(s))
			}
		})
	}
}
