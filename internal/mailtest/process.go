package mailtest

import (
	"bytes"
	"os/exec"
	"syscall"
	"time"
)

// Process is a server process started in a process group of its own, so
// that Stop can kill it together with its children.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	out    bytes.Buffer // read only after exited is closed
}

// StartProcess starts cmd, collecting its standard output and error for
// Output. cmd must not have been started, nor have Stdout, Stderr or
// SysProcAttr set.
func StartProcess(cmd *exec.Cmd) (*Process, error) {
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	cmd.Stdout = &p.out
	cmd.Stderr = &p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group, so Stop can kill stragglers as a group
		// and a ^C on the terminal reaches the test, not the server first.
		Setpgid: true,
		// If the test binary dies, do not leave a server holding ports
		// or /dev/log. The kernel clears it when a process switches user
		// (as Cyrus's master does), so there it covers only the start-up;
		// Stop is what ends the server.
		Pdeathsig: syscall.SIGTERM,
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = cmd.Wait() // the exit status is reported through the output and the log
		close(p.exited)
	}()
	return p, nil
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Output waits for the process to exit and returns what it wrote to its
// standard output and error.
func (p *Process) Output() string {
	<-p.exited
	return p.out.String()
}

// Stop sends SIGTERM and waits for the process to exit; after grace it
// kills the whole process group, since children of a killed server would
// otherwise linger, and reports that it had to. Stopping an exited process
// does nothing.
func (p *Process) Stop(grace time.Duration) (killed bool) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return false
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		return true
	}
}
