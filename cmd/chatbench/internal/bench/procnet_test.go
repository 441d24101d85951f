package bench

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// procHex formats a as /proc/net/tcp does: each 32-bit word of the IP as a
// number in host byte order.
func procHex(a netip.AddrPort) string {
	ip := a.Addr().AsSlice()
	var b strings.Builder
	for i := 0; i < len(ip); i += 4 {
		fmt.Fprintf(&b, "%08X", binary.NativeEndian.Uint32(ip[i:]))
	}
	return fmt.Sprintf("%s:%04X", b.String(), a.Port())
}

func TestParseSockQueues(t *testing.T) {
	srv := netip.MustParseAddrPort("127.0.0.1:9999")
	cl := netip.MustParseAddrPort("127.0.0.1:45535")
	cl2 := netip.MustParseAddrPort("127.0.0.1:45536")
	v6srv := netip.MustParseAddrPort("[::1]:9999")
	v6cl := netip.MustParseAddrPort("[::1]:40000")
	mapped := netip.AddrPortFrom(netip.AddrFrom16(srv.Addr().As16()), srv.Port()) // ::ffff:127.0.0.1
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 && procHex(srv) != "0100007F:270F" {
		t.Fatalf("procHex(%v) = %s on a little-endian host", srv, procHex(srv))
	}
	table := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		fmt.Sprintf("   0: %s 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1\n", procHex(srv)) +
		fmt.Sprintf("   1: %s %s 01 00012000:00000000 01:00000014 00000000  1000 0 2\n", procHex(srv), procHex(cl)) +
		fmt.Sprintf("   2: %s %s 01 00000000:00001FA0 00:00000000 00000000  1000 0 3\n", procHex(cl), procHex(srv)) +
		"   3: garbage\n"
	table6 := "  sl  local_address remote_address st tx_queue rx_queue ...\n" +
		fmt.Sprintf("   0: %s %s 01 00000010:00000000 00:00000000 00000000  1000 0 4\n", procHex(v6srv), procHex(v6cl)) +
		fmt.Sprintf("   1: %s %s 01 00000020:00000000 00:00000000 00000000  1000 0 5\n", procHex(mapped), procHex(cl2))
	wanted := map[sockPair]int{
		{srv, cl}: 0, {cl, srv}: 1, {v6srv, v6cl}: 2, {cl, cl}: 3,
	}
	found := map[int]sockQueues{}
	parseSockQueues([]byte(table), wanted, found)
	parseSockQueues([]byte(table6), wanted, found)
	want := map[int]sockQueues{0: {tx: 0x12000}, 1: {rx: 0x1fa0}, 2: {tx: 0x10}}
	if fmt.Sprint(found) != fmt.Sprint(want) {
		t.Errorf("found %v, want %v", found, want)
	}
	// An IPv4-mapped address in tcp6 matches its IPv4 form.
	found = map[int]sockQueues{}
	parseSockQueues([]byte(table6), map[sockPair]int{{srv, cl2}: 7}, found)
	if found[7] != (sockQueues{tx: 0x20}) {
		t.Errorf("mapped address: found %v", found)
	}
}

// TestReadSockQueuesLive finds both ends of a loopback connection in the
// real table, with the bytes the reading end has not read.
func TestReadSockQueuesLive(t *testing.T) {
	if _, err := os.Stat(procNetFiles[0]); err != nil {
		t.Skipf("no %s: %v", procNetFiles[0], err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	local, remote := c.LocalAddr().(*net.TCPAddr).AddrPort(), c.RemoteAddr().(*net.TCPAddr).AddrPort()
	want := []sockPair{{local, remote}, {remote, local}}
	var found map[int]sockQueues
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(10 * time.Millisecond) {
		if found, err = readSockQueues(want); err != nil {
			t.Fatal(err)
		}
		if found[0].rx == 1000 && found[1].tx == 0 {
			return
		}
	}
	t.Errorf("found %v; want the client's rx_queue 1000 and the server's tx_queue 0", found)
}
