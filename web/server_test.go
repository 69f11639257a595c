package web

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConnectionCap fills the page's server with connections that send
// nothing: the next request waits until one of them ends.
func TestConnectionCap(t *testing.T) {
	s := startPage(t, newFakeNode("A"))
	var held []net.Conn
	for range maxConns {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		held = append(held, c)
	}
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 300 * time.Millisecond}
	if res, err := client.Get(s.URL() + "/id"); err == nil {
		res.Body.Close()
		t.Fatalf("with %d connections open, another request was answered %s", maxConns, res.Status)
	}
	held[0].Close()
	client.Timeout = 5 * time.Second
	res, err := client.Get(s.URL() + "/id")
	if err != nil {
		t.Fatalf("once a connection ended: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("once a connection ended: %s", res.Status)
	}
}

// TestLimitListener checks that a connection closed twice gives its place
// back once, and that closing the listener ends an Accept waiting for a
// place, which the server's shutdown needs.
func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := limitListener(inner, 1)
	t.Cleanup(func() { ln.Close() })
	dial := func() {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	dial()
	dial()
	dial()
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	first.Close()
	second, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	select {
	case err := <-accepted:
		t.Fatalf("a third connection was accepted (%v) while the one place was taken", err)
	case <-time.After(100 * time.Millisecond):
	}
	ln.Close()
	select {
	case err := <-accepted:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still waits after Close")
	}
	second.Close()
}

// TestHeaderTooLarge checks that the server reads no more than
// maxHeaderBytes of a request's header.
func TestHeaderTooLarge(t *testing.T) {
	s := startPage(t, newFakeNode("A"))
	req, _ := http.NewRequest("GET", s.URL()+"/id", nil)
	req.Header.Set("X-Filler", strings.Repeat("x", 4*maxHeaderBytes))
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("header of %d bytes: %s, want 431", 4*maxHeaderBytes, res.Status)
	}
}
