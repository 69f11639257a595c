package gossiper

import "time"

// bucket is a token bucket: it fills at a rate a second, up to twice the
// rate.
type bucket struct {
	tokens float64
	last   time.Time
}

// fill adds what the time since the last fill earned. A bucket that was
// never filled starts full.
func (b *bucket) fill(rate float64, now time.Time) {
	if b.last.IsZero() {
		b.tokens, b.last = 2*rate, now
		return
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(2*rate, b.tokens+d.Seconds()*rate)
		b.last = now
	}
}

// take takes n tokens, if the bucket has them.
func (b *bucket) take(n, rate float64, now time.Time) bool {
	b.fill(rate, now)
	if b.tokens < n {
		return false
	}
	b.tokens -= n
	return true
}

// available reports whether the bucket has n tokens, taking none.
func (b *bucket) available(n, rate float64, now time.Time) bool {
	b.fill(rate, now)
	return b.tokens >= n
}
