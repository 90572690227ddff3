//go:build unix

package streamrouter

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) of this process so far, all
// threads: the router's own work, the SDK's and the garbage collector's, not
// moto's, which runs in another process.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
