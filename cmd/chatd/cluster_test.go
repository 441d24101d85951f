package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance/concurrent"
	"roomchat.dev/roomchat/impl"
)

// chatd as a node of a cluster (docs/cluster.md), tested on the binary:
// three processes on one NATS server that runs in the test process, all on
// loopback. Each test has a NATS server and nodes of its own.

// nodeTimeout is chatd's default -node-timeout, which TestClusterNodeKill
// runs with.
const nodeTimeout = 2 * time.Second

// TestClusterConcurrent runs the concurrent checker over three nodes, its
// lanes spread round-robin over them: every history must have one
// serialization that explains what every client received, on whichever
// node (ORDER-1, ORDER-2, ORDER-4 across nodes). A history the checker
// cannot decide in time (Unknown) is counted and logged, not failed, as
// chatconform -concurrent does; only a search that decides none fails.
// By default, 10 histories of 4 clients (a second or so); with
// CHAT_CLUSTER=1, 300 histories of 6 clients, two per node (half a minute
// on two cores).
//
// Not 8 clients, the checker's default: the round trip through JetStream
// widens every operation's window, and with 8 clients on three nodes some
// histories take the checker close to a minute to decide, where 6 take
// milliseconds, a few seconds at worst. The checker runs in the test
// process: under -race it is about twenty times slower, and 300 histories
// of 6 clients took nearly ten minutes, five of them undecided; so under
// -race CHAT_CLUSTER=1 runs 300 histories of 4 clients.
func TestClusterConcurrent(t *testing.T) {
	t.Parallel()
	histories, clients := 10, 4
	if os.Getenv("CHAT_CLUSTER") == "1" {
		histories, clients = 300, 6
		if raceEnabled {
			clients = 4
		}
	}
	nats := startNATS(t)
	nodes := startNodes(t, nats.URL(), 3)
	var progress strings.Builder
	start := time.Now()
	st, err := concurrent.Search(concurrent.Target{Addrs: addrs(nodes)}, concurrent.Options{
		Clients: clients, Histories: histories, Log: &progress,
	})
	if f, ok := errors.AsType[*concurrent.Failure](err); ok {
		t.Fatalf("%s\n%s", f.Report(), progress.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	if st.Unknown == st.Histories {
		t.Fatalf("none of the %d histories could be decided in time", st.Histories)
	}
	t.Logf("%d histories of %d clients over 3 nodes in %v, %d operations, %d lines received; run %v, check %v (longest %v), %d undecided",
		st.Histories, clients, time.Since(start).Round(time.Millisecond), st.Ops, st.Received,
		st.RunTime.Round(time.Millisecond), st.CheckTime.Round(time.Millisecond), st.MaxCheckTime.Round(time.Millisecond), st.Unknown)
}

// TestClusterNodeKill kills a node with SIGKILL while the clients of all
// three nodes are sending room messages, each as soon as the echo of its
// last one came. Two users of the killed node n3 are in rooms shared with
// the others: carol, who enabled rooms, in #b then #a, and dave, a core
// client, in #a; erin, also of n3, is in no room. The survivors are alice
// (n1) and bob (n2), in #a and #b with rooms enabled, and frank (n2), a
// core client in #a. It checks that:
//   - each survivor receives, for each user of n3, one LEAVE note per
//     room it shares with that user, in the order that user joined them,
//     carol's before dave's (carol connected, and spoke, first), all of
//     them at one point of its transcript (one item of the order), within
//     NodeTimeout and a generous bound of the kill;
//   - the conversation goes on: every survivor sends after the notes, and
//     everyone receives it;
//   - nothing acknowledged is lost or duplicated: alice and bob receive the
//     same transcript, frank its lines about #a, and in it each survivor's
//     messages are exactly those whose echo it received, each once, in
//     order; n3's users' messages are a prefix of what they sent that has
//     every one echoed to them, and none comes after their notes;
//   - the names of n3's users are free: USERNAME takes them on n1.
func TestClusterNodeKill(t *testing.T) {
	t.Parallel()
	nats := startNATS(t)
	nodes := startNodes(t, nats.URL(), 3)
	for _, n := range nodes[:2] { // so that n3's silence will be noticed
		n.waitLog(t, regexp.MustCompile(`msg="cluster: node alive" .*peer=n3\b`))
	}
	n1, n2, n3 := nodes[0].addr, nodes[1].addr, nodes[2].addr

	alice := connect(t, n1, "alice")
	alice.do("CAPS rooms", "OK Enabled rooms")
	alice.do("USERNAME alice", "OK Welcome, alice!")
	alice.do("JOIN #a", "OK Joined #a (0 users)")
	alice.do("JOIN #b", "OK Joined #b (0 users)")
	bob := connect(t, n2, "bob")
	bob.do("CAPS rooms", "OK Enabled rooms")
	bob.do("USERNAME bob", "OK Welcome, bob!")
	bob.do("JOIN #a", "OK Joined #a (1 users)", "JOIN #a alice")
	alice.expect("JOIN #a bob")
	bob.do("JOIN #b", "OK Joined #b (1 users)", "JOIN #b alice")
	alice.expect("JOIN #b bob")
	frank := connect(t, n2, "frank")
	frank.do("USERNAME frank", "OK Welcome, frank!")
	frank.do("JOIN #a", "OK Joined #a (2 users)", "JOIN #a alice", "JOIN #a bob")
	alice.expect("JOIN #a frank")
	bob.expect("JOIN #a frank")
	carol := connect(t, n3, "carol")
	carol.do("CAPS rooms", "OK Enabled rooms")
	carol.do("USERNAME carol", "OK Welcome, carol!")
	carol.do("JOIN #b", "OK Joined #b (2 users)", "JOIN #b alice", "JOIN #b bob")
	alice.expect("JOIN #b carol")
	bob.expect("JOIN #b carol")
	carol.do("JOIN #a", "OK Joined #a (3 users)", "JOIN #a alice", "JOIN #a bob", "JOIN #a frank")
	for _, c := range []*chatter{alice, bob, frank} {
		c.expect("JOIN #a carol")
	}
	dave := connect(t, n3, "dave")
	dave.do("USERNAME dave", "OK Welcome, dave!")
	dave.do("JOIN #a", "OK Joined #a (4 users)", "JOIN #a alice", "JOIN #a bob", "JOIN #a frank", "JOIN #a carol")
	for _, c := range []*chatter{alice, bob, frank, carol} {
		c.expect("JOIN #a dave")
	}
	erin := connect(t, n3, "erin")
	erin.do("USERNAME erin", "OK Welcome, erin!")

	survivors := []*chatter{alice, bob, frank}
	starts := []int{alice.next, bob.next, frank.next} // their transcripts from here on
	talkers := []*talker{
		{t: t, c: alice, rooms: []string{"#a", "#b"}},
		{t: t, c: bob, rooms: []string{"#b", "#a"}},
		{t: t, c: frank, rooms: []string{"#a"}, core: true},
		{t: t, c: carol, rooms: []string{"#a", "#b"}, mayDie: true},
		{t: t, c: dave, rooms: []string{"#a"}, core: true, mayDie: true},
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, tk := range talkers {
		wg.Go(func() { tk.run(stop) })
	}
	stopped := false
	halt := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	defer halt()

	// Kill n3 once alice has received 10 messages of everyone.
	alice.must(starts[0], "10 messages of each talker", countFrom(10, "alice", "bob", "frank", "carol", "dave"))
	killed := time.Now()
	nodes[2].kill(t)

	// Every survivor receives the notes of n3's users.
	lastNote := make([]int, len(survivors))
	for i, c := range survivors {
		lastNote[i] = c.must(starts[i], "the LEAVE note of dave", is("LEAVE #a dave"))
		after := c.arrival(lastNote[i]).Sub(killed)
		t.Logf("%s received the last note %v after the kill", c.name, after.Round(time.Millisecond))
		if bound := nodeTimeout + 8*time.Second; after > bound {
			t.Errorf("%s received the notes of n3's users %v after the kill, more than %v", c.name, after, bound)
		}
	}
	// The conversation goes on: 5 more messages of every survivor.
	alice.must(lastNote[0]+1, "5 messages of each survivor after the notes", countFrom(5, "alice", "bob", "frank"))
	halt()

	// A last message of each survivor, received by all, then a PING: every
	// survivor's transcript is complete.
	alice.send("MSG #a end-alice")
	bob.send("MSG #a end-bob")
	frank.send("end-frank")
	var transcripts [][]string
	for i, c := range survivors {
		for _, who := range []string{"alice", "bob", "frank"} {
			c.must(starts[i], "the last message of "+who, is("ROOM #a "+who+" end-"+who))
		}
		c.next = c.count()
		pong := c.barrier("done")
		transcripts = append(transcripts, c.received(starts[i])[:pong-starts[i]])
	}

	// One transcript for alice and bob; frank's is its lines about #a.
	all := transcripts[0]
	if !slices.Equal(all, transcripts[1]) {
		t.Errorf("alice and bob received different transcripts, from %s", firstDiff(all, transcripts[1]))
	}
	var aboutA []string
	for _, l := range all {
		if strings.HasPrefix(l, "ROOM #a ") || strings.HasPrefix(l, "LEAVE #a ") {
			aboutA = append(aboutA, l)
		}
	}
	if !slices.Equal(aboutA, transcripts[2]) {
		t.Errorf("frank's transcript is not alice's lines about #a, from %s", firstDiff(aboutA, transcripts[2]))
	}

	// The notes: one block, once, in join order.
	var notes []int
	for i, l := range all {
		if !strings.HasPrefix(l, "ROOM ") {
			notes = append(notes, i)
		}
	}
	wantNotes := []string{"LEAVE #b carol", "LEAVE #a carol", "LEAVE #a dave"}
	if len(notes) != len(wantNotes) || notes[len(notes)-1]-notes[0] != len(notes)-1 || !slices.Equal(all[notes[0]:notes[0]+len(notes)], wantNotes) {
		var got []string
		for _, i := range notes {
			got = append(got, fmt.Sprintf("%d: %q", i, all[i]))
		}
		t.Errorf("lines other than messages in alice's transcript: %s; want %q, one after another", strings.Join(got, ", "), wantNotes)
	}

	// The messages: each survivor's, exactly those echoed to it, and its
	// last; n3's users', a prefix of what they sent, with everything echoed
	// to them, and before their notes.
	for _, tk := range talkers {
		name := tk.c.name
		got := textsOf(all, name)
		echoed := tk.echoes()
		if !tk.mayDie {
			want := append(echoed, "end-"+name)
			if !slices.Equal(got, want) {
				t.Errorf("%s's messages in the transcript are not those echoed to it (%d), then its last, from %s", name, len(echoed), firstDiff(want, got))
			}
			continue
		}
		for k, text := range got {
			if text != fmt.Sprintf("%s-%d", name, k) {
				t.Errorf("%s's message %d is %q: lost or duplicated messages", name, k, text)
				break
			}
		}
		if len(got) < len(echoed) {
			t.Errorf("%s received the echo of %d messages, and the survivors only %d of them", name, len(echoed), len(got))
		}
		if len(notes) > 0 && len(textsOf(all[notes[0]:], name)) > 0 {
			t.Errorf("messages of %s after its LEAVE notes: %q", name, textsOf(all[notes[0]:], name))
		}
		t.Logf("%s: %d messages echoed before the kill, %d received by the survivors", name, len(echoed), len(got))
	}
	t.Logf("the survivors received %d lines each (alice and bob)", len(all))

	// The names of n3's users are free.
	for _, name := range []string{"carol", "dave", "erin"} {
		c := connect(t, n1, name)
		c.do("USERNAME "+name, "OK Welcome, "+name+"!")
	}
	for _, n := range nodes[:2] {
		n.waitLog(t, regexp.MustCompile(`msg="cluster node gone" node=n3 self=false`))
	}
}

// TestClusterNATSRestart stops the NATS server under three nodes (run
// with -node-timeout 10s) while ann, ben and cid, one on each node, are
// talking in #r, and starts it again, on the same port and store, once
// every node has noticed. The outage is short, well below the node
// timeout. It checks that:
//   - while NATS is down, a line is answered "ERROR Cluster unavailable"
//     and has no other effect: a PING of a client of each node, and a
//     USERNAME of a new connection of each node, sent once the node has
//     logged that its link is down. A talker's line is either refused so,
//     if its node read it after it noticed, or was in flight when NATS
//     went and is processed once, after the restart. (Each talker sends
//     its next line as soon as the last is echoed, so in practice each has
//     one in flight, and the refusals are the probes'.);
//   - the end of dee's connection, on n2, during the outage is not lost:
//     the others receive her LEAVE note once, after the restart;
//   - once NATS is back, the conversation goes on across the nodes, the
//     PING is answered and the USERNAME takes the name; every member of #r
//     receives the same transcript, in which each talker's messages are
//     exactly those echoed to it, each once, in order;
//   - no node declares another gone, none reports a link error, and every
//     node logs that its link went down and came back.
func TestClusterNATSRestart(t *testing.T) {
	t.Parallel()
	nats := startNATS(t)
	nodes := startNodes(t, nats.URL(), 3, "-node-timeout", "10s")

	var members []*chatter
	for i, m := range []struct {
		name string
		node int
	}{{"ann", 0}, {"ben", 1}, {"cid", 2}, {"dee", 1}} {
		name := m.name
		c := connect(t, nodes[m.node].addr, name)
		c.do("USERNAME "+name, "OK Welcome, "+name+"!")
		want := []string{fmt.Sprintf("OK Joined #r (%d users)", i)}
		for _, m := range members {
			want = append(want, "JOIN #r "+m.name)
		}
		c.do("JOIN #r", want...)
		for _, m := range members {
			m.expect("JOIN #r " + name)
		}
		members = append(members, c)
	}
	ann, ben, cid, dee := members[0], members[1], members[2], members[3]
	probes := make([]*chatter, len(nodes))
	for i, n := range nodes {
		name := fmt.Sprintf("probe%d", i+1)
		probes[i] = connect(t, n.addr, name)
		probes[i].do("USERNAME "+name, "OK Welcome, "+name+"!")
	}

	talking := []*chatter{ann, ben, cid}
	starts := []int{ann.next, ben.next, cid.next}
	resume := make(chan struct{})
	var talkers []*talker
	for _, c := range talking {
		talkers = append(talkers, &talker{t: t, c: c, rooms: []string{"#r"}, core: true, resume: resume})
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, tk := range talkers {
		wg.Go(func() { tk.run(stop) })
	}
	stopped := false
	halt := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	defer halt()
	ann.must(starts[0], "10 messages of each talker", countFrom(10, "ann", "ben", "cid"))

	// NATS goes; every node notices.
	marks := make([]int, len(nodes))
	for i, n := range nodes {
		marks[i] = n.logLen()
	}
	down := time.Now()
	nats.Stop()
	stoppedIn := time.Since(down)
	for i, n := range nodes {
		n.findLog(t, marks[i], regexp.MustCompile(`msg="cluster link" up=false`))
	}
	noticed := time.Since(down)

	// Meanwhile a line is answered ERROR Cluster unavailable, and nothing
	// else happens for it.
	newcomers := make([]*chatter, len(nodes))
	for i, n := range nodes {
		probes[i].do("PING down", "ERROR "+impl.ErrClusterUnavailable)
		newcomers[i] = connect(t, n.addr, fmt.Sprintf("new%d", i+1))
		newcomers[i].do("USERNAME "+newcomers[i].name, "ERROR "+impl.ErrClusterUnavailable)
	}
	dee.conn.Close()

	// NATS comes back.
	outage := time.Since(down)
	restart := time.Now()
	if err := nats.Start(); err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		n.findLog(t, marks[i], regexp.MustCompile(`msg="cluster link" up=true`))
	}
	back := time.Since(restart)
	close(resume)
	for i := range nodes {
		probes[i].do("PING up", "PONG up")
		newcomers[i].do("USERNAME "+newcomers[i].name, "OK Welcome, "+newcomers[i].name+"!")
	}
	for i, c := range talking {
		at := c.arrival(c.must(starts[i], "dee's LEAVE note", is("LEAVE #r dee")))
		if at.Before(restart) {
			t.Errorf("%s received dee's LEAVE note while NATS was down", c.name)
		}
	}
	mark := ann.count()
	ann.must(mark, "5 messages of each talker after the restart", countFrom(5, "ann", "ben", "cid"))
	halt()

	var transcripts [][]string
	for _, c := range talking {
		c.send("end-" + c.name)
	}
	for i, c := range talking {
		for _, who := range talking {
			c.must(starts[i], "the last message of "+who.name, is("ROOM #r "+who.name+" end-"+who.name))
		}
		c.next = c.count()
		pong := c.barrier("done")
		transcripts = append(transcripts, c.received(starts[i])[:pong-starts[i]])
	}
	all := transcripts[0]
	for i, tr := range transcripts[1:] {
		if !slices.Equal(all, tr) {
			t.Errorf("ann and %s received different transcripts, from %s", talking[i+1].name, firstDiff(all, tr))
		}
	}
	var notes []string
	for _, l := range all {
		if !strings.HasPrefix(l, "ROOM ") {
			notes = append(notes, l)
		}
	}
	if !slices.Equal(notes, []string{"LEAVE #r dee"}) {
		t.Errorf("notes in the transcript: %q, want dee's LEAVE once", notes)
	}
	for _, tk := range talkers {
		name := tk.c.name
		got, want := textsOf(all, name), append(tk.echoes(), "end-"+name)
		if !slices.Equal(got, want) {
			t.Errorf("%s's messages in the transcript are not those echoed to it, then its last, from %s", name, firstDiff(want, got))
		}
		var refused, late []string
		for _, s := range tk.sent {
			switch {
			case s.reply == "ERROR "+impl.ErrClusterUnavailable:
				refused = append(refused, s.text)
			case s.echoed() && s.sent.Before(restart) && s.answered.After(restart):
				late = append(late, fmt.Sprintf("%s (sent %v after NATS went, echoed %v after it came back)",
					s.text, s.sent.Sub(down).Round(time.Millisecond), s.answered.Sub(restart).Round(time.Millisecond)))
			}
		}
		t.Logf("%s: %d messages echoed; refused during the outage: %q; in flight across it: %q", name, len(tk.echoes()), refused, late)
	}
	t.Logf("NATS stopped in %v, every node noticed within %v, outage %v; every node reconnected within %v of the restart",
		stoppedIn.Round(time.Millisecond), noticed.Round(time.Millisecond), outage.Round(time.Millisecond), back.Round(time.Millisecond))

	bad := regexp.MustCompile(`msg="cluster node gone"|link error|level=ERROR`)
	for i, n := range nodes {
		for _, l := range n.logSince(0) {
			if bad.MatchString(l) {
				t.Errorf("node %s logged: %s", n.id, l)
			}
		}
		for _, l := range n.logSince(marks[i]) {
			if strings.Contains(l, "cluster") {
				t.Logf("%s: %s", n.id, l)
			}
		}
	}
}
