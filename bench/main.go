// Command bench measures Peerster with real processes, the way graders and
// users run it. Run it from the repository:
//
//	go run ./bench startup          # exec to both UDP sockets bound, beside a minimal Go program
//	go run ./bench startup -n 50    # more runs of each
//	go run ./bench traffic          # datagrams per delivery in a ring of 10, until rest
//	go run ./bench throughput -rates 500,1000,2000 -burst 1000
//	go run ./bench attack -only memory-flood,private-loop -gossiper /tmp/peerster-old
//	go run ./bench files -hops 1,3 -loss 0,0.3 -runs 5
//	go run ./bench help startup     # a command's flags
//
// Each command lives in its own file and has one line in commands below.
// Building the binaries (build.go), finding free loopback ports and
// watching sockets (udp.go), summing up samples (stats.go), and rings of
// real gossipers (ring.go, with their stdout read in stdout.go, /metrics
// in metrics.go and CPU time in proc.go) are shared.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// A command is one measurement: run parses its own flags from args, writes
// its report to out and its usage to errOut. An error it returns is
// printed, unless it is a usageErr, whose message is printed already.
type command struct {
	name, summary string
	run           func(args []string, out, errOut io.Writer) error
}

var commands = []command{
	{"startup", "time from exec until a gossiper has bound both UDP sockets, against a minimal Go program", runStartup},
	{"traffic", "datagrams beyond anti-entropy per delivery in a ring of 10 gossipers, until rest", runTraffic},
	{"throughput", "messages a second a ring of 10 gossipers takes, and the time until each reached every node", runThroughput},
	{"attack", "what a stranger who can send UDP to a gossip port makes real gossipers do", runAttack},
	{"files", "time and datagrams to download a file across a line of gossipers, with or without loss", runFiles},
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, out, errOut io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" {
		if len(args) > 1 {
			if c := find(args[1]); c != nil {
				_ = c.run([]string{"-h"}, out, out)
				return 0
			}
		}
		usage(errOut)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c := find(args[0])
	if c == nil {
		fmt.Fprintf(errOut, "bench: no command %q\n", args[0])
		usage(errOut)
		return 2
	}
	err := c.run(args[1:], out, errOut)
	var ue usageErr
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		// The flag package has printed the error and the flags.
		return 2
	}
	fmt.Fprintf(errOut, "bench %s: %v\n", c.name, err)
	return 1
}

// usageErr is a command line a command refuses, having said why.
type usageErr struct{ err error }

func (e usageErr) Error() string { return e.err.Error() }
func (e usageErr) Unwrap() error { return e.err }

func find(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: go run ./bench <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n\"go run ./bench help <command>\" lists a command's flags.")
}
