package e2e_test

import "syscall"

// dieWithParent makes the kernel send sig to the child when the test
// process dies, so that no daemon outlives a killed test run.
func dieWithParent(sig syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: sig}
}
