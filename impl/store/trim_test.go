package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"roomchat.dev/roomchat/spec"
)

// TestTrimIncremental checks the trims the Writer makes against the model
// of TestFetchModel: of the rooms appended to only, a few messages at a
// time, with the rooms' counts carried from one trim to the next and
// adjusted by the deletions by age. No trim changes what Fetch returns;
// once one leaves nothing to delete, every room holds what Fetch returns,
// and the counts are those of the file.
func TestTrimIncremental(t *testing.T) {
	db, _ := openTemp(t)
	rng := rand.New(rand.NewPCG(3, 4))
	rooms := []string{"#a", "#A", "#b", "#c_"}
	r := Retention{Keep: 7}
	var all []Message // the model
	id := uint64(0)
	for round := range 150 {
		var b Batch
		dirty := map[string]bool{}
		for range rng.IntN(15) {
			id += 1 + uint64(rng.IntN(3))
			m := Message{
				ID:   id,
				Time: t0.Add(time.Duration(rng.IntN(3600_000)) * time.Millisecond), // not in ID order
				Room: rooms[rng.IntN(len(rooms))],
				User: "u",
				Text: fmt.Sprint(id),
			}
			b.Messages = append(b.Messages, m)
			dirty[spec.Fold(m.Room)] = true
		}
		if err := db.Apply(b); err != nil {
			t.Fatal(err)
		}
		all = append(all, b.Messages...)
		r.MaxAge = 0
		if rng.IntN(3) == 0 {
			r.MaxAge = time.Duration(rng.IntN(3600_000)) * time.Millisecond
		}
		now := t0.Add(time.Duration(rng.IntN(2*3600_000)) * time.Millisecond)
		fetch := func() (rs [][]uint64) {
			t.Helper()
			for _, room := range rooms[1:] {
				ms, err := db.Fetch(Query{Room: room, Now: now}, r)
				if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, ids(ms))
			}
			return rs
		}
		before := fetch()
		if round%10 == 9 {
			if err := db.Trim(r, now); err != nil { // all rooms, counted afresh
				t.Fatal(err)
			}
		} else {
			var some []string
			for room := range dirty {
				some = append(some, room)
			}
			for trims := 0; ; trims++ {
				left, err := db.trim(r, now, some, false, 1+rng.IntN(4))
				if err != nil {
					t.Fatal(err)
				}
				if after := fetch(); !slices.EqualFunc(after, before, slices.Equal) {
					t.Fatalf("round %d: a trim with %+v changed Fetch from %v to %v", round, r, before, after)
				}
				if left.done() {
					break
				}
				if trims > 1000 {
					t.Fatalf("%+v still left after %d trims", left, trims)
				}
				some = left.over
			}
		}
		var kept []Message
		for _, room := range rooms[1:] { // #a and #A are one room
			kept = append(kept, model(all, Query{Room: room, Now: now}, r)...)
		}
		slices.SortFunc(kept, func(a, b Message) int { return int(a.ID) - int(b.ID) })
		all = kept
		for _, room := range rooms[1:] {
			ms, err := db.Fetch(Query{Room: room}, Retention{})
			if err != nil {
				t.Fatal(err)
			}
			if want := ids(model(all, Query{Room: room}, Retention{})); !slices.Equal(ids(ms), want) {
				t.Fatalf("round %d: after trims with %+v, room %s holds %v, want %v", round, r, room, ids(ms), want)
			}
		}
		for room, n := range db.counts {
			if got := count(t, db, room); got != n {
				t.Fatalf("round %d: room %s counted %d, holds %d", round, room, n, got)
			}
		}
	}
}

// TestTrimWrongCount checks that a trim that finds fewer messages to
// delete than a room's count says (which only a change that bypassed the
// DB could cause) deletes nothing and counts the room again next time.
func TestTrimWrongCount(t *testing.T) {
	db, _ := openTemp(t)
	if err := db.Apply(Batch{Messages: []Message{msg(1, "#a"), msg(2, "#a"), msg(3, "#a")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.trim(Retention{Keep: 3}, t0, []string{"#a"}, false, 0); err != nil {
		t.Fatal(err)
	}
	if n := db.counts["#a"]; n != 3 {
		t.Fatalf("#a counted %d, want 3", n)
	}
	if _, err := db.sql.Exec("DELETE FROM messages WHERE id < 3"); err != nil { // behind the DB's back
		t.Fatal(err)
	}
	keep := Retention{Keep: 1}
	_, err := db.trim(keep, t0, []string{"#a"}, false, 0)
	if err == nil {
		t.Fatal("trim with a wrong count succeeded")
	}
	t.Logf("trim: %v", err)
	if got := count(t, db, "#a"); got != 1 {
		t.Fatalf("%d messages left, want 1", got)
	}
	if _, err := db.trim(keep, t0, []string{"#a"}, false, 0); err != nil {
		t.Fatal(err)
	}
	if n := db.counts["#a"]; n != 1 {
		t.Errorf("#a counted %d, want 1", n)
	}
	if got := count(t, db, "#a"); got != 1 {
		t.Errorf("%d messages left, want 1", got)
	}
}

// TestLastTimeOutlivesTrimByCount checks that a trim by count records the
// latest time before it deletes the message that carries it, which it can
// when the clock was stepped back.
func TestLastTimeOutlivesTrimByCount(t *testing.T) {
	db, _ := openTemp(t)
	late := t0.Add(time.Hour)
	if err := db.Apply(Batch{Messages: []Message{
		{ID: 1, Time: late, Room: "#a", User: "u", Text: "before the clock went back"},
		{ID: 2, Time: t0, Room: "#a", User: "u", Text: "after"},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Trim(Retention{Keep: 1}, t0); err != nil {
		t.Fatal(err)
	}
	s, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !s.LastTime.Equal(late) || s.LastID != 2 {
		t.Errorf("Load = LastID %d, LastTime %v; want 2, %v", s.LastID, s.LastTime, late)
	}
}
