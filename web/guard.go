package web

import (
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// hostCheck decides which Host headers name the page's own address. A web
// site can point a DNS name it controls at 127.0.0.1 (DNS rebinding) and then
// read the page as same-origin; such requests carry the site's name in Host.
// IP literals cannot be rebound, and neither can localhost.
type hostCheck struct {
	ip        netip.Addr // unspecified when listening on every address
	port      string
	canonical string // the address to tell the user
	ok        bool
}

func newHostCheck(addr string) hostCheck {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return hostCheck{canonical: addr}
	}
	ip := ap.Addr().Unmap()
	return hostCheck{
		ip:        ip,
		port:      strconv.Itoa(int(ap.Port())),
		canonical: netip.AddrPortFrom(ip, ap.Port()).String(),
		ok:        true,
	}
}

func (c hostCheck) allowed(host string) bool {
	if !c.ok {
		return false
	}
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		// Browsers leave out the port when it is the scheme's default.
		name, port = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), "80"
	}
	if port != c.port {
		return false
	}
	if strings.EqualFold(name, "localhost") {
		return c.ip.IsLoopback() || c.ip.IsUnspecified()
	}
	ip, err := netip.ParseAddr(name)
	if err != nil || ip.Zone() != "" {
		return false
	}
	return c.ip.IsUnspecified() || ip.Unmap() == c.ip
}

// crossSite says why a request may come from another site's page, or
// returns "". Every path is covered, reads too: a cross-site <img> or
// <script> cannot read the answer, but it makes the node build it, and a
// page can ask for it as often as it likes. Scripts such as curl send
// neither Sec-Fetch-Site nor Origin and are not a cross-site threat, so they
// pass; so does a link followed to the page itself (see navigationToPage).
func crossSite(r *http.Request) string {
	if navigationToPage(r) {
		return ""
	}
	// "none" is a URL the user typed or a bookmark. A value this code does
	// not know is refused, as the standard library's CSRF check does.
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return "request comes from a " + site + " page"
	}
	// Browsers that send no Sec-Fetch-Site still send Origin with every
	// POST and every cross-origin fetch; it must be http and this Host,
	// whatever the case of its letters.
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" || !strings.EqualFold(u.Host, r.Host) {
		return "origin " + quote(origin) + " is not this page's origin http://" + r.Host
	}
	return ""
}

// navigationToPage reports whether r opens the page itself in a browser tab,
// as following a link from another site does. The tab then shows the page
// to its user and not to the linking site, and every request the page makes
// from there on is same-origin. Frames are not navigations of a top-level
// document (and the page refuses to be framed), and scripts cannot set
// Sec-Fetch-* headers.
func navigationToPage(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path == "/" &&
		r.Header.Get("Sec-Fetch-Mode") == "navigate" && r.Header.Get("Sec-Fetch-Dest") == "document"
}

// isJSON reports whether the request's Content-Type is application/json. A
// cross-site form cannot send that type without a CORS preflight, which the
// handler never grants.
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// setSecurityHeaders keeps the page's scripts to its own files, and the page
// out of other sites' frames, where a click could be stolen.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
		"connect-src 'self'; img-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	// Whether a request is refused depends on these, so no cache may hand
	// one site the answer given to another.
	h.Set("Vary", "Origin, Sec-Fetch-Site, Sec-Fetch-Mode, Sec-Fetch-Dest")
}

// quote shows a client-supplied string in an error message, escaped and
// cut short so that an error stays readable.
func quote(s string) string {
	const max = 100
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
