package emulator

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// setProcAttr makes the child die with the test binary (a panic, a timeout,
// Ctrl-C) and puts it in its own process group so stop can kill anything
// it spawned.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,
		Pdeathsig: syscall.SIGKILL,
	}
}

// killTree kills the child's process group. The child leads that group, so
// the group id is its pid.
func killTree(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		_ = cmd.Process.Kill()
	}
}

// ownsPort reports whether a process of pid's process group listens on
// 127.0.0.1:port. The group rather than pid alone, so that a MOTO_SERVER
// wrapper script that forks instead of exec'ing still passes.
func ownsPort(pid, port int) (bool, error) {
	inodes := map[string]bool{}
	for _, table := range []string{"tcp", "tcp6"} {
		if err := listeningInodes(filepath.Join("/proc", strconv.Itoa(pid), "net", table), port, inodes); err != nil {
			if errors.Is(err, os.ErrNotExist) && table == "tcp6" {
				continue // no IPv6 on this machine
			}
			return false, err
		}
	}
	if len(inodes) == 0 {
		return false, nil
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return false, err
	}
	for _, p := range procs {
		other, err := strconv.Atoi(p.Name())
		if err != nil || processGroup(other) != pid {
			continue
		}
		fds, err := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		if err != nil {
			continue // exited meanwhile
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name()))
			if err != nil {
				continue
			}
			if inode, ok := strings.CutPrefix(link, "socket:["); ok && inodes[strings.TrimSuffix(inode, "]")] {
				return true, nil
			}
		}
	}
	return false, nil
}

// listeningInodes adds the socket inodes listening on port in a
// /proc/net/tcp-style table to inodes.
func listeningInodes(path string, port int, inodes map[string]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	const listen = "0A"
	wantPort := fmt.Sprintf(":%04X", port)
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != listen || !strings.HasSuffix(f[1], wantPort) {
			continue
		}
		inodes[f[9]] = true
	}
	return sc.Err()
}

// processGroup returns the process group of pid, or -1.
func processGroup(pid int) int {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return -1
	}
	// "pid (comm) state ppid pgrp …"; comm may contain spaces and parens.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 3 {
		return -1
	}
	pgrp, err := strconv.Atoi(f[2])
	if err != nil {
		return -1
	}
	return pgrp
}
