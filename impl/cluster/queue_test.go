package cluster

import (
	"fmt"
	"runtime"
	"testing"
)

func TestQueueBounds(t *testing.T) {
	q := newQueue(3, 10)
	for i, c := range []struct {
		data string
		ok   bool
	}{
		{"0123456789abc", true}, // larger than the byte bound, but alone
		{"x", false},            // bytes full
	} {
		if got := q.push([]byte(c.data)); got != c.ok {
			t.Fatalf("push %d: %v", i, got)
		}
	}
	if d, _ := q.take(); string(d) != "0123456789abc" {
		t.Fatalf("take %q", d)
	}
	for i := range 3 {
		if !q.push([]byte{byte('0' + i)}) {
			t.Fatalf("push %d refused", i)
		}
	}
	if q.push([]byte("x")) {
		t.Fatal("push past the item bound")
	}
	if q.len() != 3 {
		t.Fatalf("len %d", q.len())
	}
	for i := range 3 {
		if d, ok := q.take(); !ok || string(d) != fmt.Sprint(i) {
			t.Fatalf("take %d: %q, %v", i, d, ok)
		}
	}
	q.push([]byte("dropped"))
	q.close()
	if q.push([]byte("x")) {
		t.Fatal("push after close")
	}
	if _, ok := q.take(); ok {
		t.Fatal("take after close")
	}
}

// TestQueueTakeWaits pushes while another goroutine takes: everything
// comes out once, in order.
func TestQueueTakeWaits(t *testing.T) {
	q := newQueue(8, 1<<20)
	done := make(chan []string)
	go func() {
		var got []string
		for {
			d, ok := q.take()
			if !ok || string(d) == "end" {
				done <- got
				return
			}
			got = append(got, string(d))
		}
	}()
	const n = 1000
	for i := range n {
		for !q.push(fmt.Append(nil, i)) {
			runtime.Gosched() // full: let the taker catch up
		}
	}
	for !q.push([]byte("end")) {
		runtime.Gosched()
	}
	got := <-done
	if len(got) != n {
		t.Fatalf("took %d items, want %d", len(got), n)
	}
	for i, d := range got {
		if d != fmt.Sprint(i) {
			t.Fatalf("item %d is %q", i, d)
		}
	}
	q.close()
}
