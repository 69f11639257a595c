package main

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// chatLoop is the honest chat the attacks must not stop: two nodes each
// post a message every period through their UI port, and the other node
// should print it.
type chatLoop struct {
	nodes  [2]*attackNode
	prefix string
	period time.Duration

	mu    sync.Mutex
	posts []chatPost
	err   error

	stop, done chan struct{}
}

type chatPost struct {
	from int // index in nodes
	text string
	at   time.Time
}

// startChatLoop starts posting and waits until a message of each node has
// reached the other, so that the attack meets a chat already flowing.
func startChatLoop(a, b *attackNode, prefix string, period, warmup time.Duration) (*chatLoop, error) {
	c := &chatLoop{nodes: [2]*attackNode{a, b}, prefix: prefix, period: period,
		stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	deadline := time.Now().Add(warmup)
	for !c.flowing() {
		if time.Now().After(deadline) {
			c.halt()
			return nil, fmt.Errorf("the honest chat between %s and %s did not start within %v", a.name, b.name, warmup)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return c, nil
}

func (c *chatLoop) run() {
	defer close(c.done)
	tick := time.NewTicker(c.period)
	defer tick.Stop()
	for k := 1; ; k++ {
		for i, nd := range c.nodes {
			text := c.prefix + nd.name + "-" + strconv.Itoa(k)
			at := time.Now()
			err := nd.postChat(text)
			c.mu.Lock()
			c.posts = append(c.posts, chatPost{from: i, text: text, at: at})
			if err != nil && c.err == nil {
				c.err = err
			}
			c.mu.Unlock()
		}
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
	}
}

// halt stops posting.
func (c *chatLoop) halt() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
}

func (c *chatLoop) flowing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	var got [2]bool
	for _, p := range c.posts {
		if _, ok := c.nodes[1-p.from].out.printed(p.text); ok {
			got[p.from] = true
		}
	}
	return got[0] && got[1]
}

// chatTally is how many of the messages posted in a span reached the other
// node within the deadline.
type chatTally struct{ delivered, posted int }

func (t chatTally) String() string {
	if t.posted == 0 {
		return "-"
	}
	return strconv.Itoa(t.delivered) + "/" + strconv.Itoa(t.posted)
}

// tally counts the posts made in [from, to) and those of them that the
// other node printed within deadline of the post.
func (c *chatLoop) tally(from, to time.Time, deadline time.Duration) chatTally {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t chatTally
	for _, p := range c.posts {
		if p.at.Before(from) || !p.at.Before(to) {
			continue
		}
		t.posted++
		if at, ok := c.nodes[1-p.from].out.printed(p.text); ok && at.Sub(p.at) <= deadline {
			t.delivered++
		}
	}
	return t
}

// delays are, for node i's posts made in [from, to), the time until the
// other node printed each, sorted; lost counts those it never printed.
func (c *chatLoop) delays(i int, from, to time.Time) (ds []time.Duration, lost int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.posts {
		if p.from != i || p.at.Before(from) || !p.at.Before(to) {
			continue
		}
		if at, ok := c.nodes[1-i].out.printed(p.text); ok {
			ds = append(ds, at.Sub(p.at))
		} else {
			lost++
		}
	}
	slices.Sort(ds)
	return ds, lost
}

// postErr is the first error a post met, if any: a UI port that refused
// it (the node had exited) makes the chat figures meaningless.
func (c *chatLoop) postErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
