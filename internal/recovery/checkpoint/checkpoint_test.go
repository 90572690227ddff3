package checkpoint_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/recovery/checkpoint"
)

func TestResume(t *testing.T) {
	dir := t.TempDir()
	args := []string{"table", "s3://b/p", "t"}
	f, resumed, err := checkpoint.Open(dir, args)
	require.NoError(t, err)
	assert.False(t, resumed)
	require.NoError(t, f.MarkDone("applied:a"))
	require.NoError(t, f.SetValue("scratch", "x"))

	g, resumed, err := checkpoint.Open(dir, args)
	require.NoError(t, err)
	assert.True(t, resumed)
	assert.True(t, g.Done("applied:a"))
	assert.False(t, g.Done("applied:b"))
	assert.Equal(t, "x", g.Value("scratch"))
	require.NoError(t, g.Finish(map[string]int{"n": 1}))
	at, rep := g.Finished()
	assert.False(t, at.IsZero())
	assert.JSONEq(t, `{"n":1}`, string(rep))
	require.NoError(t, g.Reset())
	assert.False(t, g.Done("applied:a"))

	other, resumed, err := checkpoint.Open(dir, []string{"table", "s3://b/p", "u"})
	require.NoError(t, err)
	assert.False(t, resumed)
	assert.NotEqual(t, f.Path(), other.Path())
}

func TestDamagedFileIsNamed(t *testing.T) {
	dir := t.TempDir()
	args := []string{"x"}
	require.NoError(t, os.WriteFile(filepath.Join(dir, checkpoint.Key(args)+".json"), []byte("{half"), 0o600))
	_, _, err := checkpoint.Open(dir, args)
	assert.ErrorContains(t, err, "is damaged")
	assert.ErrorContains(t, err, "delete it to start over")
}
