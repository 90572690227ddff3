package lambdabuild

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const echoPkg = "./internal/echo" // a real package, so go mod tidy keeps aws-lambda-go

func buildEcho(t testing.TB, cacheDir string) Artifact {
	t.Helper()
	a, err := BuildPackage(context.Background(), echoPkg, Options{CacheDir: cacheDir})
	require.NoError(t, err)
	return a
}

func TestModulePath(t *testing.T) {
	require.Equal(t, "github.com/manga-assist/manga-assist-data", modulePath)
}

func TestBuildIsReproducible(t *testing.T) {
	a1 := buildEcho(t, t.TempDir())
	a2 := buildEcho(t, t.TempDir())

	require.Equal(t, "echo", a1.Handler)
	require.True(t, filepath.IsAbs(a1.ZipPath), a1.ZipPath)
	require.NotEqual(t, a1.ZipPath, a2.ZipPath)
	z1, err := os.ReadFile(a1.ZipPath)
	require.NoError(t, err)
	z2, err := os.ReadFile(a2.ZipPath)
	require.NoError(t, err)
	require.True(t, bytes.Equal(z1, z2), "zips differ")
	require.Equal(t, a1.SourceCodeHash, a2.SourceCodeHash)

	sum := sha256.Sum256(z1)
	require.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), a1.SourceCodeHash)
	require.Equal(t, a1.ZipPath, a1.Archive().Path(), "the archive is the built zip itself, not a re-zip")
}

func TestZipHoldsLinuxArm64Bootstrap(t *testing.T) {
	a := buildEcho(t, t.TempDir())

	zr, err := zip.OpenReader(a.ZipPath)
	require.NoError(t, err)
	defer zr.Close()
	require.Len(t, zr.File, 1)
	f := zr.File[0]
	require.Equal(t, "bootstrap", f.Name)
	require.Equal(t, zip.Deflate, f.Method)
	require.Equal(t, os.FileMode(0o755), f.Mode())
	require.True(t, f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)), "mtime %v", f.Modified)

	rc, err := f.Open()
	require.NoError(t, err)
	bin, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())

	ef, err := elf.NewFile(bytes.NewReader(bin))
	require.NoError(t, err)
	require.Equal(t, elf.ELFCLASS64, ef.Class)
	require.Equal(t, elf.ELFDATA2LSB, ef.Data)
	require.Equal(t, elf.EM_AARCH64, ef.Machine)
	// CGO_ENABLED=0 gives a static, non-PIE executable.
	require.Equal(t, elf.ET_EXEC, ef.Type)
	// Go marks Linux binaries with the System V ABI (ELFOSABI_NONE), as gcc does.
	require.Equal(t, elf.ELFOSABI_NONE, ef.OSABI)
	for _, p := range ef.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "binary is dynamically linked")
	}
	// -s strips the symbol table.
	_, err = ef.Symbols()
	require.ErrorIs(t, err, elf.ErrNoSymbols)
}

func TestBuildCacheHit(t *testing.T) {
	dir := t.TempDir()
	a1 := buildEcho(t, dir)

	before := goBuilds.Load()
	a2 := buildEcho(t, dir)
	require.Equal(t, before, goBuilds.Load(), "cache hit ran go build")
	require.Equal(t, a1, a2)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "stray temp files in cache dir")
}

func TestBuildConcurrentSameCache(t *testing.T) {
	dir := t.TempDir()
	var arts [3]Artifact
	var errs [3]error
	var wg sync.WaitGroup
	for i := range arts {
		wg.Go(func() {
			arts[i], errs[i] = BuildPackage(context.Background(), echoPkg, Options{CacheDir: dir})
		})
	}
	wg.Wait()
	for i := range arts {
		require.NoError(t, errs[i])
		require.Equal(t, arts[0], arts[i])
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "stray temp files in cache dir")
}

func TestCacheKeyTracksContent(t *testing.T) {
	env := goEnv{GOVERSION: "go1.26.8", GOARM64: "v8.0"}
	src := t.TempDir()
	file := filepath.Join(src, "main.go")
	require.NoError(t, os.WriteFile(file, []byte("package main\nfunc main() {}\n"), 0o644))
	pkgs := func() []*listedPackage {
		return []*listedPackage{
			{ImportPath: "fmt", Standard: true},
			{ImportPath: "github.com/aws/aws-lambda-go/lambda", Module: &listedModule{Path: "github.com/aws/aws-lambda-go", Version: "v1.55.1"}},
			{ImportPath: "example.com/m/handlers/x", Name: "main", Dir: src, GoFiles: []string{"main.go"}, Module: &listedModule{Path: "example.com/m", Main: true}},
		}
	}
	key := func(ps []*listedPackage, env goEnv) string {
		k, err := cacheKey(env, ps)
		require.NoError(t, err)
		return k
	}

	base := key(pkgs(), env)
	require.Equal(t, base, key(pkgs(), env), "key is not stable")

	// Module cache content is not read: the version stands for it.
	ps := pkgs()
	ps[1].Dir = "/nonexistent"
	ps[1].GoFiles = []string{"lambda.go"}
	require.Equal(t, base, key(ps, env))

	require.NoError(t, os.WriteFile(file, []byte("package main\nfunc main() { println() }\n"), 0o644))
	changed := key(pkgs(), env)
	require.NotEqual(t, base, changed, "editing a source file must change the key")

	ps = pkgs()
	ps[1].Module.Version = "v1.55.2"
	require.NotEqual(t, changed, key(ps, env), "a dependency version must change the key")

	env2 := env
	env2.GOVERSION = "go1.26.9"
	require.NotEqual(t, changed, key(pkgs(), env2), "the Go version must change the key")

	// A directory replacement is hashed like the main module.
	ps = pkgs()
	ps[1].Module.Replace = &listedModule{Path: "../lambda"}
	ps[1].Dir = "/nonexistent"
	ps[1].GoFiles = []string{"lambda.go"}
	_, err := cacheKey(env, ps)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestBuildRejectsBadNames(t *testing.T) {
	for _, name := range []string{"../x", "", "a/b", "..", ".", `a\b`} {
		_, err := Build(context.Background(), name, Options{CacheDir: t.TempDir()})
		require.Error(t, err, "name %q", name)
		require.ErrorContains(t, err, "name")
		require.ErrorContains(t, err, strconv.Quote(name))
	}
}

func TestBuildMissingHandler(t *testing.T) {
	_, err := Build(context.Background(), "no-such-handler", Options{CacheDir: t.TempDir()})
	require.Error(t, err)
	require.ErrorContains(t, err, `handler "no-such-handler"`)
	require.ErrorContains(t, err, "handlers/no-such-handler")
	t.Log(err)
}

func TestBuildPackageCompileError(t *testing.T) {
	before := goBuilds.Load()
	_, err := BuildPackage(context.Background(), "./testdata/broken", Options{CacheDir: t.TempDir()})
	require.Error(t, err)
	require.Greater(t, goBuilds.Load(), before)
	require.ErrorContains(t, err, `handler "broken"`)
	require.ErrorContains(t, err, `cannot use "not a number"`)
	t.Log(err)
}

func TestBuildPackageNotMain(t *testing.T) {
	_, err := BuildPackage(context.Background(), ".", Options{CacheDir: t.TempDir()})
	require.ErrorContains(t, err, "not a main package")
}

func TestBuildPackageTimeout(t *testing.T) {
	_, err := BuildPackage(context.Background(), "./testdata/broken", Options{CacheDir: t.TempDir(), Timeout: time.Nanosecond})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestWriteZipIsDeterministic(t *testing.T) {
	data := randomBytes(1 << 16)
	var a, b bytes.Buffer
	require.NoError(t, WriteZip(&a, bytes.NewReader(data)))
	require.NoError(t, WriteZip(&b, bytes.NewReader(data)))
	require.Equal(t, a.Bytes(), b.Bytes())

	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)
	rc, err := zr.File[0].Open()
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.Equal(t, data, got)
}

// randomBytes is pseudo-random but the same on every run.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{'l', 'a', 'm', 'b', 'd', 'a'}).Read(b)
	return b
}

func BenchmarkWriteZip(b *testing.B) {
	data := randomBytes(10 << 20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := WriteZip(io.Discard, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildCached(b *testing.B) {
	dir := b.TempDir()
	buildEcho(b, dir)
	before := goBuilds.Load()
	for b.Loop() {
		buildEcho(b, dir)
	}
	if goBuilds.Load() != before {
		b.Fatal("cache hit ran go build")
	}
}

// Two checkouts at different paths build the same bytes, so every machine
// computes the same SourceCodeHash (it rests on -trimpath: without it the
// checkout's path is compiled into the binary).
func TestBuildIsReproducibleAcrossCheckouts(t *testing.T) {
	checkout := func(dir string) string {
		for _, f := range []string{"go.mod", "go.sum", "internal/lambdabuild/internal/echo/main.go"} {
			src, err := os.ReadFile(filepath.Join("..", "..", f))
			require.NoError(t, err)
			dst := filepath.Join(dir, f)
			require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
			require.NoError(t, os.WriteFile(dst, src, 0o644))
		}
		return dir
	}
	base := t.TempDir()
	var zips [][]byte
	for _, dir := range []string{filepath.Join(base, "a"), filepath.Join(base, "another", "much-longer", "checkout")} {
		a, err := BuildPackage(context.Background(), "./internal/lambdabuild/internal/echo", Options{ModuleDir: checkout(dir), CacheDir: t.TempDir()})
		require.NoError(t, err)
		z, err := os.ReadFile(a.ZipPath)
		require.NoError(t, err)
		zips = append(zips, z)
	}
	require.True(t, bytes.Equal(zips[0], zips[1]), "builds from two checkouts differ")
}
