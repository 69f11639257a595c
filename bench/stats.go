package main

import (
	"slices"
	"time"
)

// summary is what a command reports of a set of timings.
type summary struct {
	n                int
	min, median, max time.Duration
}

func summarize(ds []time.Duration) summary {
	if len(ds) == 0 {
		return summary{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return summary{n: len(s), min: s[0], median: quantile(s, 0.5), max: s[len(s)-1]}
}

// quantile of sorted s, interpolating between the two nearest samples (the
// median of an even count is the mean of the middle two).
func quantile(s []time.Duration, q float64) time.Duration {
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + time.Duration((pos-float64(i))*float64(s[i+1]-s[i]))
}

// medianInt is the median of ns, for counts such as page faults.
func medianInt(ns []int64) int64 {
	if len(ns) == 0 {
		return 0
	}
	s := slices.Clone(ns)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medianFloat is the median of sorted xs.
func medianFloat(xs []float64) float64 {
	switch {
	case len(xs) == 0:
		return 0
	case len(xs)%2 == 1:
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}
