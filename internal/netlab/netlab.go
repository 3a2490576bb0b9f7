//go:build linux

// Package netlab builds impaired network links for tests, from what a stock
// kernel has (no netem): two network namespaces joined by a veth pair, the
// rate limited with tbf, random loss from an htb class fed by a classic-BPF
// filter that picks a share of packets at random, and delay and jitter from
// a userspace forwarder. It needs root and iproute2; New says why it cannot
// run otherwise. It is test support; no production package imports it.
package netlab

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
)

// Lab is two namespaces, A and B, joined by a veth pair: AddrA in A, AddrB in
// B. What A sends toward B (the downlink of a client in B) is shaped.
type Lab struct {
	A, B         string // namespace names
	AddrA, AddrB string
	devA         string
}

var labSeq atomic.Int32

// New makes the namespaces and the veth pair. The error says why a lab
// cannot be built here (not root, no ip command); tests skip on it.
func New() (*Lab, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("netlab needs root (network namespaces, tc)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, errors.New("netlab needs iproute2 (ip, tc)")
	}
	n := labSeq.Add(1)
	id := fmt.Sprintf("%d%d", os.Getpid()%100000, n)
	l := &Lab{
		A: "yzA" + id, B: "yzB" + id,
		AddrA: fmt.Sprintf("10.213.%d.1", n%250), AddrB: fmt.Sprintf("10.213.%d.2", n%250),
		devA: "yzva" + id,
	}
	devB := "yzvb" + id
	steps := [][]string{
		{"ip", "netns", "add", l.A},
		{"ip", "netns", "add", l.B},
		{"ip", "link", "add", l.devA, "type", "veth", "peer", "name", devB},
		{"ip", "link", "set", l.devA, "netns", l.A},
		{"ip", "link", "set", devB, "netns", l.B},
		{"ip", "-n", l.A, "addr", "add", l.AddrA + "/24", "dev", l.devA},
		{"ip", "-n", l.B, "addr", "add", l.AddrB + "/24", "dev", devB},
		{"ip", "-n", l.A, "link", "set", l.devA, "up"},
		{"ip", "-n", l.B, "link", "set", devB, "up"},
		{"ip", "-n", l.A, "link", "set", "lo", "up"},
		{"ip", "-n", l.B, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := run(s...); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, l.Shape(0, 0)
}

// Close removes the namespaces (and with them the veth pair).
func (l *Lab) Close() {
	_ = run("ip", "netns", "del", l.A)
	_ = run("ip", "netns", "del", l.B)
}

// Shape sets the A-to-B link: rateKbit (0 = unlimited) and a random loss
// share (0..1). It replaces the previous shape at once.
func (l *Lab) Shape(rateKbit int, loss float64) error {
	_ = run("tc", "-n", l.A, "qdisc", "del", "dev", l.devA, "root")
	steps := [][]string{
		{"tc", "-n", l.A, "qdisc", "add", "dev", l.devA, "root", "handle", "1:", "htb", "default", "10", "r2q", "100000"},
		{"tc", "-n", l.A, "class", "add", "dev", l.devA, "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit"},
		{"tc", "-n", l.A, "class", "add", "dev", l.devA, "parent", "1:", "classid", "1:20", "htb", "rate", "10gbit"},
		// class 1:20 is the loss: a queue that holds nothing
		{"tc", "-n", l.A, "qdisc", "add", "dev", l.devA, "parent", "1:20", "handle", "20:", "pfifo", "limit", "0"},
	}
	if rateKbit > 0 {
		// A radio link's buffer: about 100 ms at the rate before it drops.
		burst := max(1600, rateKbit*1000/8/50)
		steps = append(steps, []string{"tc", "-n", l.A, "qdisc", "add", "dev", l.devA, "parent", "1:10", "handle", "10:", "tbf",
			"rate", fmt.Sprintf("%dkbit", rateKbit), "burst", fmt.Sprint(burst), "latency", "100ms"})
	}
	if loss > 0 {
		steps = append(steps, []string{"tc", "-n", l.A, "filter", "add", "dev", l.devA, "parent", "1:", "protocol", "ip", "prio", "1",
			"bpf", "bytecode", lossBPF(loss), "classid", "1:20"})
	}
	for _, s := range steps {
		if err := run(s...); err != nil {
			return err
		}
	}
	return nil
}

// lossBPF is a classic-BPF program (cls_bpf) that sends a share of packets
// to the dropping class: load a random u32 (the kernel's ancillary
// SKF_AD_RANDOM), and above the threshold return -1 (the filter's classid),
// else 0 (no match, default class).
func lossBPF(share float64) string {
	const (
		ldAbsW   = 0x20 // BPF_LD | BPF_W | BPF_ABS
		jgtK     = 0x25 // BPF_JMP | BPF_JGT | BPF_K
		retK     = 0x06 // BPF_RET | BPF_K
		adRandom = 0xfffff000 + 56
	)
	threshold := uint32(math.Min((1-share)*4294967296, 4294967295))
	prog := [][4]uint64{
		{ldAbsW, 0, 0, adRandom},
		{jgtK, 0, 1, uint64(threshold)},
		{retK, 0, 0, 0xffffffff},
		{retK, 0, 0, 0},
	}
	parts := []string{fmt.Sprint(len(prog))}
	for _, in := range prog {
		parts = append(parts, fmt.Sprintf("%d %d %d %d", in[0], in[1], in[2], in[3]))
	}
	return strings.Join(parts, ",")
}

func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// In runs f on a thread moved into namespace ns: sockets f opens live there
// for good, whoever uses them later. The thread is thrown away afterwards.
func In(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		fd, err := syscall.Open("/var/run/netns/"+ns, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open netns %s: %w", ns, err)
			return
		}
		defer syscall.Close(fd)
		if _, _, e := syscall.RawSyscall(sysSetns, uintptr(fd), syscall.CLONE_NEWNET, 0); e != 0 {
			errc <- fmt.Errorf("setns %s: %w", ns, e)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// Command runs name with args inside namespace ns (ip netns exec).
func Command(ns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}
