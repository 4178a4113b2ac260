//go:build unix

package journald

import (
	"os"
	"os/exec"
	"syscall"
)

// ownGroup puts journalctl in a process group of its own, so that kill
// reaches anything it started (a wrapper script's children hold the
// output pipe open too), and so that a terminal's Ctrl-C reaches only the
// daemon, which then stops journalctl itself.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// kill ends journalctl's process group. Errors mean it is already gone.
func kill(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}
