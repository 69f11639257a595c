package gossiper

import "time"

// bucket is a token bucket: a source may send rate packets a second, and a
// burst of twice that.
type bucket struct {
	tokens float64
	last   time.Time
}

type rateLimiter struct {
	rate    float64
	buckets map[string]*bucket
}

func newRateLimiter(rate float64) *rateLimiter {
	return &rateLimiter{rate: rate, buckets: map[string]*bucket{}}
}

func newBucket(rate float64, now time.Time) *bucket {
	return &bucket{tokens: 2 * rate, last: now}
}

// take takes n tokens, if the bucket has them, refilling it at rate first.
func (b *bucket) take(n, rate float64, now time.Time) bool {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(2*rate, b.tokens+d.Seconds()*rate)
		b.last = now
	}
	if b.tokens < n {
		return false
	}
	b.tokens -= n
	return true
}

// allow takes a token from source's bucket, if it has one.
func (l *rateLimiter) allow(source string, now time.Time) bool {
	if l.rate <= 0 {
		return true
	}
	b := l.buckets[source]
	if b == nil {
		if len(l.buckets) >= maxSources {
			l.evict(now)
		}
		b = newBucket(l.rate, now)
		l.buckets[source] = b
	}
	return b.take(1, l.rate, now)
}

// evict forgets the sources whose buckets are full again (they have been
// quiet long enough to be indistinguishable from new), or one of the others
// when none is.
func (l *rateLimiter) evict(now time.Time) {
	for s, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= 2*l.rate {
			delete(l.buckets, s)
		}
	}
	for s := range l.buckets {
		if len(l.buckets) < maxSources {
			break
		}
		delete(l.buckets, s)
	}
}
