//go:build !linux

package attack

import (
	"errors"
	"net/netip"
)

func openRaw() (int, error) { return -1, ErrSpoofNotPermitted }

func sendRaw(int, netip.AddrPort, []byte) error { return errors.ErrUnsupported }

func closeRaw(int) error { return nil }
