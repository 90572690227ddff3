package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestTerminalGetsABarRedrawnInPlace(t *testing.T) {
	var out bytes.Buffer
	yes := true
	m := Start(Options{Out: &out, Terminal: &yes, Every: 5 * time.Millisecond}, "restore t", "items", 200)
	m.Add(50)
	time.Sleep(30 * time.Millisecond)
	m.Done()
	s := out.String()
	assert.Contains(t, s, "\r\033[K", "redrawn in place")
	assert.Contains(t, s, "█")
	assert.Contains(t, s, "50/200 items")
	assert.Contains(t, s, "ETA")
	assert.True(t, strings.HasSuffix(s, "\n"), "the last line stays")
}

func TestElsewherePlainPeriodicLines(t *testing.T) {
	var out bytes.Buffer
	no := false
	m := Start(Options{Out: &out, Terminal: &no, Every: 5 * time.Millisecond}, "verify MD5", "files", 4)
	m.Add(1)
	time.Sleep(30 * time.Millisecond)
	m.Add(3)
	m.Done()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.Greater(t, len(lines), 2, "a line every few milliseconds here, every 10 s by default")
	assert.NotContains(t, out.String(), "\r")
	assert.Equal(t, "verify MD5: 4/4 files (100%)", lines[len(lines)-1][:len("verify MD5: 4/4 files (100%)")])
	assert.Contains(t, lines[0], "ETA")
}

func TestQuietShowsNothing(t *testing.T) {
	var out bytes.Buffer
	m := Start(Options{Out: &out, Quiet: true}, "x", "items", 1)
	m.Add(1)
	m.Done()
	Logf(Options{Out: &out, Quiet: true}, "hello")
	assert.Empty(t, out.String())
}
