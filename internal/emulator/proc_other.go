//go:build !linux

package emulator

import "os/exec"

// Without Pdeathsig and /proc the child is only killed by stop; CI runs on
// Linux, where the stronger guarantees hold.
func setProcAttr(*exec.Cmd) {}

func killTree(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

// ownsPort cannot tell without /proc; assume the answer came from our child.
func ownsPort(int, int) (bool, error) { return true, nil }
