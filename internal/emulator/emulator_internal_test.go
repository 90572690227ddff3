package emulator

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeTB records Skip and Fatal instead of ending the goroutine, so the
// outcome can be inspected without failing the real test. Methods it does
// not override panic through the nil embedded TB, which flags unexpected use.
type fakeTB struct {
	testing.TB
	name     string
	skipped  bool
	failed   bool
	msg      string
	cleanups []func()
}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Name() string              { return f.name }
func (f *fakeTB) Failed() bool              { return f.failed }
func (f *fakeTB) Cleanup(fn func())         { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Fatal(args ...any)         { f.failed, f.msg = true, fmt.Sprint(args...) }
func (f *fakeTB) Fatalf(s string, a ...any) { f.failed, f.msg = true, fmt.Sprintf(s, a...) }
func (f *fakeTB) Skip(args ...any)          { f.skipped, f.msg = true, fmt.Sprint(args...) }
func (f *fakeTB) Skipf(s string, a ...any)  { f.skipped, f.msg = true, fmt.Sprintf(s, a...) }

func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	f.cleanups = nil
}

func TestMissingServer(t *testing.T) {
	missing := func(string) (string, error) { return "", exec.ErrNotFound }
	for _, tc := range []struct {
		ci       string
		wantFail bool
	}{
		{ci: "", wantFail: false},
		{ci: "true", wantFail: true},
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv("MOTO_SERVER", "")

			// Injected lookup.
			fake := &fakeTB{name: t.Name()}
			argv, ok := requireCommand(fake, missing)
			assert.False(t, ok)
			assert.Nil(t, argv)
			assert.Equal(t, tc.wantFail, fake.failed, "failed")
			assert.Equal(t, !tc.wantFail, fake.skipped, "skipped")
			assert.Contains(t, fake.msg, InstallHint)

			// The real entry point with nothing on PATH.
			t.Setenv("PATH", t.TempDir())
			fake = &fakeTB{name: t.Name()}
			assert.Nil(t, New(fake))
			assert.Equal(t, tc.wantFail, fake.failed, "failed")
			assert.Equal(t, !tc.wantFail, fake.skipped, "skipped")
			assert.Contains(t, fake.msg, "pip install 'moto[server]'")
			assert.Contains(t, fake.msg, "moto_server")

			// A MOTO_SERVER that does not exist is just as missing.
			t.Setenv("MOTO_SERVER", "no-such-moto --flag")
			fake = &fakeTB{name: t.Name()}
			assert.Nil(t, New(fake))
			assert.Equal(t, tc.wantFail, fake.failed, "failed")
			assert.Equal(t, !tc.wantFail, fake.skipped, "skipped")
			assert.Contains(t, fake.msg, "no-such-moto")
			assert.Contains(t, fake.msg, InstallHint)
		})
	}
}

func TestMotoServerEnv(t *testing.T) {
	t.Setenv("MOTO_SERVER", "  python3 -m moto.server ")
	argv, err := serverCommand(func(name string) (string, error) { return "/opt/bin/" + name, nil })
	require.NoError(t, err)
	assert.Equal(t, []string{"/opt/bin/python3", "-m", "moto.server"}, argv)
}

func TestStartupFailureShowsOutput(t *testing.T) {
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)
	// The appended "-H 127.0.0.1 -p PORT" become $1…$4 of the script.
	argv := []string{sh, "-c", `echo "boom: cannot serve on $4" >&2; exit 3`, "sh"}
	ports := 0
	pick := func() (int, error) { ports++; return freePort() }

	start := time.Now()
	s, err := startServer(argv, pick, 5*time.Second)
	require.Error(t, err)
	assert.Nil(t, s)
	assert.Less(t, time.Since(start), 5*time.Second, "an exited child must not be waited for")
	assert.Equal(t, startAttempts, ports, "each attempt on a fresh port")
	assert.Contains(t, err.Error(), "boom: cannot serve on")
	assert.Contains(t, err.Error(), "exited before answering")
	assert.Contains(t, err.Error(), InstallHint)
}

func TestParallelUseRefused(t *testing.T) {
	first := &fakeTB{name: "TestA"}
	isFirst, ok := claim(first)
	require.True(t, ok)
	assert.True(t, isFirst)
	defer first.runCleanups()

	again := &fakeTB{name: "TestA"}
	isFirst, ok = claim(again)
	assert.True(t, ok, "a test may call New twice")
	assert.False(t, isFirst, "the second New of a test is not its first")
	sub := &fakeTB{name: "TestA/sub"}
	isFirst, ok = claim(sub)
	assert.True(t, ok, "a subtest may use its parent's emulator")
	assert.True(t, isFirst)
	sub.runCleanups()
	again.runCleanups()

	other := &fakeTB{name: "TestB"}
	_, ok = claim(other)
	assert.False(t, ok)
	assert.True(t, other.failed)
	assert.Contains(t, other.msg, "must not run in parallel")

	first.runCleanups()
	later := &fakeTB{name: "TestB"}
	_, ok = claim(later)
	assert.True(t, ok, "free again once the holder is done")
	later.runCleanups()
}

func TestTailBuffer(t *testing.T) {
	b := newTailBuffer(8)
	assert.Equal(t, "(no output)", b.tail(8))
	_, _ = b.Write([]byte("0123"))
	m := b.mark()
	_, _ = b.Write([]byte("4567"))
	assert.Equal(t, "4567", b.since(m, 100))
	assert.Equal(t, "…67", b.since(m, 2))
	for range 10 {
		_, _ = b.Write([]byte("abcdefgh"))
	}
	_, _ = b.Write([]byte("XYZ"))
	got := b.tail(100)
	assert.True(t, strings.HasPrefix(got, "…"), "truncation is marked: %q", got)
	assert.True(t, strings.HasSuffix(got, "abcdefghXYZ"), "the latest bytes are kept: %q", got)
	assert.LessOrEqual(t, len(b.buf), 2*8, "older bytes are dropped")
	assert.Equal(t, "…fghXYZ", b.tail(6))
}
