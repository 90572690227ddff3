// Package checkpoint keeps what a recovery run has finished in a small JSON
// file, so that a run interrupted by Ctrl-C or a crash continues where it
// stopped when it is started again with the same arguments. The file is
// replaced atomically (write, fsync, rename), so a crash leaves either the
// old or the new state, never half of one.
package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// State is everything a run records.
type State struct {
	// Args are the arguments the run was started with: a file is only
	// reused by a run with the same ones.
	Args    []string  `json:"args"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	// Done lists finished steps (e.g. "verified:<key>", "applied:<key>").
	Done []string `json:"done"`
	// Values are named facts of the run (a scratch table's name, a restore
	// job's id, the phase reached).
	Values map[string]string `json:"values,omitempty"`
	// Finished is set when the run completed; Report is its final report.
	Finished time.Time       `json:"finished,omitzero"`
	Report   json.RawMessage `json:"report,omitempty"`
}

// File is a checkpoint on disk. It is safe for concurrent use.
type File struct {
	path string
	mu   sync.Mutex
	st   State
	done map[string]bool
}

// Key names the checkpoint of a run from its arguments.
func Key(args []string) string {
	sum := sha256.Sum256([]byte(strings.Join(args, "\x00")))
	return hex.EncodeToString(sum[:8])
}

// DefaultDir is where checkpoints live unless a run says otherwise:
// $XDG_STATE_HOME/manga-assist-recover, or ~/.local/state/manga-assist-recover.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "manga-assist-recover"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for checkpoints (%w): pass --state-dir", err)
	}
	return filepath.Join(home, ".local", "state", "manga-assist-recover"), nil
}

// Open loads the checkpoint of args from dir, or starts a new one. resumed
// reports whether an earlier run's state was found.
func Open(dir string, args []string) (f *File, resumed bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("checkpoint directory %s: %w", dir, err)
	}
	f = &File{path: filepath.Join(dir, Key(args)+".json"), done: map[string]bool{}}
	b, err := os.ReadFile(f.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		now := time.Now().UTC()
		f.st = State{Args: slices.Clone(args), Started: now, Updated: now, Values: map[string]string{}}
		return f, false, f.save()
	case err != nil:
		return nil, false, fmt.Errorf("read checkpoint %s: %w", f.path, err)
	}
	if err := json.Unmarshal(b, &f.st); err != nil {
		return nil, false, fmt.Errorf("checkpoint %s is damaged (%v): delete it to start over", f.path, err)
	}
	if !slices.Equal(f.st.Args, args) {
		return nil, false, fmt.Errorf("checkpoint %s belongs to other arguments %q", f.path, f.st.Args)
	}
	if f.st.Values == nil {
		f.st.Values = map[string]string{}
	}
	for _, d := range f.st.Done {
		f.done[d] = true
	}
	return f, true, nil
}

// Path is the file's path, for the report.
func (f *File) Path() string { return f.path }

// Done reports whether step was finished by this or an earlier run.
func (f *File) Done(step string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done[step]
}

// MarkDone records step as finished, durably, before it returns.
func (f *File) MarkDone(step string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done[step] {
		return nil
	}
	f.done[step] = true
	f.st.Done = append(f.st.Done, step)
	return f.save()
}

// Value returns a named fact recorded earlier, or "".
func (f *File) Value(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.Values[name]
}

// SetValue records a named fact durably.
func (f *File) SetValue(name, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.Values[name] = value
	return f.save()
}

// Finished returns the report of a run that completed, or nil.
func (f *File) Finished() (time.Time, json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.Finished, f.st.Report
}

// Finish records the run as complete with its report.
func (f *File) Finish(report any) error {
	b, err := json.Marshal(report)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.Finished, f.st.Report = time.Now().UTC(), b
	return f.save()
}

// save writes the state; the caller holds mu.
func (f *File) save() error {
	f.st.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(f.st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(b); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.path)
	}
	if err != nil {
		return fmt.Errorf("write checkpoint %s: %w", f.path, err)
	}
	return nil
}

// Reset forgets everything recorded, for a run that starts over (a drill
// run again after one that finished).
func (f *File) Reset() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now().UTC()
	f.st = State{Args: f.st.Args, Started: now, Values: map[string]string{}}
	f.done = map[string]bool{}
	return f.save()
}
