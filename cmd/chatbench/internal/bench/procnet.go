package bench

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"strconv"
)

// Linux lists the TCP sockets of the network namespace in /proc/net/tcp
// and /proc/net/tcp6, one a line after a header:
//
//	sl  local_address rem_address   st tx_queue rx_queue ...
//	 0: 0100007F:270F 0100007F:B1DF 01 00012000:00000000 ...
//
// An address is the IP as the kernel's 32-bit words printed in hex in host
// byte order, a colon and the port in hex. For an established socket,
// tx_queue is what the socket holds to send, not yet acknowledged by the
// peer (write_seq - snd_una), and rx_queue what it has received and the
// program has not read (rcv_nxt - copied_seq).

// procNetFiles are the tables to search, IPv4 first.
var procNetFiles = []string{"/proc/net/tcp", "/proc/net/tcp6"}

// sockPair names one end of a TCP connection: its local and remote address.
type sockPair struct{ local, remote netip.AddrPort }

// sockQueues is what /proc/net/tcp says of one socket.
type sockQueues struct{ tx, rx int64 }

// readSockQueues looks up the sockets of want in /proc/net/tcp and, for
// those not found there, /proc/net/tcp6; IPv4-mapped IPv6 addresses match
// their IPv4 form. It returns the queues of the sockets found, by their
// index in want, and an error if the first table cannot be read.
func readSockQueues(want []sockPair) (map[int]sockQueues, error) {
	wanted := make(map[sockPair]int, len(want))
	for i, p := range want {
		wanted[p.unmapped()] = i
	}
	found := make(map[int]sockQueues, len(want))
	for i, file := range procNetFiles {
		if len(found) == len(wanted) {
			break
		}
		b, err := os.ReadFile(file)
		if err != nil {
			if i == 0 {
				return nil, err
			}
			break // no IPv6
		}
		parseSockQueues(b, wanted, found)
	}
	return found, nil
}

// unmapped returns p with IPv4-mapped addresses in their IPv4 form.
func (p sockPair) unmapped() sockPair {
	un := func(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }
	return sockPair{un(p.local), un(p.remote)}
}

// parseSockQueues adds to found the queues of the sockets of table b (the
// contents of /proc/net/tcp or tcp6) that wanted holds, by wanted's index.
func parseSockQueues(b []byte, wanted map[sockPair]int, found map[int]sockQueues) {
	first := true
	for line := range bytes.Lines(b) {
		if first { // the header
			first = false
			continue
		}
		f := bytes.Fields(line)
		if len(f) < 5 {
			continue
		}
		local, ok1 := parseProcAddr(f[1])
		remote, ok2 := parseProcAddr(f[2])
		if !ok1 || !ok2 {
			continue
		}
		i, ok := wanted[sockPair{local, remote}.unmapped()]
		if !ok {
			continue
		}
		txs, rxs, ok := bytes.Cut(f[4], []byte{':'})
		if !ok {
			continue
		}
		tx, err1 := strconv.ParseInt(string(txs), 16, 64)
		rx, err2 := strconv.ParseInt(string(rxs), 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		found[i] = sockQueues{tx: tx, rx: rx}
	}
}

// parseProcAddr parses an address of /proc/net/tcp ("0100007F:270F") or
// tcp6 (32 hex digits, a colon and the port).
func parseProcAddr(s []byte) (netip.AddrPort, bool) {
	hexIP, hexPort, ok := bytes.Cut(s, []byte{':'})
	if !ok || (len(hexIP) != 8 && len(hexIP) != 32) {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(string(hexPort), 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	var raw [16]byte
	ip := raw[:len(hexIP)/2]
	if _, err := hex.Decode(ip, hexIP); err != nil {
		return netip.AddrPort{}, false
	}
	// Each 32-bit word was printed as a number in host byte order: put
	// its bytes back where they were in memory, which is network order.
	for i := 0; i < len(ip); i += 4 {
		binary.NativeEndian.PutUint32(ip[i:], binary.BigEndian.Uint32(ip[i:]))
	}
	addr, _ := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(addr, uint16(port)), true
}
