package impl

import (
	"net"
	"sync"
	"syscall"
	"unsafe"
)

// A vectored write (writev) sends several lines with one system call and
// no copy. A writer whose socket is a plain one uses it (client.write):
// under a burst, a member's queue holds room messages in a few long
// entries (the room's buffers, shared by every member: rooms.go), and
// copying them into one buffer first, as the writer otherwise does, was a
// twentieth of the server's CPU flat out.
//
// The iovec array is the writer's own, from a pool, not the socket's: Go's
// net.Buffers would leave the socket holding the largest array it was
// ever given for the rest of the connection. Short lines are still copied
// together, into a buffer of the vecWriter, so that a queue of many small
// lines (the JOIN notes of a busy room) costs one iovec, not one each.
const (
	maxIovecs   = 64       // iovecs of one writev
	vecMinLine  = 512      // a line shorter than this is copied with its neighbours
	gatherBytes = 16 << 10 // the buffer those are copied into
)

// vecWriter builds and makes one writev at a time, for one writer.
type vecWriter struct {
	iov        []syscall.Iovec
	gather     []byte
	lastGather bool // the last iovec ends at the end of gather
	n          int  // written by the last call of do
	err        error
	do         func(fd uintptr) bool
}

var vecWriters = sync.Pool{New: func() any {
	v := &vecWriter{iov: make([]syscall.Iovec, 0, maxIovecs), gather: make([]byte, 0, gatherBytes)}
	v.do = v.write
	return v
}}

// load points the iovecs at the first lines of batch, as many as fit in
// maxIovecs and, for short lines, gatherBytes.
func (v *vecWriter) load(batch net.Buffers) {
	v.iov, v.gather, v.lastGather = v.iov[:0], v.gather[:0], false
	for _, p := range batch {
		switch {
		case len(p) == 0:
			continue
		case len(p) >= vecMinLine:
			v.iov = append(v.iov, iovec(p))
			v.lastGather = false
		case cap(v.gather)-len(v.gather) < len(p):
			return // the gather buffer is full: the rest in the next writev
		default:
			start := len(v.gather)
			v.gather = append(v.gather, p...) // within its capacity: earlier iovecs stay valid
			if v.lastGather {
				last := &v.iov[len(v.iov)-1]
				last.SetLen(int(last.Len) + len(p))
				continue
			}
			v.iov = append(v.iov, iovec(v.gather[start:]))
			v.lastGather = true
		}
		if len(v.iov) == maxIovecs {
			return
		}
	}
}

// iovec returns an iovec for p, which is not empty.
func iovec(p []byte) syscall.Iovec {
	iov := syscall.Iovec{Base: &p[0]}
	iov.SetLen(len(p))
	return iov
}

// write is a syscall.RawConn.Write callback: one writev of the loaded
// iovecs. A socket that takes nothing now makes the caller wait for it
// (false), until the write deadline.
func (v *vecWriter) write(fd uintptr) bool {
	for {
		n, _, errno := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&v.iov[0])), uintptr(len(v.iov)))
		switch errno {
		case 0:
			v.n = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			v.err = errno
			return true
		}
	}
}

// writeVectored writes the first lines of batch to rc with one writev,
// waiting while the socket takes nothing, up to the write deadline, and
// returns how many bytes went and what is left of batch.
func writeVectored(rc syscall.RawConn, batch net.Buffers) (int, net.Buffers, error) {
	v := vecWriters.Get().(*vecWriter)
	defer func() {
		clear(v.iov) // drop the references to the lines
		v.iov = v.iov[:0]
		vecWriters.Put(v)
	}()
	v.load(batch)
	if len(v.iov) == 0 {
		return 0, nil, nil // only empty lines
	}
	v.n, v.err = 0, nil
	err := rc.Write(v.do)
	if err == nil {
		err = v.err
	}
	return v.n, consume(batch, v.n), err
}

// consume returns batch without its first n bytes.
func consume(batch net.Buffers, n int) net.Buffers {
	for len(batch) > 0 && n >= len(batch[0]) {
		n -= len(batch[0])
		batch = batch[1:]
	}
	if n > 0 {
		batch[0] = batch[0][n:]
	}
	return batch
}

// vectored reports whether c's writer writes with writev.
func (c *client) vectored() bool { return c.raw != nil }
