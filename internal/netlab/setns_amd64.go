//go:build linux && amd64

package netlab

// sysSetns is setns(2); package syscall does not name it.
const sysSetns = 308
