package attack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
)

// checkURL refuses any URL whose host is not a loopback IP literal.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	ap, err := netip.ParseAddrPort(u.Host)
	if err != nil {
		return fmt.Errorf("%w: %q is not an ip:port", ErrNotLoopback, u.Host)
	}
	return checkLoopback(ap)
}

// GetCapped GETs rawURL with header and reads at most limit bytes of the
// body: a history a stranger filled can make the answer hundreds of
// megabytes. It returns the status, the bytes read, and whether the body
// went on past limit.
func GetCapped(client *http.Client, rawURL string, header http.Header, limit int64) (status int, n int64, capped bool, err error) {
	resp, err := get(client, rawURL, header)
	if err != nil {
		return 0, 0, false, err
	}
	defer resp.Body.Close()
	n, err = io.Copy(io.Discard, io.LimitReader(resp.Body, limit+1))
	if n > limit {
		return resp.StatusCode, limit, true, nil
	}
	return resp.StatusCode, n, false, err
}

// CrossSiteGET GETs rawURL as a script on another web site would make the
// browser do (Sec-Fetch-Site: cross-site), or, with navigate, as the
// browser does when the user follows a link from another site. It returns
// the status without reading the body.
func CrossSiteGET(client *http.Client, rawURL string, navigate bool) (int, error) {
	h := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Sec-Fetch-Mode": {"cors"}, "Sec-Fetch-Dest": {"empty"},
		"Origin": {"http://127.0.0.2"}}
	if navigate {
		h = http.Header{"Sec-Fetch-Site": {"cross-site"}, "Sec-Fetch-Mode": {"navigate"}, "Sec-Fetch-Dest": {"document"}}
	}
	resp, err := get(client, rawURL, h)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func get(client *http.Client, rawURL string, header http.Header) (*http.Response, error) {
	if err := checkURL(rawURL); err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return client.Do(req)
}

// FirstEvent reads a Server-Sent Events stream until the first event of
// type kind and returns its size in bytes (its lines and the blank line
// that ends it), at most limit; capped says it went on past limit, or the
// stream did before such an event came.
func FirstEvent(client *http.Client, rawURL, kind string, limit int64) (n int64, capped bool, err error) {
	resp, err := get(client, rawURL, nil)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, false, fmt.Errorf("GET %s: %s", rawURL, resp.Status)
	}
	return firstEvent(resp.Body, kind, limit)
}

func firstEvent(r io.Reader, kind string, limit int64) (n int64, capped bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	want := []byte("event: " + kind)
	var size, total int64
	matched, lineStart := false, true
	for {
		chunk, err := br.ReadSlice('\n')
		size += int64(len(chunk))
		total += int64(len(chunk))
		if lineStart {
			line := bytes.TrimRight(chunk, "\r\n")
			switch {
			case len(line) == 0 && len(chunk) > 0: // the blank line that ends an event
				if matched {
					return size, false, nil
				}
				size = 0
			case bytes.Equal(line, want):
				matched = true
			}
		}
		lineStart = err == nil
		if total > limit {
			if matched {
				return limit, true, nil
			}
			return 0, true, nil
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF:
			return 0, false, fmt.Errorf("the stream ended before an event %q", kind)
		case err != nil:
			return 0, false, err
		}
	}
}
