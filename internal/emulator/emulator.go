// Package emulator runs moto_server, a local AWS emulator, for integration
// tests and hands out aws-sdk-go-v2 clients pointed at it.
//
// One server is shared by all tests of a test binary: moto takes seconds to
// start, resetting it takes milliseconds. Use it like this:
//
//	func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		emu := emulator.New(t) // fresh state, server started on first use
//		ddb := emu.DynamoDB()
//		...
//	}
//
// New resets the server, so tests that use it must not run in parallel with
// each other; New fails a test that tries. Without Main the server still dies
// with the test binary, it is just not stopped as early.
//
// If moto_server is not installed, New skips the test, or fails it when the
// environment variable CI is set, so that CI cannot go green by skipping.
// MOTO_SERVER may name another command to run instead (split on spaces, e.g.
// "python3 -m moto.server"); it is given "-H 127.0.0.1 -p PORT".
package emulator

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Region is the region of every client; moto stamps it into ARNs and stream
// records.
const Region = "us-east-1"

// InstallHint is how to get moto_server; it is part of every skip or failure
// caused by its absence.
const InstallHint = "pip install 'moto[server]'"

// Emulator is the shared moto server, seen from one test.
type Emulator struct {
	srv *server
}

// shared is the one server of this test binary. A mutex rather than a
// sync.Once so that Main can tell whether anything was started.
var shared struct {
	mu      sync.Mutex
	started bool
	srv     *server
	err     error

	// users are the names of the tests holding the emulator: a reset by one
	// test would wipe another's state, so overlapping use is refused unless
	// the newcomer is a subtest of every holder.
	usersMu sync.Mutex
	users   []string
}

// Main runs the tests and then stops the emulator if any test started it.
//
//	func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		shared.srv.stop()
	}
	return code
}

// New returns the shared emulator with all state reset, starting the server
// on first use. Tests using it must not run in parallel with each other.
func New(t testing.TB) *Emulator {
	t.Helper()
	argv, ok := requireCommand(t, exec.LookPath)
	if !ok {
		return nil
	}
	first, ok := claim(t)
	if !ok {
		return nil
	}
	srv, err := sharedServer(argv)
	if err != nil {
		t.Fatalf("emulator: %v", err)
		return nil
	}
	if first {
		// moto's request log is the quickest way to see what a failing
		// test actually sent, so show the part that belongs to this test.
		mark := srv.out.mark()
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("moto_server output during %s:\n%s", t.Name(), srv.out.since(mark, tailForErrors))
			}
		})
	}
	if err := srv.reset(); err != nil {
		t.Fatalf("emulator: %v\nmoto_server output (tail):\n%s", err, srv.out.tail(tailForErrors))
		return nil
	}
	return &Emulator{srv: srv}
}

// requireCommand finds the server command or skips/fails t. lookPath is a
// parameter so the decision can be tested without uninstalling moto.
func requireCommand(t testing.TB, lookPath func(string) (string, error)) ([]string, bool) {
	t.Helper()
	argv, err := serverCommand(lookPath)
	if err == nil {
		return argv, true
	}
	msg := fmt.Sprintf("emulator: %v; install it with: %s", err, InstallHint)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	} else {
		t.Skip(msg)
	}
	return nil, false
}

func serverCommand(lookPath func(string) (string, error)) ([]string, error) {
	if argv := strings.Fields(os.Getenv("MOTO_SERVER")); len(argv) > 0 {
		path, err := lookPath(argv[0])
		if err != nil {
			return nil, fmt.Errorf("MOTO_SERVER=%q is not runnable: %w", os.Getenv("MOTO_SERVER"), err)
		}
		argv[0] = path
		return argv, nil
	}
	path, err := lookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server is not on PATH (%w)", err)
	}
	return []string{path}, nil
}

func sharedServer(argv []string) (*server, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.started {
		// Started once even if it fails: every later test would only wait
		// out the same timeouts to report the same error.
		shared.started = true
		shared.srv, shared.err = startServer(argv, freePort, readyTimeout)
	}
	if shared.err != nil {
		return nil, shared.err
	}
	select {
	case <-shared.srv.done:
		return nil, fmt.Errorf("moto_server exited during the tests (%v); output (tail):\n%s",
			shared.srv.waitErr, shared.srv.out.tail(tailForErrors))
	default:
	}
	return shared.srv, nil
}

// claim registers t as a user of the emulator; first is false when t already
// is one (a second New in the same test).
func claim(t testing.TB) (first, ok bool) {
	t.Helper()
	name := t.Name()
	shared.usersMu.Lock()
	first = true
	for _, u := range shared.users {
		if name == u {
			first = false
		} else if !strings.HasPrefix(name, u+"/") {
			shared.usersMu.Unlock()
			t.Fatalf("emulator: %s wants the emulator while %s holds it; tests using it must not run in parallel", name, u)
			return false, false
		}
	}
	shared.users = append(shared.users, name)
	shared.usersMu.Unlock()
	t.Cleanup(func() {
		shared.usersMu.Lock()
		defer shared.usersMu.Unlock()
		for i := len(shared.users) - 1; i >= 0; i-- {
			if shared.users[i] == name {
				shared.users = append(shared.users[:i], shared.users[i+1:]...)
				break
			}
		}
	})
	return first, true
}

// URL is the server's base URL, e.g. for a proxy placed in front of it.
func (e *Emulator) URL() string { return e.srv.url }

// Config returns a configuration for the emulator: dummy static credentials,
// Region, BaseEndpoint set to URL. It is built by hand rather than with
// config.LoadDefaultConfig so that nothing from the developer's environment
// or ~/.aws (profiles, AWS_ENDPOINT_URL_*) can point a test at real AWS.
// Each call returns a new value that the caller may change.
func (e *Emulator) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(e.srv.url),
	}
}

// DynamoDB returns a DynamoDB client for the emulator.
func (e *Emulator) DynamoDB(optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.NewFromConfig(e.Config(), optFns...)
}

// Streams returns a DynamoDB Streams client for the emulator.
func (e *Emulator) Streams(optFns ...func(*dynamodbstreams.Options)) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(e.Config(), optFns...)
}

// Kinesis returns a Kinesis client for the emulator.
func (e *Emulator) Kinesis(optFns ...func(*kinesis.Options)) *kinesis.Client {
	return kinesis.NewFromConfig(e.Config(), optFns...)
}

// S3 returns an S3 client for the emulator. It uses path-style addressing
// because virtual-hosted buckets would need DNS names under 127.0.0.1.
func (e *Emulator) S3(optFns ...func(*s3.Options)) *s3.Client {
	pathStyle := func(o *s3.Options) { o.UsePathStyle = true }
	return s3.NewFromConfig(e.Config(), append([]func(*s3.Options){pathStyle}, optFns...)...)
}

// SSM returns an SSM client for the emulator.
func (e *Emulator) SSM(optFns ...func(*ssm.Options)) *ssm.Client {
	return ssm.NewFromConfig(e.Config(), optFns...)
}
