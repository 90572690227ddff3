// Package progress shows how far a long recovery step is: on a terminal a
// bar redrawn in place (items, rate, ETA), anywhere else a plain line every
// few seconds, which reads well in CI logs and `tee`d files.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// Meter counts one step's progress and shows it.
type Meter struct {
	w        io.Writer
	tty      bool
	every    time.Duration
	phase    string
	unit     string
	total    atomic.Int64 // 0 = unknown
	done     atomic.Int64
	start    time.Time
	stop     chan struct{}
	finished sync.WaitGroup
	mu       sync.Mutex // serialises writes
	now      func() time.Time
}

// Options say where and how often.
type Options struct {
	Out      io.Writer     // default os.Stderr
	Terminal *bool         // default: whether Out is a terminal
	Every    time.Duration // between plain lines; default 10 s (bar: 200 ms)
	Quiet    bool          // show nothing (the final report still prints)
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Start begins showing a step. total may be 0 when unknown.
func Start(opts Options, phase, unit string, total int64) *Meter {
	if opts.Out == nil {
		opts.Out = os.Stderr
	}
	if opts.Quiet {
		opts.Out = io.Discard
	}
	tty := IsTerminal(opts.Out)
	if opts.Terminal != nil {
		tty = *opts.Terminal
	}
	if opts.Every <= 0 {
		opts.Every = 10 * time.Second
		if tty {
			opts.Every = 200 * time.Millisecond
		}
	}
	m := &Meter{w: opts.Out, tty: tty, every: opts.Every, phase: phase, unit: unit, start: time.Now(), stop: make(chan struct{}), now: time.Now}
	m.total.Store(total)
	m.finished.Add(1)
	go m.loop()
	return m
}

// Add counts n more units done.
func (m *Meter) Add(n int64) { m.done.Add(n) }

// SetTotal changes the expected total (e.g. once a manifest is read).
func (m *Meter) SetTotal(n int64) { m.total.Store(n) }

// Done stops the meter and prints its last line.
func (m *Meter) Done() {
	close(m.stop)
	m.finished.Wait()
	m.print(true)
}

// Count is what was counted.
func (m *Meter) Count() int64 { return m.done.Load() }

func (m *Meter) loop() {
	defer m.finished.Done()
	t := time.NewTicker(m.every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.print(false)
		}
	}
}

func (m *Meter) print(last bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	line := m.Line()
	switch {
	case m.tty && last:
		fmt.Fprintf(m.w, "\r\033[K%s\n", line)
	case m.tty:
		fmt.Fprintf(m.w, "\r\033[K%s", line)
	default:
		fmt.Fprintln(m.w, line)
	}
}

// Line is the current state as text: a bar on a terminal, words elsewhere.
func (m *Meter) Line() string {
	done, total := m.done.Load(), m.total.Load()
	elapsed := m.now().Sub(m.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	eta := "?"
	if total > 0 && rate > 0 && done <= total {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	if !m.tty {
		if total > 0 {
			return fmt.Sprintf("%s: %d/%d %s (%.0f%%), %.0f %s/s, ETA %s, elapsed %s",
				m.phase, done, total, m.unit, 100*float64(done)/float64(total), rate, m.unit, eta, elapsed.Round(time.Second))
		}
		return fmt.Sprintf("%s: %d %s, %.0f %s/s, elapsed %s", m.phase, done, m.unit, rate, m.unit, elapsed.Round(time.Second))
	}
	const width = 30
	bar := strings.Repeat("░", width)
	pct := ""
	if total > 0 {
		filled := int(min(width, width*done/max(total, 1)))
		bar = strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
		pct = fmt.Sprintf(" %3.0f%%", 100*float64(done)/float64(total))
		return fmt.Sprintf("%s [%s]%s %d/%d %s  %.0f/s  ETA %s", m.phase, bar, pct, done, total, m.unit, rate, eta)
	}
	return fmt.Sprintf("%s %d %s  %.0f/s  %s", m.phase, done, m.unit, rate, elapsed.Round(time.Second))
}

// Logf prints one line of narrative (a step starting, a decision) between
// meters.
func Logf(opts Options, format string, args ...any) {
	if opts.Quiet {
		return
	}
	w := opts.Out
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, format+"\n", args...)
}
