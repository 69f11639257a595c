package gossiper

import "github.com/peerster/Peerster/internal/stdoutline"

// peerList keeps peers in the order they were learned, which is the order
// the PEERS line prints them in.
type peerList struct {
	addrs     []string
	known     map[string]bool
	bootstrap map[string]bool
	max       int
	// printed caches the PEERS line, which every packet prints and which
	// runs to 16 KB with a full list.
	printed string
}

func newPeerList(max int) *peerList {
	return &peerList{known: map[string]bool{}, bootstrap: map[string]bool{}, max: max}
}

// add learns addr; it reports whether addr is new. When the list is full, the
// oldest learned peer that was not given at start makes room.
func (p *peerList) add(addr string, bootstrap bool) bool {
	if p.known[addr] {
		return false
	}
	if p.max > 0 && len(p.addrs) >= p.max {
		i := 0
		for i < len(p.addrs) && p.bootstrap[p.addrs[i]] {
			i++
		}
		if i == len(p.addrs) {
			return false
		}
		delete(p.known, p.addrs[i])
		p.addrs = append(p.addrs[:i], p.addrs[i+1:]...)
	}
	p.addrs = append(p.addrs, addr)
	p.known[addr] = true
	p.printed = ""
	if bootstrap {
		p.bootstrap[addr] = true
	}
	return true
}

func (p *peerList) has(addr string) bool { return p.known[addr] }

func (p *peerList) len() int { return len(p.addrs) }

func (p *peerList) line() string {
	if p.printed == "" {
		p.printed = stdoutline.Peers{Addrs: p.addrs}.String()
	}
	return p.printed
}

func (p *peerList) list() []string { return append([]string(nil), p.addrs...) }
