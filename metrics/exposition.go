package metrics

import (
	"math"
	"strconv"
	"strings"
)

// ContentType is the media type of the Prometheus text format, version
// 0.0.4, that Handler writes.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Metric types, as the TYPE line names them.
const (
	counterType = "counter"
	gaugeType   = "gauge"
	summaryType = "summary"
)

// exposition builds a page in the Prometheus text format: for each family a
// HELP line, a TYPE line, then its samples, one a line:
//
//	# HELP name help text
//	# TYPE name counter
//	name{label="value"} 42
//
// Every sample of a family must follow that family's TYPE line, with no
// other family in between; the methods below keep to that when they are
// called family by family.
type exposition struct {
	b []byte
}

// family starts the family name: its HELP and TYPE lines.
func (e *exposition) family(name, typ, help string) {
	e.b = append(e.b, "# HELP "...)
	e.b = append(e.b, name...)
	e.b = append(e.b, ' ')
	e.b = append(e.b, escapeHelp(help)...)
	e.b = append(e.b, "\n# TYPE "...)
	e.b = append(e.b, name...)
	e.b = append(e.b, ' ')
	e.b = append(e.b, typ...)
	e.b = append(e.b, '\n')
}

// sample writes one line: name, its labels given as name, value, name,
// value..., and v.
func (e *exposition) sample(name string, v float64, labels ...string) {
	e.b = append(e.b, name...)
	if len(labels) > 0 {
		e.b = append(e.b, '{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = append(e.b, labels[i]...)
			e.b = append(e.b, `="`...)
			e.b = append(e.b, escapeLabel(labels[i+1])...)
			e.b = append(e.b, '"')
		}
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, ' ')
	e.b = appendValue(e.b, v)
	e.b = append(e.b, '\n')
}

// counter writes a family of one unlabelled counter.
func (e *exposition) counter(name, help string, v float64) {
	e.family(name, counterType, help)
	e.sample(name, v)
}

// gauge writes a family of one unlabelled gauge.
func (e *exposition) gauge(name, help string, v float64) {
	e.family(name, gaugeType, help)
	e.sample(name, v)
}

// appendValue writes v as the format wants it: a Go float, or NaN, +Inf,
// -Inf. Whole numbers are written in full (1523000, not 1.523e+06) while
// they are exact, for people reading the page.
func appendValue(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case v == math.Trunc(v) && math.Abs(v) < 1<<53:
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// escapeLabel escapes a label value: backslash, double quote and line feed.
func escapeLabel(s string) string { return escape(s, true) }

// escapeHelp escapes a HELP text: backslash and line feed.
func escapeHelp(s string) string { return escape(s, false) }

// escape is written out rather than a strings.Replacer in a package
// variable, which would be built at start-up for every run of the node.
func escape(s string, quote bool) string {
	if !strings.ContainsAny(s, "\\\n\"") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '"' && quote:
			b.WriteString(`\"`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
