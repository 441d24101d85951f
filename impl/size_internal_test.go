package impl

import (
	"testing"
	"unsafe"
)

// TestClientSize: the struct of a connection fits the 512-byte size class
// of the allocator. Every connection costs its size class, the idle ones
// in the lobby included, and the next class up is 576 bytes: a field added
// without care, or padding between small fields, would make every
// connection dearer (BENCHMARKS.md, idle connections). Put a new flag with
// the others at the end of client, or move a field used by few
// connections out of it.
func TestClientSize(t *testing.T) {
	const sizeClass = 512
	if n := unsafe.Sizeof(client{}); n > sizeClass {
		t.Fatalf("client is %d bytes, over the %d-byte size class", n, sizeClass)
	}
}
