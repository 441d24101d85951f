package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// runMain runs chatbench with args and a 20 s timeout, and returns its exit
// code, its report parsed from -json output, and its stderr.
func runMain(t *testing.T, args ...string) (int, *Report, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	args = append(args, "-json", "-timeout", "20s", "-progress", "off")
	code := Main(ctx, args, &stdout, &stderr)
	var rep *Report
	if stdout.Len() > 0 {
		rep = new(Report)
		if err := json.Unmarshal(stdout.Bytes(), rep); err != nil {
			t.Fatalf("chatbench %q: bad JSON: %v\n%s", args, err, stdout.Bytes())
		}
	}
	return code, rep, stderr.String()
}

// chatdBuild is the reference server, built once for all the tests.
var chatdBuild struct {
	once sync.Once
	dir  string // removed by TestMain
	bin  string
	err  error
	out  []byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chatdBuild.dir != "" {
		os.RemoveAll(chatdBuild.dir)
	}
	os.Exit(code)
}

// buildChatd builds the reference server, once, or skips the test if it
// does not build (yet).
func buildChatd(t *testing.T) string {
	t.Helper()
	b := &chatdBuild
	b.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if b.dir, b.err = os.MkdirTemp("", "chatbench-test-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "chatd")
		b.out, b.err = exec.Command(goTool, "build", "-o", b.bin, "roomchat.dev/roomchat/cmd/chatd").CombinedOutput()
	})
	if b.err != nil {
		t.Skipf("skipping: cmd/chatd does not build (yet): %v\n%s", b.err, b.out)
	}
	return b.bin
}

func TestChatdSmallScenario(t *testing.T) {
	chatd := buildChatd(t)
	code, rep, stderr := runMain(t, "-exec", fmt.Sprintf("'%s' -addr 127.0.0.1:{port}", chatd),
		"-clients", "10", "-rooms", "2", "-senders", "5", "-lines", "50", "-size", "48")
	if code != 0 || rep == nil || !rep.OK {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
	}
	l := rep.Load
	// Room 0 has 5 members and senders 0, 2, 4; room 1 has 5 members and
	// senders 1, 3: (5*3 + 5*2) * 50 deliveries.
	if l.Expected != 1250 || l.Delivered != 1250 || l.bad() {
		t.Errorf("load: %+v", l)
	}
	if l.Latency.Max <= 0 || l.Latency.P50 > l.Latency.P99 || l.Latency.P99 > l.Latency.Max {
		t.Errorf("latency: %+v", l.Latency)
	}
	if rep.Server.PID == 0 || l.Server == nil || l.Server.RSSAfterKB <= 0 {
		t.Errorf("server figures missing: %+v, %+v", rep.Server, l.Server)
	}
	if rep.Server.Exit != "exit status 0" {
		t.Errorf("chatd after SIGTERM: %s", rep.Server.Exit)
	}
	if la := rep.Server.LoadAverage; len(la.Start) != 3 || len(la.End) != 3 {
		if _, err := os.Stat("/proc/loadavg"); err == nil {
			t.Errorf("load average: %+v", la)
		}
	}
}

// Paced senders with idle connections held meanwhile.
func TestChatdPacedWithIdle(t *testing.T) {
	chatd := buildChatd(t)
	code, rep, stderr := runMain(t, "-exec", fmt.Sprintf("'%s' -addr 127.0.0.1:{port}", chatd),
		"-clients", "6", "-rooms", "3", "-senders", "3", "-lines", "10", "-rate", "200",
		"-idle", "50", "-hold", "100ms")
	if code != 0 || rep == nil || !rep.OK {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
	}
	if l := rep.Load; l.Delivered != 6*10 || l.SendSeconds < 0.04 {
		t.Errorf("load: %+v", l)
	}
	if i := rep.Idle; i.Opened != 50 || i.Answered != 50 || i.Failed != 0 || i.Memory == nil {
		t.Errorf("idle: %+v", i)
	}
}

// A member that stops reading is dropped and its room carries on: two
// stalled members, one of them sending, against a server with the default
// queue limit (and a short write timeout, should it only drop them for
// that). The senders are paced at 1 MB/s each, so that the server's writer
// to a healthy member would have to fall a second behind for it to be
// dropped too, even on a loaded machine. Only what holds on any machine is
// checked: no timing.
func TestChatdStalledMember(t *testing.T) {
	chatd := buildChatd(t)
	// Enough lines to fill the kernel's buffers for a stalled member (up
	// to tcp_wmem's maximum on the server's side) and the queue; the
	// stalled sender's echoes add as much as the healthy sender's lines
	// until it is dropped.
	kernel := 4 << 20
	if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 3 {
			if n, err := strconv.Atoi(f[2]); err == nil {
				kernel = n
			}
		}
	}
	const queue, size, rate = 1 << 20, 480, 2000
	lines := (kernel + queue + 1<<20) / size / 2
	if lines > 20000 {
		t.Skipf("the kernel may buffer %d bytes per connection: too many lines to fill", kernel)
	}
	csv := filepath.Join(t.TempDir(), "timeline.csv")
	code, rep, stderr := runMain(t, "-exec", fmt.Sprintf("'%s' -addr 127.0.0.1:{port} -max-queue-bytes %d -write-timeout 2s", chatd, queue),
		"-clients", "3", "-senders", "1", "-lines", strconv.Itoa(lines), "-size", strconv.Itoa(size), "-rate", strconv.Itoa(rate),
		"-stalled", "2", "-stalled-senders", "1", "-max-queue-bytes", strconv.Itoa(queue), "-timeline", csv)
	if code != 0 || rep == nil || !rep.OK {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
	}
	l := rep.Load
	if l.Expected != int64(3*lines) || l.Delivered != l.Expected || l.bad() {
		t.Errorf("healthy members: %+v", l.tally)
	}
	st := l.Stall
	if st == nil || len(st.Members) != 2 {
		t.Fatalf("stall: %+v", st)
	}
	for _, m := range st.Members {
		if !m.Disconnected || m.LeaveSeconds == nil || m.AddressedBytes <= queue {
			t.Errorf("%s: %+v; want it dropped, with its LEAVE seen, after more than %d bytes", m.Name, m, queue)
		}
	}
	if !st.Members[0].Sender || st.Members[0].Sent == 0 || st.Members[1].Sender {
		t.Errorf("senders: %+v", st.Members)
	}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil || strings.Count(out.String(), "dropped: LEAVE at") != 2 {
		t.Errorf("text report:\n%s", out.String())
	}
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "kind,t_s,n,p50_ms,p99_ms,max_ms,client\nlatency,") ||
		!strings.Contains(string(b), ",stalled0\n") || !strings.Contains(string(b), "\nleave,") {
		t.Errorf("timeline:\n%.500s", b)
	}
}

// A flooder under chatd's token bucket (-line-rate 50, -line-burst 10) is
// read no faster than the bucket allows, none of its lines is refused, and
// the healthy members lose nothing. The bound checked is a lower bound on
// time, hence an upper bound on the lines counted, which a loaded machine
// cannot break: by LIMIT-11 the server processes a client's n-th line no
// sooner than (n - burst)/rate after its connection opened, and the
// flooder's first three lines were USERNAME, JOIN and PING.
func TestChatdFlooderRateLimited(t *testing.T) {
	chatd := buildChatd(t)
	const rate, burst = 50, 10
	code, rep, stderr := runMain(t, "-exec", fmt.Sprintf("'%s' -addr 127.0.0.1:{port} -line-rate %d -line-burst %d", chatd, rate, burst),
		"-clients", "3", "-senders", "1", "-rate", "20", "-lines", "40", "-size", "64", "-flooders", "1")
	if code != 0 || rep == nil || !rep.OK {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
	}
	l := rep.Load
	if l.Expected != 3*40 || l.Delivered != l.Expected || l.bad() || l.Dropped != 0 {
		t.Errorf("healthy members: %+v, %d dropped", l.tally, l.Dropped)
	}
	if len(l.Flooders) != 1 {
		t.Fatalf("flooders: %+v", l.Flooders)
	}
	f := l.Flooders[0]
	// Sent counts whole batches written, so a batch still being written
	// may have some lines echoed already.
	if f.Name != "flooder0" || f.Echoed == 0 || f.Echoed > f.Sent+sendBufSize || f.Seconds <= 0 || f.SinceDialSeconds < f.Seconds {
		t.Errorf("flooder: %+v", f)
	}
	if most := burst + rate*f.SinceDialSeconds - 3; float64(f.Echoed) > most {
		t.Errorf("flooder: the server took %d lines in %.3fs of connection; its bucket allows at most %.0f", f.Echoed, f.SinceDialSeconds, most)
	}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil || !strings.Contains(out.String(), "lines of flooder0 in") {
		t.Errorf("text report:\n%s", out.String())
	}
}

// A flooder's lines are checked by the healthy members: a server that
// duplicates one fails the run, though they are not counted as lost.
func TestFlooderDuplicateIsCaught(t *testing.T) {
	s := startFake(t, func(int) int { return 1 })
	s.mu.Lock()
	s.dupFrom = "flooder0"
	s.mu.Unlock()
	code, rep, stderr := runMain(t, "-addr", s.ln.Addr().String(), "-clients", "3", "-senders", "1", "-lines", "20",
		"-rate", "100", "-flooders", "1")
	if code != 1 || rep == nil || rep.OK {
		t.Fatalf("exit %d, report %+v; want exit 1 and a failed report\nstderr:\n%s", code, rep, stderr)
	}
	s.mu.Lock()
	extra := s.extra
	s.mu.Unlock()
	l := rep.Load
	if extra == 0 || l.Duplicated == 0 || l.Duplicated > int64(extra) || l.Lost != 0 || l.Delivered != l.Expected {
		t.Errorf("report %+v; want some of the %d duplicates, nothing lost", l.tally, extra)
	}
	if len(l.Flooders) != 1 || l.Flooders[0].Delivered == 0 {
		t.Errorf("flooders: %+v", l.Flooders)
	}
}

// With -exec but no {port}, the address comes from the server's log.
func TestChatdAddrFromLog(t *testing.T) {
	chatd := buildChatd(t)
	code, rep, stderr := runMain(t, "-exec", fmt.Sprintf("'%s' -addr 127.0.0.1:0 -log-format json", chatd),
		"-clients", "2", "-lines", "3")
	if code != 0 || rep == nil || !strings.HasPrefix(rep.Server.Addr, "127.0.0.1:") {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
	}
}

// A server's log may give the address it was asked for, port 0, before the
// one it listens on.
func TestLogAddr(t *testing.T) {
	for line, want := range map[string]string{
		`level=INFO msg=listening addr=127.0.0.1:9999`:             "127.0.0.1:9999",
		`{"level":"INFO","msg":"listening","addr":"[::1]:4000"}`:   "[::1]:4000",
		`{"level":"INFO","msg":"starting","addr":"127.0.0.1:0"}`:   "",
		`level=INFO msg=starting addr=127.0.0.1:0 version=(devel)`: "",
		`level=INFO msg=listening addr=:7000`:                      ":7000",
		`level=INFO msg="no address here"`:                         "",
	} {
		if got, ok := logAddr(line); got != want || ok != (want != "") {
			t.Errorf("logAddr(%q) = %q, %v; want %q", line, got, ok, want)
		}
	}
}

func TestExecFailsClearly(t *testing.T) {
	code, _, stderr := runMain(t, "-exec", "echo oops; exit 3", "-clients", "1")
	if code != 2 || !strings.Contains(stderr, "oops") {
		t.Errorf("exit %d, stderr %q; want 2 and the server's output", code, stderr)
	}
}

// fault is how the fake server mistreats the n-th ROOM delivery (n from 1):
// it sends that many copies of the line, or closes the recipient's
// connection for -1.
type fault func(n int) (copies int)

// fakeServer is a tiny, deliberately faulty roomchat server: USERNAME,
// JOIN, MSG, PING and QUIT, with one global lock for ORDER-1. Writes happen
// under the lock, which is fine for the small loads of these tests.
type fakeServer struct {
	ln    net.Listener
	fault fault
	// dupFrom, if set, is a user every 50th of whose lines is delivered
	// twice to everyone.
	dupFrom string

	mu         sync.Mutex
	rooms      map[string][]*fakeConn
	deliveries int // ROOM deliveries attempted
	dropped    int
	extra      int
	wg         sync.WaitGroup
}

type fakeConn struct {
	net.Conn
	name, room string
	sent       int // MSG lines
	// If names is not nil, the name registered is added to names[addr],
	// under the server's lock (listenAlso).
	names map[string][]string
	addr  string
}

func startFake(t *testing.T, f fault) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln, fault: f, rooms: map[string][]*fakeConn{}}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(&fakeConn{Conn: c}) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, members := range s.rooms {
			for _, m := range members {
				m.Close()
			}
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *fakeServer) serve(c *fakeConn) {
	defer c.Close()
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		word, arg, _ := strings.Cut(strings.TrimSuffix(sc.Text(), "\r"), " ")
		s.mu.Lock()
		switch word {
		case "USERNAME":
			c.name = arg
			if c.names != nil {
				c.names[c.addr] = append(c.names[c.addr], arg)
			}
			fmt.Fprintf(c, "OK Welcome, %s!\r\n", arg)
		case "JOIN":
			members := s.rooms[arg]
			fmt.Fprintf(c, "OK Joined %s (%d users)\r\n", arg, len(members))
			for _, m := range members {
				fmt.Fprintf(c, "JOIN %s %s\r\n", arg, m.name)
				fmt.Fprintf(m, "JOIN %s %s\r\n", arg, c.name)
			}
			c.room = arg
			s.rooms[arg] = append(members, c)
		case "MSG":
			line := fmt.Sprintf("ROOM %s %s %s\r\n", c.room, c.name, arg)
			c.sent++
			for _, m := range s.rooms[c.room] {
				s.deliveries++
				n := s.fault(s.deliveries)
				if c.name == s.dupFrom && c.sent%50 == 0 {
					n = 2
				}
				switch {
				case n < 0:
					m.Close()
				case n == 0:
					s.dropped++
				case n > 1:
					s.extra += n - 1
				}
				for range n {
					m.Write([]byte(line))
				}
			}
		case "PING":
			fmt.Fprintf(c, "PONG %s\r\n", arg)
		case "QUIT":
			fmt.Fprintf(c, "OK Goodbye!\r\n")
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

func TestLossyServerIsCaught(t *testing.T) {
	s := startFake(t, func(n int) int {
		if n%10 == 0 {
			return 0
		}
		return 1
	})
	code, rep, stderr := runMain(t, "-addr", s.ln.Addr().String(),
		"-clients", "8", "-rooms", "2", "-senders", "4", "-lines", "25")
	if code != 1 || rep == nil || rep.OK {
		t.Fatalf("exit %d, report %+v; want exit 1 and a failed report\nstderr:\n%s", code, rep, stderr)
	}
	s.mu.Lock()
	dropped, deliveries := s.dropped, s.deliveries
	s.mu.Unlock()
	l := rep.Load
	if deliveries != 8/2*2*25*2 || dropped != deliveries/10 {
		t.Fatalf("fake server: %d deliveries, %d dropped", deliveries, dropped)
	}
	if l.Lost != int64(dropped) || l.Delivered != int64(deliveries-dropped) || l.Duplicated+l.Reordered+l.Garbled != 0 {
		t.Errorf("report %+v; want %d lost and nothing else wrong", l.tally, dropped)
	}
	if len(rep.Problems) == 0 || !strings.Contains(strings.Join(rep.Problems, "\n"), fmt.Sprintf("%d lost", dropped)) {
		t.Errorf("problems %q do not report the loss", rep.Problems)
	}

	// The text report says so too.
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil || !strings.Contains(out.String(), fmt.Sprintf("lost %d", dropped)) ||
		!strings.Contains(out.String(), "FAIL") {
		t.Errorf("text report:\n%s", out.String())
	}
}

func TestDuplicatingServerIsCaught(t *testing.T) {
	s := startFake(t, func(n int) int {
		if n%7 == 0 {
			return 2
		}
		return 1
	})
	code, rep, stderr := runMain(t, "-addr", s.ln.Addr().String(), "-clients", "4", "-lines", "20")
	if code != 1 || rep == nil {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
	}
	s.mu.Lock()
	extra := s.extra
	s.mu.Unlock()
	if l := rep.Load; extra == 0 || l.Duplicated != int64(extra) || l.Lost != 0 || l.Delivered != l.Expected {
		t.Errorf("report %+v; want %d duplicated and nothing lost", l.tally, extra)
	}
}

// A client cut off mid-run: the report names it and counts its lines lost.
func TestDisconnectMidRunIsReported(t *testing.T) {
	s := startFake(t, func(n int) int {
		if n == 30 {
			return -1
		}
		return 1
	})
	code, rep, stderr := runMain(t, "-addr", s.ln.Addr().String(), "-clients", "4", "-lines", "20")
	if code != 1 || rep == nil {
		t.Fatalf("exit %d, report %+v; want 1 and a report\nstderr:\n%s", code, rep, stderr)
	}
	if l := rep.Load; l.Lost == 0 || l.Delivered+l.Lost != l.Expected {
		t.Errorf("report %+v; want the cut-off client's lines lost", l.tally)
	}
	if !strings.Contains(strings.Join(rep.Problems, "\n"), "connection ended") {
		t.Errorf("problems %q do not report the closed connection", rep.Problems)
	}
}

// The multi-room scenario against chatd: every client enables rooms and
// joins 3 of 7 rooms; senders send to their rooms in turn. Every line
// reaches every member of its room, and no one else.
func TestChatdMultiRoomScenario(t *testing.T) {
	chatd := buildChatd(t)
	code, rep, stderr := runMain(t, "-exec", fmt.Sprintf("'%s' -addr 127.0.0.1:{port}", chatd),
		"-clients", "20", "-rooms", "7", "-rooms-per-user", "3", "-senders", "10", "-lines", "30", "-size", "48")
	if code != 0 || rep == nil || !rep.OK {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
	}
	l := rep.Load
	cfg := Config{Clients: 20, Rooms: 7, RoomsPerUser: 3, Senders: 10, Lines: 30}
	if l.RoomsPerUser != 3 || l.Expected != cfg.expected() || l.Delivered != l.Expected || l.bad() {
		t.Errorf("load: %+v, want %d deliveries", l, cfg.expected())
	}
	if l.Server == nil {
		t.Error("no server figures")
	}
}
