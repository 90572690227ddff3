package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	host = "127.0.0.1"
	// startAttempts bounds retries on a fresh port: the port is free when
	// chosen but anything may take it before moto binds it.
	startAttempts = 3
	// readyTimeout is generous because moto needs 1–3 s on an idle machine
	// and this one may be busy compiling.
	readyTimeout  = 30 * time.Second
	outputKept    = 64 << 10
	tailForErrors = 8 << 10
)

// server is one moto_server child process.
type server struct {
	url  string
	port int
	cmd  *exec.Cmd
	out  *tailBuffer

	done    chan struct{} // closed once the process has exited and been reaped
	waitErr error         // set before done is closed

	client *http.Client
}

// freePort asks the kernel for a free loopback port. It is released before
// moto binds it, hence the retries in startServer.
func freePort() (int, error) {
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer starts argv on a port from pickPort, retrying on other ports
// a bounded number of times.
func startServer(argv []string, pickPort func() (int, error), timeout time.Duration) (*server, error) {
	var errs []error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		port, err := pickPort()
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		s, err := launch(argv, port, timeout)
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("attempt %d on port %d: %w", attempt, port, err))
	}
	return nil, fmt.Errorf("could not start %s (install it with: %s):\n%w",
		strings.Join(argv, " "), InstallHint, errors.Join(errs...))
}

func launch(argv []string, port int, timeout time.Duration) (*server, error) {
	args := append(append([]string(nil), argv[1:]...), "-H", host, "-p", strconv.Itoa(port))
	cmd := exec.Command(argv[0], args...)
	out := newTailBuffer(outputKept)
	// The same writer for both makes exec use one pipe, so lines interleave
	// in the order moto wrote them.
	cmd.Stdout, cmd.Stderr = out, out
	// Unbuffered so that the tail shown on failure is complete.
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	// A grandchild keeping the pipe open must not hang Wait forever.
	cmd.WaitDelay = 5 * time.Second
	setProcAttr(cmd)

	s := &server{
		url:    "http://" + net.JoinHostPort(host, strconv.Itoa(port)),
		port:   port,
		cmd:    cmd,
		out:    out,
		done:   make(chan struct{}),
		client: &http.Client{Timeout: 30 * time.Second},
	}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that forked the child exits, not
		// when the process does. Pinning this goroutine to its thread and
		// keeping it in Wait for the child's whole life stops the runtime
		// from retiring that thread under a live child.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	if err := s.waitReady(timeout); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w\nmoto_server output (tail):\n%s", err, out.tail(tailForErrors))
	}
	return s, nil
}

// waitReady polls until our process answers on its port.
func (s *server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	delay := 50 * time.Millisecond
	var lastErr error
	for {
		select {
		case <-s.done:
			return fmt.Errorf("exited before answering: %v", s.waitErr)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		lastErr = s.post(ctx, "/moto-api/reset")
		cancel()
		if lastErr == nil {
			// Something answered, but it may be another test binary's moto
			// that took the port first; ours would then die of EADDRINUSE
			// after we had started using the impostor.
			owned, err := ownsPort(s.cmd.Process.Pid, s.port)
			if err != nil {
				return fmt.Errorf("check who listens on port %d: %w", s.port, err)
			}
			if !owned {
				return fmt.Errorf("port %d is answered by another process", s.port)
			}
			return nil
		}
		if time.Now().Add(delay).After(deadline) {
			return fmt.Errorf("no answer within %v: %w", timeout, lastErr)
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited before answering: %v", s.waitErr)
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// reset drops every resource in the emulator.
func (s *server) reset() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.post(ctx, "/moto-api/reset"); err != nil {
		return fmt.Errorf("reset moto_server: %w", err)
	}
	return nil
}

func (s *server) post(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+path, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, body)
	}
	return nil
}

// stop kills the server and everything it started, and waits for it.
func (s *server) stop() {
	killTree(s.cmd)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

// tailBuffer keeps the last bytes written to it: moto logs every request, so
// keeping everything would grow without bound over a long test binary.
type tailBuffer struct {
	mu    sync.Mutex
	buf   []byte
	total int64 // bytes ever written
	keep  int
}

func newTailBuffer(keep int) *tailBuffer { return &tailBuffer{keep: keep} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	b.total += int64(len(p))
	// Trimming only at twice the limit keeps writes amortised O(len(p)).
	if len(b.buf) > 2*b.keep {
		kept := make([]byte, b.keep, 2*b.keep)
		copy(kept, b.buf[len(b.buf)-b.keep:])
		b.buf = kept
	}
	return len(p), nil
}

// mark is a position for since.
func (b *tailBuffer) mark() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

// since returns at most limit bytes written after mark, the latest ones.
func (b *tailBuffer) since(mark int64, limit int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.total - mark
	cut := n > int64(len(b.buf)) || n > int64(limit)
	n = min(n, int64(len(b.buf)), int64(limit))
	s := string(b.buf[len(b.buf)-int(n):])
	if cut {
		s = "…" + s
	}
	if s == "" {
		s = "(no output)"
	}
	return s
}

// tail returns at most the last limit bytes.
func (b *tailBuffer) tail(limit int) string { return b.since(0, limit) }
