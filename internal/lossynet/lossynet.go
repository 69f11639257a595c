// Package lossynet makes a lossy network of a process's own: a network
// namespace with its loopback up, where nftables drops a share of the UDP
// datagrams to a range of ports (the gossip ports; the clients' and the
// pages' traffic is left alone), counting them all and those dropped. Nodes
// run inside it through ip netns exec; the calling process reaches their
// pages, on the namespace's own loopback, through Dial or HTTPClient.
//
// Making a namespace needs root, ip (iproute2) and nft (nftables): see
// Unavailable.
package lossynet

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Unavailable says why this process cannot make a namespace (not root, ip
// or nft not installed), or "" if it can.
func Unavailable() string {
	var why []string
	if os.Geteuid() != 0 {
		why = append(why, "not root")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			why = append(why, tool+" not installed")
		}
	}
	return strings.Join(why, ", ")
}

// Netns is a lossy network namespace.
type Netns struct {
	// Name is the namespace's name, for ip netns exec (proctest.Node's
	// Netns).
	Name string
}

// New makes a namespace named prefix followed by the process's PID, with
// loopback up, where nftables drops the share loss (0 to 1, in steps of
// 0.001) of the UDP datagrams to ports lo to hi. The caller deletes it
// (Delete), after the processes it ran inside have ended; if New fails, no
// namespace is left.
func New(prefix string, lo, hi int, loss float64) (*Netns, error) {
	n := &Netns{Name: prefix + strconv.Itoa(os.Getpid())}
	if err := run("", "ip", "netns", "add", n.Name); err != nil {
		return nil, err
	}
	if err := run("", "ip", "-n", n.Name, "link", "set", "lo", "up"); err != nil {
		n.Delete()
		return nil, err
	}
	if err := run(rules(lo, hi, loss), "ip", "netns", "exec", n.Name, "nft", "-f", "-"); err != nil {
		n.Delete()
		return nil, err
	}
	return n, nil
}

// rules is the loss table: the first rule counts every datagram to the
// ports, the second drops the share loss of them, counting those.
func rules(lo, hi int, loss float64) string {
	return fmt.Sprintf(`table inet peerster {
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport %d-%d counter
		udp dport %d-%d numgen random mod 1000 < %d counter drop
	}
}
`, lo, hi, lo, hi, int(loss*1000+0.5))
}

func run(stdin string, argv ...string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, out)
	}
	return nil
}

// Delete deletes the namespace.
func (n *Netns) Delete() error {
	return run("", "ip", "netns", "delete", n.Name)
}

var counterRE = regexp.MustCompile(`counter packets (\d+)`)

// Counters reads the loss table's two counters: the datagrams to the ports
// since New, and those of them dropped.
func (n *Netns) Counters() (total, dropped int64, err error) {
	argv := []string{"ip", "netns", "exec", n.Name, "nft", "list", "table", "inet", "peerster"}
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, out)
	}
	return parseCounters(string(out))
}

func parseCounters(listing string) (total, dropped int64, err error) {
	m := counterRE.FindAllStringSubmatch(listing, -1)
	if len(m) != 2 {
		return 0, 0, fmt.Errorf("expected two counters in:\n%s", listing)
	}
	total, _ = strconv.ParseInt(m[0][1], 10, 64)
	dropped, _ = strconv.ParseInt(m[1][1], 10, 64)
	return total, dropped, nil
}

// HTTPClient returns a client whose connections are made inside the
// namespace (see Dial), one per request, with a 5 s timeout.
func (n *Netns) HTTPClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext:       n.Dial,
	}}
}

// Dial dials addr from inside the namespace, where a node's page listens
// on the namespace's own loopback, out of the process's reach otherwise.
func (n *Netns) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := n.do(func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// do runs f on a thread inside the namespace: a socket belongs to the
// namespace of the thread that made it, and stays there wherever it is
// used later. A goroutine locked to its thread moves the thread into the
// namespace, runs f, and exits still locked, so the runtime ends the
// thread rather than let other goroutines run in the namespace.
func (n *Netns) do(f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		ns, err := os.Open(filepath.Join("/run/netns", n.Name))
		if err != nil {
			done <- err
			return
		}
		defer ns.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("setns %s: %w", n.Name, err)
			return
		}
		done <- f()
	}()
	return <-done
}
