package racyserver_test

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance"
	"roomchat.dev/roomchat/conformance/internal/racyserver"
	"roomchat.dev/roomchat/conformance/modelcheck"
	"roomchat.dev/roomchat/spec"
	"roomchat.dev/roomchat/testscripts"
)

// variant is the server with one race on, or none.
type variant struct {
	name  string
	races racyserver.Races
	// caught lists the scripts allowed to fail with the race on: scripts
	// whose clients act concurrently, and so may trigger it.
	caught []string
}

var variants = []variant{
	{name: "none"},
	{name: "NameCheckThenSet", races: racyserver.Races{NameCheckThenSet: true}},
	{name: "FanOutDuringLeave", races: racyserver.Races{FanOutDuringLeave: true}},
	// order_same_for_all floods one room from three clients at once and
	// checks that every member sees the same interleaving: it is not a
	// lockstep test, and it is exactly the situation of this race.
	{name: "UnorderedFanOut", races: racyserver.Races{UnorderedFanOut: true}, caught: []string{"order_same_for_all"}},
	{name: "StalePrivmsgTarget", races: racyserver.Races{StalePrivmsgTarget: true}},
}

// concurrentScripts are the scripts whose clients send at once, without
// waiting: they may catch any race, now and then, as the concurrent
// checker does (order_serializable runs it over the script's own lines).
var concurrentScripts = []string{"order_same_for_all", "order_serializable"}

// server adapts *racyserver.Server to conformance.Server.
type server struct{ *racyserver.Server }

func (server) Shutdown() error {
	return errors.New("racyserver: no shutdown notice (the shutdown extension)")
}
func (server) Log() string { return "" }

// startFunc starts a racy server per script. The server takes no flags:
// a script that needs some is skipped.
func startFunc(races racyserver.Races) conformance.StartFunc {
	return func(flags []string) (conformance.Server, error) {
		if len(flags) > 0 {
			return nil, fmt.Errorf("%w: the racy server takes no flags, got %q", conformance.ErrUnsupported, flags)
		}
		s, err := racyserver.Start("127.0.0.1:0", races)
		if err != nil {
			return nil, err
		}
		return server{s}, nil
	}
}

// TestScripts runs the conformance scripts of core, ping and input
// against the correct server and against each race: lockstep scripts
// cannot tell them apart. The correct server passes every script; with a
// race, only the concurrent scripts may fail.
func TestScripts(t *testing.T) {
	scripts, err := conformance.LoadScripts(testscripts.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			r, err := conformance.NewRunner(conformance.Config{
				Start:   startFunc(v.races),
				Scripts: scripts,
				Tags:    []string{"core", "ping", "input"},
				Seed:    uint64(time.Now().UnixNano()),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := r.Preflight(); err != nil {
				t.Fatalf("preflight: %v", err)
			}
			counts := map[conformance.Status]int{}
			for _, res := range r.RunAll(nil) {
				counts[res.Status]++
				failed := res.Status.Failed() || res.Status == conformance.NonStrict
				switch {
				case failed && (slices.Contains(v.caught, res.Script.Name) || v.name != "none" && slices.Contains(concurrentScripts, res.Script.Name)):
					t.Logf("%s caught the race (a concurrent script): %s", res.Script.Name, firstLines(conformance.Details(res), 12))
				case failed:
					t.Errorf("%s: %s\n%s", res.Script.Name, res.Status, conformance.Details(res))
				}
			}
			if counts[conformance.Pass] < 70 {
				t.Errorf("only %d scripts passed", counts[conformance.Pass])
			}
			t.Logf("%v", counts)
		})
	}
}

// TestModelCheck runs the lockstep model checker, 30 sequences, against
// the correct server and against each race. It uses modelcheck.Run, not
// Check: Check sets -rapid.checks with flag.Set, after which flag.Visit
// counts the flag as given on the command line, so that a second Check in
// the same process runs rapid's default of 100 cases instead.
func TestModelCheck(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			start := time.Now()
			res, err := modelcheck.Run(modelcheck.Target{Start: func() (string, func(), error) {
				s, err := racyserver.Start("127.0.0.1:0", v.races)
				if err != nil {
					return "", nil, err
				}
				return s.Addr(), func() { s.Stop() }, nil
			}}, modelcheck.Options{Checks: 30})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d sequences in %v; %s", res.Sequences, time.Since(start).Round(time.Millisecond), res.Coverage.Summary())
		})
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...\n")
	}
	return strings.Join(lines, "")
}

// The demonstrations: each race is reached by plain concurrent clients,
// within generous bounds, and the same attempts never show it on the
// correct server.
const (
	maxAttempts = 2000
	maxTime     = 20 * time.Second
	controls    = 100 // attempts against the correct server
)

// an attempt tries once to show a race; it returns what it saw, and
// whether that is the race.
type attempt func(i int) (string, bool)

// hunt repeats try until it shows the race, and fails if it does not
// within the bounds.
func hunt(t *testing.T, try attempt) {
	t.Helper()
	start := time.Now()
	for i := 1; i <= maxAttempts && time.Since(start) < maxTime; i++ {
		if saw, ok := try(i); ok {
			t.Logf("reached after %d attempts in %v:\n%s", i, time.Since(start).Round(time.Millisecond), saw)
			return
		}
	}
	t.Fatalf("not reached within %d attempts or %v", maxAttempts, maxTime)
}

// control runs try against the correct server and fails if it ever
// reports the race.
func control(t *testing.T, n int, try attempt) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if saw, ok := try(i); ok {
			t.Fatalf("the correct server shows the race at attempt %d:\n%s", i, saw)
		}
	}
}

// together performs a and b, two actions meant to race, at nearly the
// same time, in a way that varies with the attempt i: a then b at once, b
// then a at once, or a, a pause of up to 175µs, and b. Whatever the
// scheduler does, some attempts then put the second action inside the
// window the first one opens: with GOMAXPROCS=1, of two connections that
// become readable together, the later tends to be served first.
func together(i int, a, b func()) {
	switch i % 4 {
	case 0:
		a()
		b()
	case 1:
		b()
		a()
	default:
		a()
		time.Sleep(time.Duration(i%8) * 25 * time.Microsecond)
		b()
	}
}

// start starts a racy server for the test.
func start(t *testing.T, races racyserver.Races) string {
	t.Helper()
	s, err := racyserver.Start("127.0.0.1:0", races)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s.Addr()
}

// conn is a test client. Only the test goroutine uses it.
type conn struct {
	t    *testing.T
	name string
	c    net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr, name string) *conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &conn{t: t, name: name, c: c, r: bufio.NewReader(c)}
}

func (c *conn) send(lines ...string) {
	c.t.Helper()
	if _, err := c.c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")); err != nil {
		c.t.Fatalf("%s: write: %v", c.name, err)
	}
}

func (c *conn) recv() string {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("%s: read: %v (after %q)", c.name, err, line)
	}
	return strings.TrimSuffix(line, "\r\n")
}

func (c *conn) expect(want string) {
	c.t.Helper()
	if got := c.recv(); got != want {
		c.t.Fatalf("%s: got %q, want %q", c.name, got, want)
	}
}

// until reads lines up to last and returns those before it.
func (c *conn) until(last string) []string {
	c.t.Helper()
	var lines []string
	for {
		l := c.recv()
		if l == last {
			return lines
		}
		lines = append(lines, l)
	}
}

// login connects a client and takes name.
func login(t *testing.T, addr, name string) *conn {
	t.Helper()
	c := dial(t, addr, name)
	c.send("USERNAME " + name)
	c.expect(ok(spec.OKWelcome(name)))
	return c
}

func ok(text string) string { return spec.OKLine(text).String() }

func transcript(cs ...*conn) func(lines ...[]string) string {
	return func(lines ...[]string) string {
		var b strings.Builder
		for i, c := range cs {
			for _, l := range lines[i] {
				fmt.Fprintf(&b, "  %s< %s\n", c.name, l)
			}
		}
		return b.String()
	}
}

// twinNames: two clients send USERNAME for the same name at once; both
// are welcomed.
func twinNames(t *testing.T, addr string) attempt {
	return func(i int) (string, bool) {
		name := fmt.Sprintf("twin%d", i)
		a, b := dial(t, addr, "a"), dial(t, addr, "b")
		defer a.c.Close()
		defer b.c.Close()
		a.send("USERNAME " + name)
		b.send("USERNAME " + name)
		ra, rb := a.recv(), b.recv()
		welcome := ok(spec.OKWelcome(name))
		return transcript(a, b)([]string{ra}, []string{rb}), ra == welcome && rb == welcome
	}
}

func TestRaceNameCheckThenSet(t *testing.T) {
	hunt(t, twinNames(t, start(t, racyserver.Races{NameCheckThenSet: true})))
	control(t, controls, twinNames(t, start(t, racyserver.Races{})))
}

// crossedMessages: alice and bob, alone in a room, each send a message
// at once; they see the two in different orders.
func crossedMessages(t *testing.T, addr string) attempt {
	alice, bob := login(t, addr, "alice"), login(t, addr, "bob")
	alice.send("JOIN #uo")
	alice.expect(ok(spec.OKJoined("#uo", 0)))
	bob.send("JOIN #uo")
	bob.expect(ok(spec.OKJoined("#uo", 1)))
	bob.expect("JOIN #uo alice")
	alice.expect("JOIN #uo bob")
	return func(i int) (string, bool) {
		alice.send(fmt.Sprintf("MSG a%d", i))
		bob.send(fmt.Sprintf("MSG b%d", i))
		la := []string{alice.recv(), alice.recv()}
		lb := []string{bob.recv(), bob.recv()}
		return transcript(alice, bob)(la, lb), !slices.Equal(la, lb)
	}
}

func TestRaceUnorderedFanOut(t *testing.T) {
	hunt(t, crossedMessages(t, start(t, racyserver.Races{UnorderedFanOut: true})))
	control(t, controls, crossedMessages(t, start(t, racyserver.Races{})))
}

// messageAfterLeave: alice sends a message to a room while m leaves it;
// m receives the message after its OK Left.
func messageAfterLeave(t *testing.T, addr string) attempt {
	alice, m := login(t, addr, "alice"), login(t, addr, "m")
	return func(i int) (string, bool) {
		room := fmt.Sprintf("#fl%d", i)
		alice.send("JOIN " + room)
		alice.expect(ok(spec.OKJoined(room, 0)))
		m.send("JOIN " + room)
		m.expect(ok(spec.OKJoined(room, 1)))
		m.expect("JOIN " + room + " alice")
		alice.expect("JOIN " + room + " m")
		// alice's PING is answered once her message is delivered; m's
		// after its LEAVE, and then alice's second PING after the LEAVE
		// note to her.
		together(i, func() { alice.send("MSG hi", "PING a") }, func() { m.send("LEAVE") })
		la := alice.until("PONG a")
		m.send("PING m")
		lm := m.until("PONG m")
		alice.send("PING z")
		la = append(la, alice.until("PONG z")...)
		left := slices.Index(lm, ok(spec.OKLeft(room)))
		msg := slices.Index(lm, "ROOM "+room+" alice hi")
		return transcript(alice, m)(la, lm), left >= 0 && msg > left
	}
}

// missedAfterJoin: with a wide window, alice's message is in flight when
// j joins: bob sees j's JOIN and then the message, j never gets it.
func missedAfterJoin(t *testing.T, addr string) attempt {
	return func(i int) (string, bool) {
		room := fmt.Sprintf("#fj%d", i)
		alice, bob := login(t, addr, fmt.Sprintf("a%d", i)), login(t, addr, fmt.Sprintf("b%d", i))
		defer alice.c.Close()
		defer bob.c.Close()
		alice.send("JOIN " + room)
		alice.expect(ok(spec.OKJoined(room, 0)))
		bob.send("JOIN " + room)
		bob.expect(ok(spec.OKJoined(room, 1)))
		bob.expect("JOIN " + room + " " + alice.name)
		alice.expect("JOIN " + room + " " + bob.name)
		alice.send("MSG hi")
		time.Sleep(10 * time.Millisecond) // alice's message is in its window
		j := login(t, addr, fmt.Sprintf("j%d", i))
		defer j.c.Close()
		j.send("JOIN "+room, "PING j")
		lj := j.until("PONG j")
		alice.send("PING a")
		la := alice.until("PONG a")
		bob.send("PING b")
		lb := bob.until("PONG b")
		j.send("PING j")
		lj = append(lj, j.until("PONG j")...)
		hi := "ROOM " + room + " " + alice.name + " hi"
		joined := slices.Index(lb, "JOIN "+room+" "+j.name)
		msg := slices.Index(lb, hi)
		missed := !slices.Contains(lj, hi)
		return transcript(alice, bob, j)(la, lb, lj) + fmt.Sprintf("  (%s never receives %q)\n", j.name, hi), joined >= 0 && msg > joined && missed
	}
}

func TestRaceFanOutDuringLeave(t *testing.T) {
	t.Run("leave", func(t *testing.T) {
		hunt(t, messageAfterLeave(t, start(t, racyserver.Races{FanOutDuringLeave: true})))
		control(t, controls, messageAfterLeave(t, start(t, racyserver.Races{})))
	})
	t.Run("join", func(t *testing.T) {
		hunt(t, missedAfterJoin(t, start(t, racyserver.Races{FanOutDuringLeave: true, Window: 100 * time.Millisecond})))
		control(t, 5, missedAfterJoin(t, start(t, racyserver.Races{Window: 100 * time.Millisecond})))
	})
}

// sentToOldOwner: with a wide window, t disconnects while s's PRIVMSG to
// it is in flight, and n takes the name; s gets OK Sent after the LEAVE
// note and n's welcome, and n never gets the message.
func sentToOldOwner(t *testing.T, addr string) attempt {
	s := login(t, addr, "s")
	return func(i int) (string, bool) {
		room, name := fmt.Sprintf("#so%d", i), fmt.Sprintf("old%d", i)
		tg := login(t, addr, name)
		defer tg.c.Close()
		tg.send("JOIN " + room)
		tg.expect(ok(spec.OKJoined(room, 0)))
		s.send("JOIN " + room)
		s.expect(ok(spec.OKJoined(room, 1)))
		s.expect("JOIN " + room + " " + name)
		tg.expect("JOIN " + room + " s")
		s.send("PRIVMSG " + name + " hi")
		time.Sleep(10 * time.Millisecond) // s's PRIVMSG is in its window
		tg.c.Close()
		ls := []string{s.recv()}
		if ls[0] != "LEAVE "+room+" "+name {
			ls = append(ls, s.recv())
			return transcript(s)(ls), false
		}
		n := dial(t, addr, "n")
		defer n.c.Close()
		n.send("USERNAME " + name)
		ln := []string{n.recv()}
		ls = append(ls, s.recv())
		n.send("PING n")
		ln = append(ln, n.until("PONG n")...)
		return transcript(s, n)(ls, ln), ln[0] == ok(spec.OKWelcome(name)) && ls[1] == ok(spec.OKSent) && len(ln) == 1
	}
}

func TestRaceStalePrivmsgTarget(t *testing.T) {
	t.Run("new owner", func(t *testing.T) {
		hunt(t, sentToOldOwner(t, start(t, racyserver.Races{StalePrivmsgTarget: true, Window: 100 * time.Millisecond})))
		control(t, 5, sentToOldOwner(t, start(t, racyserver.Races{Window: 100 * time.Millisecond})))
	})
}

// TestCorrectUnderLoad is a control for the races: six clients in one room
// send messages, leave and come back, send private messages and ask for
// USERS, all at once, and the correct server must keep every member's
// view of the room consistent: any two clients see the messages they both
// received live in the same order (ORDER-2), and no client receives a
// room message between its OK Left and its next OK Joined.
func TestCorrectUnderLoad(t *testing.T) {
	const clients, lines, rounds = 6, 60, 10
	for round := range rounds {
		addr := start(t, racyserver.Races{})
		cs := make([]*conn, clients)
		for i := range cs {
			cs[i] = login(t, addr, fmt.Sprintf("c%d", i))
			cs[i].send("JOIN #x", "PING joined")
			cs[i].until("PONG joined")
		}
		for _, c := range cs {
			c.send("PING ready")
			c.until("PONG ready")
		}
		var wg sync.WaitGroup
		for i, c := range cs {
			rng := rand.New(rand.NewPCG(uint64(round), uint64(i)))
			var b strings.Builder
			in := true
			for k := range lines {
				switch p := rng.IntN(10); {
				case p < 5:
					fmt.Fprintf(&b, "MSG m%d_%d\r\n", i, k)
				case p < 7 && in:
					b.WriteString("LEAVE\r\n")
					in = false
				case p < 7:
					b.WriteString("JOIN #x\r\n")
					in = true
				case p < 9:
					fmt.Fprintf(&b, "PRIVMSG c%d p%d_%d\r\n", rng.IntN(clients), i, k)
				default:
					b.WriteString("USERS\r\n")
				}
			}
			b.WriteString("PING end\r\n")
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.c.Write([]byte(b.String())) // a failure shows as a missing PONG
			}()
		}
		wg.Wait()
		streams := make([][]string, clients)
		for i, c := range cs {
			streams[i] = c.until("PONG end")
		}
		for i, c := range cs { // everything caused by anyone's lines is in
			c.send("PING all")
			streams[i] = append(streams[i], c.until("PONG all")...)
		}
		// live[i] is what client i received as live room messages: the
		// first receipt of each (a rejoin replays history).
		live := make([][]string, clients)
		for i, s := range streams {
			seen := map[string]bool{}
			member := true
			for _, l := range s {
				switch {
				case strings.HasPrefix(l, "OK Left #x"):
					member = false
				case strings.HasPrefix(l, "OK Joined #x"):
					member = true
				case strings.HasPrefix(l, "ROOM #x "):
					if !member {
						t.Fatalf("round %d: c%d received %q after it left the room:\n%s", round, i, l, strings.Join(s, "\n"))
					}
					if !seen[l] {
						seen[l] = true
						live[i] = append(live[i], l)
					}
				}
			}
		}
		for a := range clients {
			for b := a + 1; b < clients; b++ {
				pos := map[string]int{}
				for k, l := range live[b] {
					pos[l] = k
				}
				last := -1
				for _, l := range live[a] {
					if p, ok := pos[l]; ok {
						if p < last {
							t.Fatalf("round %d: c%d and c%d see the room's messages in different orders, at %q", round, a, b, l)
						}
						last = p
					}
				}
			}
		}
		for _, c := range cs {
			c.c.Close()
		}
	}
}
