package lambdabuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// keyVersion changes whenever the key's recipe or the zip layout does.
const keyVersion = "lambdabuild/v1"

// listedPackage is the part of `go list -json` output that the key needs.
type listedPackage struct {
	ImportPath     string
	Name           string
	Dir            string
	Standard       bool
	DepOnly        bool
	DefaultGODEBUG string
	Module         *listedModule
	Error          *struct{ Err string }
	GoFiles        []string
	CgoFiles       []string
	CFiles         []string
	CXXFiles       []string
	MFiles         []string
	HFiles         []string
	FFiles         []string
	SFiles         []string
	SwigFiles      []string
	SwigCXXFiles   []string
	SysoFiles      []string
	EmbedFiles     []string
}

type listedModule struct {
	Path      string
	Version   string
	Main      bool
	GoVersion string
	Replace   *listedModule
}

// files lists every source file that goes into the package's object code.
func (p *listedPackage) files() [][]string {
	return [][]string{p.GoFiles, p.CgoFiles, p.CFiles, p.CXXFiles, p.MFiles, p.HFiles,
		p.FFiles, p.SFiles, p.SwigFiles, p.SwigCXXFiles, p.SysoFiles, p.EmbedFiles}
}

// listDeps lists pkg and its dependencies for the target platform; the
// requested package comes last.
func listDeps(ctx context.Context, dir, pkg string) ([]*listedPackage, error) {
	out, err := runGo(ctx, dir, "list", "-e", "-deps", "-tags", buildTags,
		"-json=ImportPath,Name,Dir,Standard,DepOnly,DefaultGODEBUG,Module,Error,"+
			"GoFiles,CgoFiles,CFiles,CXXFiles,MFiles,HFiles,FFiles,SFiles,SwigFiles,SwigCXXFiles,SysoFiles,EmbedFiles",
		"--", pkg)
	if err != nil {
		return nil, fmt.Errorf("lambdabuild: package %s: %w", pkg, err)
	}
	var pkgs []*listedPackage
	var root *listedPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		p := new(listedPackage)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("lambdabuild: package %s: go list output: %w", pkg, err)
		}
		if !p.DepOnly {
			root = p
		} else {
			pkgs = append(pkgs, p)
		}
	}
	if root == nil {
		return nil, fmt.Errorf("lambdabuild: package %s: go list returned nothing", pkg)
	}
	if root.Error != nil && len(root.GoFiles) == 0 {
		return nil, &noPackageError{pkg, root.Error.Err}
	}
	var msgs []string
	for _, p := range append(pkgs, root) {
		if p.Error != nil {
			msgs = append(msgs, p.Error.Err)
		}
	}
	if len(msgs) > 0 {
		return nil, fmt.Errorf("lambdabuild: package %s: %s", pkg, strings.Join(msgs, "\n"))
	}
	return append(pkgs, root), nil
}

// noPackageError reports that go list found no package at all.
type noPackageError struct{ pkg, msg string }

func (e *noPackageError) Error() string {
	return fmt.Sprintf("lambdabuild: package %s not found: %s", e.pkg, e.msg)
}

// cacheKey hashes everything that determines the zip: the toolchain, the
// build flags, and every non-standard package. Packages from the module
// cache are immutable, so their module path@version stands for their
// content; packages from the main module or a directory replacement are
// hashed file by file.
func cacheKey(env goEnv, pkgs []*listedPackage) (string, error) {
	h := sha256.New()
	for _, s := range []string{keyVersion, env.GOVERSION, env.GOFLAGS, env.GOEXPERIMENT, env.GOARM64} {
		field(h, s)
	}
	for _, s := range append(append([]string(nil), buildEnv...), buildArgs...) {
		field(h, s)
	}
	for _, p := range pkgs {
		if p.Standard {
			continue // pinned by GOVERSION
		}
		field(h, "package")
		field(h, p.ImportPath)
		field(h, p.DefaultGODEBUG)
		m := p.Module
		if m != nil {
			// All of these end up in the binary's build info or change how it compiles.
			field(h, m.Path)
			field(h, m.Version)
			field(h, m.GoVersion)
			if m.Replace != nil {
				field(h, "=>")
				field(h, m.Replace.Path)
				field(h, m.Replace.Version)
				m = m.Replace
			}
		}
		if m != nil && m.Version != "" {
			continue // from the module cache
		}
		for _, names := range p.files() {
			for _, name := range names {
				b, err := os.ReadFile(filepath.Join(p.Dir, name))
				if err != nil {
					return "", err
				}
				field(h, name)
				field(h, string(b))
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// field writes s length-prefixed, so that no two sequences of fields hash alike.
func field(h hash.Hash, s string) {
	io.WriteString(h, strconv.Itoa(len(s)))
	io.WriteString(h, ":")
	io.WriteString(h, s)
}
