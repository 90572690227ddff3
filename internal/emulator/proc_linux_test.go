package emulator

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStopKillsProcessGroup(t *testing.T) {
	argv, ok := requireCommand(t, exec.LookPath)
	if !ok {
		return
	}
	s, err := startServer(argv, freePort, readyTimeout)
	require.NoError(t, err)
	pid := s.cmd.Process.Pid
	owned, err := ownsPort(pid, s.port)
	require.NoError(t, err)
	assert.True(t, owned)

	s.stop()
	select {
	case <-s.done:
	default:
		t.Fatal("stop returned before the server exited")
	}
	err = syscall.Kill(-pid, 0)
	assert.True(t, errors.Is(err, syscall.ESRCH), "process group %d still has members: %v", pid, err)
	_, err = net.Dial("tcp", net.JoinHostPort(host, fmt.Sprint(s.port)))
	assert.Error(t, err, "port still answers")
}

func TestStartRetriesWhenPortTaken(t *testing.T) {
	argv, ok := requireCommand(t, exec.LookPath)
	if !ok {
		return
	}
	// An impostor that answers like moto on the first port offered, as
	// another test binary's moto_server would.
	impostor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"status": "ok"}`))
	}))
	defer impostor.Close()
	taken := impostor.Listener.Addr().(*net.TCPAddr).Port

	picks := 0
	pick := func() (int, error) {
		picks++
		if picks == 1 {
			return taken, nil
		}
		return freePort()
	}
	s, err := startServer(argv, pick, readyTimeout)
	require.NoError(t, err)
	defer s.stop()
	assert.Equal(t, 2, picks)
	assert.NotEqual(t, taken, s.port)
	require.NoError(t, s.reset())
}
