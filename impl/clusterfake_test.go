package impl

import (
	"slices"
	"sync"
	"time"

	"roomchat.dev/roomchat/impl/cluster"
)

// fakeHub is a log in memory, shared by the fake links of the nodes of a
// test cluster: what NATS and JetStream are to a real one. Entries are
// numbered in the order they are published and delivered to every link,
// those that join later included, from the first.
type fakeHub struct {
	mu    sync.Mutex
	log   []cluster.Entry
	links []*fakeLink
}

// fakeLink is one node's link to a fakeHub.
type fakeLink struct {
	hub     *fakeHub
	node    string
	entries chan cluster.Entry
	dead    chan string
	up      chan bool
	cut     bool // the node is cut off: it publishes and receives nothing
	got     int  // how many entries of the log it was given
}

// fakeBacklog bounds the entries a test's node may be behind by.
const fakeBacklog = 1 << 16

func (h *fakeHub) link(node string) *fakeLink {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := &fakeLink{hub: h, node: node, entries: make(chan cluster.Entry, fakeBacklog),
		dead: make(chan string, 16), up: make(chan bool, 4)}
	for _, e := range h.log {
		f.entries <- e
	}
	f.got = len(h.log)
	h.links = append(h.links, f)
	return f
}

func (f *fakeLink) Node() string                  { return f.node }
func (f *fakeLink) Entries() <-chan cluster.Entry { return f.entries }
func (f *fakeLink) Dead() <-chan string           { return f.dead }
func (f *fakeLink) Up() <-chan bool               { return f.up }
func (f *fakeLink) Errors() <-chan error          { return nil }

func (f *fakeLink) TryPublish(data []byte) bool {
	h := f.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if f.cut {
		return true // taken, and lost with the node
	}
	e := cluster.Entry{Seq: uint64(len(h.log) + 1), Node: f.node, Data: slices.Clone(data)}
	h.log = append(h.log, e)
	for _, l := range h.links {
		if !l.cut {
			l.entries <- e
			l.got++
		}
	}
	return true
}

// Flush has nothing to wait for: TryPublish stores at once.
func (f *fakeLink) Flush(time.Duration) bool { return true }

func (f *fakeLink) Close() error {
	h := f.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.links = slices.DeleteFunc(h.links, func(l *fakeLink) bool { return l == f })
	return nil
}

// kill cuts node off, as a crash would, and tells every other node that
// its heartbeats stopped.
func (h *fakeHub) kill(node string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range h.links {
		if l.node == node {
			l.cut = true
		}
	}
	for _, l := range h.links {
		if l.node != node {
			l.dead <- node
		}
	}
}

// revive ends what kill did, as for a node that was paused rather than
// dead: it is given the entries it missed, and publishes again. Its
// heartbeats stopped for the others while it was away, so it tells the
// node that the others' stopped too, as a paused process finds on waking.
func (h *fakeHub) revive(node string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range h.links {
		if l.node != node {
			continue
		}
		l.cut = false
		for _, e := range h.log[l.got:] {
			l.entries <- e
		}
		l.got = len(h.log)
		for _, o := range h.links {
			if o.node != node {
				l.dead <- o.node
			}
		}
	}
}
