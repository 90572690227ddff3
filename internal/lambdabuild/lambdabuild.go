// Package lambdabuild builds a Go Lambda handler (a main package, usually
// handlers/<name> of this module) into a reproducible zip for the
// provided.al2023 runtime on arm64.
//
// The zip holds a single file, bootstrap, with a fixed mtime and mode 0755, so
// two builds of the same source give the same bytes and the same
// SourceCodeHash: deployments change only when the code does. Zips are cached
// by a key computed from the Go version, the build flags and the content of
// every non-standard package the handler depends on, so an unchanged handler
// is not rebuilt.
//
// Components pass Artifact.Archive() as a function's code and
// Artifact.SourceCodeHash as its sourceCodeHash.
package lambdabuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Artifact is a built handler.
type Artifact struct {
	Handler        string // e.g. "stream-router"
	ZipPath        string // absolute path of the zip in the cache
	SourceCodeHash string // base64 (std encoding) of the sha256 of the zip
}

// Archive is the zip as a Pulumi archive, for lambda.FunctionArgs.Code. The
// zip is passed through as built, so bootstrap keeps its exec bit.
func (a Artifact) Archive() pulumi.Archive { return pulumi.NewFileArchive(a.ZipPath) }

// Options tune a build. The zero value is ready to use.
type Options struct {
	// CacheDir holds the built zips. Default: os.UserCacheDir()/manga-assist-data/lambda.
	CacheDir string
	// ModuleDir is the directory go runs in. Default: the current directory.
	ModuleDir string
	// Timeout bounds the whole build (go env, go list and go build).
	// Default: DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout bounds a build when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Minute

// Target platform and flags. They are part of the cache key, so changing any
// of them invalidates every cached zip.
var (
	buildEnv  = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}
	buildTags = "lambda.norpc"
	buildArgs = []string{"-tags", buildTags, "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}
)

// modulePath is this module's path. It is taken from this package's own
// import path rather than from `go list -m`, because when another module
// imports ours (and builds our handlers from the module cache) `go list -m`
// reports that other module.
var modulePath = strings.TrimSuffix(reflect.TypeFor[Artifact]().PkgPath(), "/internal/lambdabuild")

// goBuilds counts go build invocations, so tests can tell a cache hit.
var goBuilds atomic.Int64

var validName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

// Build builds handlers/<name> of this module.
func Build(ctx context.Context, name string, opts Options) (Artifact, error) {
	if !validName.MatchString(name) {
		return Artifact{}, fmt.Errorf("lambdabuild: invalid handler name %q: must be a plain directory name under handlers/ (non-empty, no slashes, no \"..\")", name)
	}
	a, err := BuildPackage(ctx, modulePath+"/handlers/"+name, opts)
	if npe := (*noPackageError)(nil); errors.As(err, &npe) {
		msg, _, _ := strings.Cut(npe.msg, "; to add it") // go get would not help
		return Artifact{}, fmt.Errorf("lambdabuild: handler %q: no handler directory handlers/%s in module %s: %s", name, name, modulePath, msg)
	}
	return a, err
}

// BuildPackage builds any main package, given by import path or by a
// ./relative directory (relative to Options.ModuleDir).
func BuildPackage(ctx context.Context, pkg string, opts Options) (Artifact, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	dir, cacheDir, err := resolveDirs(opts)
	if err != nil {
		return Artifact{}, err
	}
	env, err := readGoEnv(ctx, dir)
	if err != nil {
		return Artifact{}, err
	}
	pkgs, err := listDeps(ctx, dir, pkg)
	if err != nil {
		return Artifact{}, err
	}
	root := pkgs[len(pkgs)-1]
	handler := path.Base(root.ImportPath)
	if root.Name != "main" {
		return Artifact{}, fmt.Errorf("lambdabuild: handler %q: %s is package %s, not a main package", handler, root.ImportPath, root.Name)
	}
	key, err := cacheKey(env, pkgs)
	if err != nil {
		return Artifact{}, fmt.Errorf("lambdabuild: handler %q: cache key: %w", handler, err)
	}

	zipPath := filepath.Join(cacheDir, key+".zip")
	if zb, err := os.ReadFile(zipPath); err == nil {
		return Artifact{Handler: handler, ZipPath: zipPath, SourceCodeHash: sourceCodeHash(zb)}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return Artifact{}, fmt.Errorf("lambdabuild: handler %q: read cache: %w", handler, err)
	}

	bin, err := goBuild(ctx, dir, handler, root.ImportPath)
	if err != nil {
		return Artifact{}, err
	}
	sum, err := writeCacheEntry(zipPath, bin)
	if err != nil {
		return Artifact{}, fmt.Errorf("lambdabuild: handler %q: write cache: %w", handler, err)
	}
	return Artifact{Handler: handler, ZipPath: zipPath, SourceCodeHash: sum}, nil
}

func resolveDirs(opts Options) (dir, cacheDir string, err error) {
	dir = opts.ModuleDir
	if dir == "" {
		dir = "."
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", "", fmt.Errorf("lambdabuild: ModuleDir: %w", err)
	}
	cacheDir = opts.CacheDir
	if cacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", "", fmt.Errorf("lambdabuild: no CacheDir given and no user cache dir: %w", err)
		}
		cacheDir = filepath.Join(base, "manga-assist-data", "lambda")
	}
	if cacheDir, err = filepath.Abs(cacheDir); err != nil {
		return "", "", fmt.Errorf("lambdabuild: CacheDir: %w", err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", "", fmt.Errorf("lambdabuild: CacheDir: %w", err)
	}
	return dir, cacheDir, nil
}

// runGo runs go with the target environment, so that go env and go list see
// the same GOOS/GOARCH (and thus the same files) as go build.
func runGo(ctx context.Context, dir string, args ...string) (stdout []byte, err error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), buildEnv...)
	// go build's children may hold the pipes after go is killed; don't wait forever.
	cmd.WaitDelay = 5 * time.Second
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		}
		return nil, fmt.Errorf("go %s: %w\n%s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}

// goEnv holds the go env values that can change the binary.
type goEnv struct {
	GOVERSION, GOFLAGS, GOEXPERIMENT, GOARM64 string
}

func readGoEnv(ctx context.Context, dir string) (goEnv, error) {
	var env goEnv
	out, err := runGo(ctx, dir, "env", "-json", "GOVERSION", "GOFLAGS", "GOEXPERIMENT", "GOARM64")
	if err != nil {
		return env, fmt.Errorf("lambdabuild: %w", err)
	}
	if err := json.Unmarshal(out, &env); err != nil {
		return env, fmt.Errorf("lambdabuild: go env: %w", err)
	}
	return env, nil
}

// goBuild builds pkg and returns the bootstrap binary.
func goBuild(ctx context.Context, dir, handler, pkg string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "lambdabuild-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "bootstrap")
	args := append(append([]string{"build"}, buildArgs...), "-o", out, pkg)
	goBuilds.Add(1)
	if _, err := runGo(ctx, dir, args...); err != nil {
		return nil, fmt.Errorf("lambdabuild: build handler %q (%s): %w", handler, pkg, err)
	}
	return os.ReadFile(out)
}

// writeCacheEntry zips bin into zipPath through a temp file and a rename, so
// that concurrent builds never see a partial zip. It returns the SourceCodeHash.
func writeCacheEntry(zipPath string, bin []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(zipPath), filepath.Base(zipPath)+".*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name()) // no-op after a successful rename
	h := sha256.New()
	err = WriteZip(io.MultiWriter(f, h), bytes.NewReader(bin))
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), zipPath)
	}
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

func sourceCodeHash(zip []byte) string {
	sum := sha256.Sum256(zip)
	return base64.StdEncoding.EncodeToString(sum[:])
}
