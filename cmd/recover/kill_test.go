package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/faultproxy"
	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
)

// A restore killed with SIGKILL in the middle of its writes, then run again
// with the same arguments, gives exactly the table a run without a kill
// gives. The proxy holds the BatchWriteItem calls after the twelfth, so the
// kill lands at a known point: the full export written, the first
// incremental half written.
func TestKillInTheMiddleAndRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	x := newH(t, 30)
	bin := filepath.Join(t.TempDir(), "recover")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	proxy, err := faultproxy.NewDynamoDB(x.emu.URL())
	require.NoError(t, err)
	proxy.HoldAfter(12)
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	t.Cleanup(proxy.Release)

	home := t.TempDir()
	args := []string{"table", "--from", "s3://backups/exports", "--until", stamp(x.sc.End), "--to", "killed", "--create",
		"--workers", "2", "--file-workers", "1", "--state-dir", x.stateDir, "--json"}
	command := func() (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{
			"HOME=" + home, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
			"AWS_ENDPOINT_URL=" + srv.URL, "AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		return cmd, &out, &errb
	}

	first, _, firstErr := command()
	require.NoError(t, first.Start())
	deadline := time.Now().Add(60 * time.Second)
	for proxy.Stats().Held == 0 {
		require.True(t, time.Now().Before(deadline), "the restore never reached the held call; stderr:\n%s", firstErr)
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, first.Process.Kill()) // SIGKILL: no cleanup, no last checkpoint write
	_ = first.Wait()
	written := x.scan("killed")
	t.Logf("killed after %d calls with %d items in the table", proxy.Stats().Calls, len(written))
	require.NotEmpty(t, written)
	require.Less(t, len(written), len(x.sc.Want)+10, "killed before the end")

	proxy.Release()
	second, out, secondErr := command()
	require.NoError(t, second.Run(), "rerun: %s", secondErr)
	assert.Contains(t, secondErr.String(), "continuing the run recorded in")
	assert.Contains(t, out.String(), `"files_already_done":`)
	x.requireTable("killed", x.sc.Want)

	// The same arguments into a fresh table without a kill: the same items.
	code, _, _ := x.recover("table", "--from", "s3://backups/exports", "--until", stamp(x.sc.End), "--to", "clean", "--create")
	require.Equal(t, exitOK, code)
	clean, killed := x.scan("clean"), x.scan("killed")
	require.Equal(t, len(clean), len(killed))
	for k, it := range clean {
		assert.True(t, equalItems(it, killed[k]), "%s differs", k)
	}
}

func equalItems(a, b map[string]types.AttributeValue) bool { return items.Equal(a, b) }
