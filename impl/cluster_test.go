package impl_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// startNodes starts the nodes of a cluster whose log is in memory, each a
// server on a port of its own, all offering rooms.
func startNodes(t *testing.T, fc *impl.FakeCluster, names ...string) []*testServer {
	t.Helper()
	nodes := make([]*testServer, len(names))
	for i, n := range names {
		nodes[i] = startServer(t, impl.Config{Offer: spec.ExtRooms, Cluster: fc.Node(n)})
	}
	return nodes
}

// named connects a client to node and gives it name.
func named(t *testing.T, node *testServer, name string) *testClient {
	t.Helper()
	c := node.dial(t, name)
	c.send("USERNAME " + name)
	c.expect("OK Welcome, " + name + "!")
	return c
}

// teaParty puts alice, bob and carol, of nodes a, b and c, in #tea.
func teaParty(t *testing.T, nodes []*testServer) (alice, bob, carol *testClient) {
	t.Helper()
	alice, bob, carol = named(t, nodes[0], "alice"), named(t, nodes[1], "bob"), named(t, nodes[2], "carol")
	alice.send("JOIN #tea")
	alice.expect("OK Joined #tea (0 users)")
	bob.send("JOIN #tea")
	bob.expect("OK Joined #tea (1 users)", "JOIN #tea alice")
	alice.expect("JOIN #tea bob")
	carol.send("JOIN #Tea")
	carol.expect("OK Joined #tea (2 users)", "JOIN #tea alice", "JOIN #tea bob")
	alice.expect("JOIN #tea carol")
	bob.expect("JOIN #tea carol")
	return alice, bob, carol
}

// TestClusterOneChat: clients of three nodes share names, rooms and
// messages, in one order, as if they were on one server.
func TestClusterOneChat(t *testing.T) {
	var fc impl.FakeCluster
	nodes := startNodes(t, &fc, "a", "b", "c")
	alice, bob, carol := teaParty(t, nodes)

	other := nodes[1].dial(t, "other")
	other.send("USERNAME ALICE") // NAME-4 across nodes
	other.expect("ERROR Username taken")

	// Three senders at once: every member sees the same order (ORDER-2).
	var wg sync.WaitGroup
	for _, c := range []*testClient{alice, bob, carol} {
		wg.Add(1)
		go func() { defer wg.Done(); c.send("hello from " + c.label) }()
	}
	wg.Wait()
	var orders [][]string
	for _, c := range []*testClient{alice, bob, carol} {
		var got []string
		for range 3 {
			l, err := c.readLine()
			if err != nil {
				t.Fatalf("%s: %v", c.label, err)
			}
			got = append(got, l)
		}
		orders = append(orders, got)
	}
	for _, o := range orders[1:] {
		if !slices.Equal(o, orders[0]) {
			t.Fatalf("members saw different orders:\n%q\n%q", orders[0], o)
		}
	}
	for _, who := range []string{"alice", "bob", "carol"} {
		if !slices.Contains(orders[0], "ROOM #tea "+who+" hello from "+who) {
			t.Errorf("%s's message is missing from %q", who, orders[0])
		}
	}

	carol.send("PRIVMSG ALICE psst")
	carol.expect("OK Sent")
	alice.expect("PRIVMSG carol psst")
	bob.send("USERS")
	bob.expect("USERLIST alice bob carol")
	bob.send("ROOMS")
	bob.expect("ROOMLIST #tea")

	carol.send("QUIT")
	carol.expect("OK Goodbye!")
	alice.expect("LEAVE #tea carol")
	bob.expect("LEAVE #tea carol")
	named(t, nodes[0], "carol") // the name is free on every node
	syncAll(alice, bob)
}

// TestClusterNameRace: two nodes' clients ask for one name at once; one
// gets it, on both nodes alike.
func TestClusterNameRace(t *testing.T) {
	var fc impl.FakeCluster
	nodes := startNodes(t, &fc, "a", "b")
	for i := range 20 {
		name := fmt.Sprintf("racer%d", i)
		x, y := nodes[0].dial(t, "x"), nodes[1].dial(t, "y")
		var wg sync.WaitGroup
		for _, c := range []*testClient{x, y} {
			wg.Add(1)
			go func() { defer wg.Done(); c.send("USERNAME " + name) }()
		}
		wg.Wait()
		var welcomed int
		for _, c := range []*testClient{x, y} {
			switch l, err := c.readLine(); {
			case err != nil:
				t.Fatal(err)
			case l == "OK Welcome, "+name+"!":
				welcomed++
			case l != "ERROR Username taken":
				t.Fatalf("%s: %q", c.label, l)
			}
		}
		if welcomed != 1 {
			t.Fatalf("%s: %d clients got the name", name, welcomed)
		}
	}
}

// TestClusterNodeGone: a node that dies takes its users with it; the
// others hear each one's LEAVE once, in every room, and the names are
// free.
func TestClusterNodeGone(t *testing.T) {
	var fc impl.FakeCluster
	nodes := startNodes(t, &fc, "a", "b", "c")
	alice, bob, carol := teaParty(t, nodes)
	carol.send("CAPS rooms") // a text line once named: MSG-4
	carol.expect("ROOM #tea carol CAPS rooms")
	alice.expect("ROOM #tea carol CAPS rooms")
	bob.expect("ROOM #tea carol CAPS rooms")

	fc.Kill("c")
	alice.expect("LEAVE #tea carol")
	bob.expect("LEAVE #tea carol")
	syncAll(alice, bob) // nothing more: one note each
	named(t, nodes[1], "carol")
}

// TestClusterNodeShutdown: a node that shuts down sends its own clients
// the notice of SHUT-1; the other nodes' clients see its users leave.
func TestClusterNodeShutdown(t *testing.T) {
	var fc impl.FakeCluster
	nodes := startNodes(t, &fc, "a", "b", "c")
	alice, bob, carol := teaParty(t, nodes)
	if err := nodes[2].shutdown(); err != nil {
		t.Fatal(err)
	}
	carol.expect("ERROR Server shutting down")
	carol.expectClosed()
	alice.expect("LEAVE #tea carol")
	bob.expect("LEAVE #tea carol")
	syncAll(alice, bob)
}

// TestClusterLateNode: a node that starts later replays the log and knows
// the chat so far: rooms, members and their history (JOIN-6).
func TestClusterLateNode(t *testing.T) {
	var fc impl.FakeCluster
	nodes := startNodes(t, &fc, "a", "b")
	alice := named(t, nodes[0], "alice")
	alice.send("JOIN #tea")
	alice.expect("OK Joined #tea (0 users)")
	alice.send("first")
	alice.expect("ROOM #tea alice first")

	late := startNodes(t, &fc, "late")[0]
	dave := named(t, late, "dave")
	dave.send("JOIN #tea")
	dave.expect("OK Joined #tea (1 users)", "JOIN #tea alice", "ROOM #tea alice first")
	alice.expect("JOIN #tea dave")
}

// TestClusterPausedNode: a node that was declared gone while it was only
// paused runs again and finds the others silent. What it declares then is
// not believed: the other nodes' users stay, and their chat goes on; its
// own users were gone for the cluster, and it closes them.
func TestClusterPausedNode(t *testing.T) {
	var fc impl.FakeCluster
	nodes := startNodes(t, &fc, "a", "b", "c")
	alice, bob, carol := teaParty(t, nodes)
	fc.Kill("c")
	alice.expect("LEAVE #tea carol")
	bob.expect("LEAVE #tea carol")

	fc.Revive("c")
	carol.expect("ERROR " + impl.ErrClusterUnavailable)
	carol.expectClosed()
	alice.send("still here")
	alice.expect("ROOM #tea alice still here")
	bob.expect("ROOM #tea alice still here")
	syncAll(alice, bob)
}
