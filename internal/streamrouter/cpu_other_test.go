//go:build !unix

package streamrouter

import "time"

// processCPU is not measured here; CPU benchmarks report nothing.
func processCPU() (time.Duration, bool) { return 0, false }
