package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// freeUDPPorts returns n distinct UDP ports on 127.0.0.1 that were free a
// moment ago: the kernel picks them, and they are released together.
func freeUDPPorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer c.Close()
		ports = append(ports, c.LocalAddr().(*net.UDPAddr).Port)
	}
	return ports, nil
}

// freeTCPPort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// udpTable reads which UDP ports are bound on IPv4, from /proc/net/udp,
// over and over: it keeps the file open and reads it again from the start,
// which costs one lseek and a few reads (the kernel writes the table anew
// at every read; a few tens of microseconds with a few hundred sockets).
// It sees every process's sockets in this network namespace, so a program
// is watched from outside, the same way whatever it is.
type udpTable struct {
	f   *os.File
	buf []byte
}

func openUDPTable() (*udpTable, error) {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		return nil, fmt.Errorf("bound UDP ports are read from /proc/net/udp, which only Linux has: %w", err)
	}
	return &udpTable{f: f, buf: make([]byte, 0, 64<<10)}, nil
}

func (t *udpTable) Close() error { return t.f.Close() }

// allBound reports whether every one of ports is bound on some IPv4 address.
func (t *udpTable) allBound(ports []int) (bool, error) {
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	t.buf = t.buf[:0]
	for {
		if len(t.buf) == cap(t.buf) {
			t.buf = append(t.buf, 0)[:len(t.buf)]
		}
		n, err := t.f.Read(t.buf[len(t.buf):cap(t.buf)])
		t.buf = t.buf[:len(t.buf)+n]
		if err == io.EOF || n == 0 && err == nil {
			break
		}
		if err != nil {
			return false, err
		}
	}
	found := 0
	var seen [8]bool // ports is short: two here
	eachLocalPort(t.buf, func(p int) {
		for i, want := range ports {
			if p == want && i < len(seen) && !seen[i] {
				seen[i] = true
				found++
			}
		}
	})
	return found == len(ports), nil
}

// eachLocalPort calls fn with each local port in /proc/net/udp (or udp6),
// whose lines after the header read
//
//	sl  local_address rem_address   st ...
//	11904: 0100007F:B3BB 00000000:0000 07 ...
//
// the address in hexadecimal as the kernel holds it, then ':' and the port
// in hexadecimal (0xB3BB = 46011). It allocates nothing, since it runs
// in the loop that watches a process start.
func eachLocalPort(table []byte, fn func(port int)) {
	first := true
	for len(table) > 0 {
		line := table
		if i := bytes.IndexByte(table, '\n'); i >= 0 {
			line, table = table[:i], table[i+1:]
		} else {
			table = nil
		}
		if first { // the header
			first = false
			continue
		}
		// Skip "sl:" and the spaces around it; the local address follows.
		line = bytes.TrimLeft(line, " ")
		i := bytes.IndexByte(line, ' ')
		if i < 0 {
			continue
		}
		line = bytes.TrimLeft(line[i:], " ")
		if i = bytes.IndexByte(line, ' '); i >= 0 {
			line = line[:i]
		}
		colon := bytes.LastIndexByte(line, ':')
		if colon < 0 || len(line)-colon-1 != 4 {
			continue
		}
		port := 0
		for _, c := range line[colon+1:] {
			switch {
			case '0' <= c && c <= '9':
				port = port<<4 | int(c-'0')
			case 'A' <= c && c <= 'F':
				port = port<<4 | int(c-'A'+10)
			case 'a' <= c && c <= 'f':
				port = port<<4 | int(c-'a'+10)
			default:
				port = -1
			}
			if port < 0 {
				break
			}
		}
		if port >= 0 {
			fn(port)
		}
	}
}

// freeTCPPorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago, released together.
func freeTCPPorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// udpDrops reads, from /proc/net/udp, how many datagrams the kernel has
// dropped at each socket bound on one of ports because its receive queue
// was full: the last column of the table. A port with no socket is left
// out.
func udpDrops(ports []int) (map[int]int64, error) {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return nil, err
	}
	return parseUDPDrops(b, ports), nil
}

func parseUDPDrops(table []byte, ports []int) map[int]int64 {
	want := make(map[int]bool, len(ports))
	for _, p := range ports {
		want[p] = true
	}
	drops := make(map[int]int64)
	for i, line := range strings.Split(string(table), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 13 {
			continue // the header, or a short line
		}
		colon := strings.LastIndexByte(f[1], ':')
		port, err := strconv.ParseInt(f[1][colon+1:], 16, 32)
		if colon < 0 || err != nil || !want[int(port)] {
			continue
		}
		if n, err := strconv.ParseInt(f[len(f)-1], 10, 64); err == nil {
			drops[int(port)] += n
		}
	}
	return drops
}
