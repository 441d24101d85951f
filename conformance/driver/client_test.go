package driver

import (
	"errors"
	"net"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance/dial"
)

// TestReadLineReset: a server that closes while bytes of the client's are
// unread makes the kernel send a reset, not an end of stream. readLine
// reports it as the server's close all the same.
func TestReadLineReset(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	connected := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		<-connected
		// SO_LINGER 0 makes the close a reset, as unread bytes do.
		conn.(*net.TCPConn).SetLinger(0)
		served <- conn.Close()
	}()
	c, err := connect(dial.Dialer{}, ln.Addr().String(), "a", time.Second)
	close(connected)
	if err != nil {
		t.Fatal(err)
	}
	defer c.conn.Close()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	_, err = c.readLine(time.Second)
	if !errors.Is(err, errEOF) || err.Error() != "connection closed by the server (reset)" {
		t.Fatalf("got %v, want the server's close by a reset", err)
	}
}
