package testkit

import (
	"sync"
	"testing"
	"time"
)

// SlowDisk stands for a node's store on a slow disk, for the tests that
// check that nothing else waits for it. Each Append says on Entered that it
// has begun, then takes the delay, or waits until Release is closed when
// the delay is 0, and keeps what it was given. E is gossiper.Entry: testkit
// cannot import gossiper, whose own tests use it.
type SlowDisk[E any] struct {
	Entered chan struct{}
	Release chan struct{}
	delay   time.Duration

	mu     sync.Mutex
	stored []E
}

func NewSlowDisk[E any](delay time.Duration) *SlowDisk[E] {
	return &SlowDisk[E]{delay: delay, Entered: make(chan struct{}, 1000), Release: make(chan struct{})}
}

func (d *SlowDisk[E]) Append(entries []E) error {
	d.Entered <- struct{}{}
	if d.delay > 0 {
		time.Sleep(d.delay)
	} else {
		<-d.Release
	}
	d.mu.Lock()
	d.stored = append(d.stored, entries...)
	d.mu.Unlock()
	return nil
}

// Stored returns what the Appends that have ended were given, in order.
func (d *SlowDisk[E]) Stored() []E {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]E(nil), d.stored...)
}

// PostBehindTheDisk posts "a", whose Append disk holds, then "b", and
// returns once the node has taken "b", which then waits for "a" to be
// stored. post and changed are the node's Post and Changed; the returned
// channel gets each post's error.
func PostBehindTheDisk[E, P any](tb testing.TB, disk *SlowDisk[E], post func(string) (P, error), changed func() <-chan struct{}) <-chan error {
	tb.Helper()
	posted := make(chan error, 2)
	send := func(text string) {
		_, err := post(text)
		posted <- err
	}
	go send("a")
	Await(tb, disk.Entered, "Append of the first message")
	// Taken before "b" is posted, so that it tells of "b" and not of "a".
	ch := changed()
	go send("b")
	Await(tb, ch, "change for the second message")
	return posted
}

// Quick runs the reads at once and fails tb for each that fails or takes
// 20ms or more, which would mean it waited for the disk. They run together
// so that each is timed while the node's events still wait for the disk.
func Quick(tb testing.TB, reads map[string]func() error) {
	tb.Helper()
	var wg sync.WaitGroup
	for what, read := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			err := read()
			took := time.Since(start)
			tb.Logf("%s took %v", what, took)
			if err != nil {
				tb.Errorf("%s: %v", what, err)
			} else if took >= 20*time.Millisecond {
				tb.Errorf("%s took %v while a write to disk was under way, want under 20ms", what, took)
			}
		}()
	}
	wg.Wait()
}

// Await returns what ch gives, and fails tb if nothing comes within 5s.
func Await[T any](tb testing.TB, ch <-chan T, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		tb.Fatalf("no %s within 5s", what)
	}
	var zero T
	return zero
}
