package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"roomchat.dev/roomchat/spec"
)

// ids returns the IDs of ms.
func ids(ms []Message) []uint64 {
	out := make([]uint64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// seq returns from, from+1, ..., to.
func seq(from, to uint64) []uint64 {
	var out []uint64
	for id := from; id <= to; id++ {
		out = append(out, id)
	}
	return out
}

// fill stores messages 1..n, alternating between the rooms given.
func fill(t *testing.T, db *DB, n uint64, rooms ...string) {
	t.Helper()
	var b Batch
	for id := uint64(1); id <= n; id++ {
		b.Messages = append(b.Messages, msg(id, rooms[int(id-1)%len(rooms)]))
	}
	if err := db.Apply(b); err != nil {
		t.Fatal(err)
	}
}

func TestFetch(t *testing.T) {
	db, _ := openTemp(t)
	fill(t, db, 20, "#Go", "#rust") // #go has the odd IDs
	now := t0.Add(20 * time.Second)
	odd := func(from, to uint64) []uint64 {
		var out []uint64
		for id := from; id <= to; id += 2 {
			out = append(out, id)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    Query
		r    Retention
		want []uint64
	}{
		{"all, folded", Query{Room: "#GO", Now: now}, Retention{}, odd(1, 19)},
		{"spelling kept", Query{Room: "#go", Now: now}, Retention{}, odd(1, 19)},
		{"no such room", Query{Room: "#c", Now: now}, Retention{}, nil},
		{"limit takes the newest", Query{Room: "#go", Limit: 3, Now: now}, Retention{}, odd(15, 19)},
		{"page before", Query{Room: "#go", Before: 15, Limit: 3, Now: now}, Retention{}, odd(9, 13)},
		{"page before the first", Query{Room: "#go", Before: 1, Now: now}, Retention{}, nil},
		{"upto", Query{Room: "#go", Upto: 9, Now: now}, Retention{}, odd(1, 9)},
		{"upto and limit", Query{Room: "#go", Upto: 10, Limit: 2, Now: now}, Retention{}, odd(7, 9)},
		{"before and upto", Query{Room: "#go", Before: 9, Upto: 5, Now: now}, Retention{}, odd(1, 5)},
		{"huge bounds", Query{Room: "#go", Before: 1 << 63, Upto: 1<<64 - 1, Now: now}, Retention{}, odd(1, 19)},
		{"keep", Query{Room: "#go", Now: now}, Retention{Keep: 4}, odd(13, 19)},
		{"keep counts the room, not the page", Query{Room: "#go", Before: 15, Now: now}, Retention{Keep: 4}, odd(13, 13)},
		{"keep counts the room, not upto", Query{Room: "#go", Upto: 12, Now: now}, Retention{Keep: 4}, nil},
		{"keep beyond the room", Query{Room: "#go", Now: now}, Retention{Keep: 100}, odd(1, 19)},
		{"keep 1", Query{Room: "#rust", Now: now}, Retention{Keep: 1}, []uint64{20}},
		// Message id was sent at t0+id s; at now = t0+20s, MaxAge 5s keeps 15..20.
		{"max age", Query{Room: "#go", Now: now}, Retention{MaxAge: 5 * time.Second}, odd(15, 19)},
		{"max age and keep", Query{Room: "#go", Now: now}, Retention{Keep: 2, MaxAge: 5 * time.Second}, odd(17, 19)},
		{"max age excludes all", Query{Room: "#go", Now: now.Add(time.Hour)}, Retention{MaxAge: time.Minute}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := db.Fetch(tc.q, tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(ms); !slices.Equal(got, tc.want) {
				t.Errorf("Fetch = %v, want %v", got, tc.want)
			}
			for _, m := range ms {
				if m != msg(m.ID, m.Room) || spec.Fold(m.Room) != spec.Fold(tc.q.Room) {
					t.Errorf("message %+v is not as stored", m)
				}
			}
		})
	}
}

// TestFetchMaxAgeEdge checks the age limit to the millisecond: a message
// exactly MaxAge old is kept, one a millisecond older is not, and a cut-off
// between two milliseconds rounds the right way.
func TestFetchMaxAgeEdge(t *testing.T) {
	db, _ := openTemp(t)
	b := Batch{Messages: []Message{
		{ID: 1, Time: t0, Room: "#a"},
		{ID: 2, Time: t0.Add(time.Millisecond), Room: "#a"},
		{ID: 3, Time: t0.Add(1500 * time.Microsecond), Room: "#a"}, // stored as t0+1ms
	}}
	if err := db.Apply(b); err != nil {
		t.Fatal(err)
	}
	r := Retention{MaxAge: time.Hour}
	for _, tc := range []struct {
		now  time.Time
		want []uint64
	}{
		{t0.Add(time.Hour), []uint64{1, 2, 3}},
		{t0.Add(time.Hour + time.Nanosecond), []uint64{2, 3}},
		{t0.Add(time.Hour + time.Millisecond), []uint64{2, 3}},
		{t0.Add(time.Hour + time.Millisecond + time.Nanosecond), nil},
	} {
		ms, err := db.Fetch(Query{Room: "#a", Now: tc.now}, r)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(ms); !slices.Equal(got, tc.want) {
			t.Errorf("at %v: %v, want %v", tc.now.Sub(t0), got, tc.want)
		}
		if err := db.Trim(r, tc.now); err != nil { // and Trim agrees
			t.Fatal(err)
		}
		ms, _ = db.Fetch(Query{Room: "#a", Now: tc.now}, Retention{})
		if got := ids(ms); !slices.Equal(got, tc.want) {
			t.Errorf("after Trim at %v: %v, want %v", tc.now.Sub(t0), got, tc.want)
		}
	}
	ms, _ := db.Fetch(Query{Room: "#a", Now: t0}, Retention{})
	if len(ms) != 0 {
		t.Fatal("Trim left", ids(ms))
	}
}

func TestFetchTime(t *testing.T) {
	db, _ := openTemp(t)
	at := time.Date(2026, 3, 1, 14, 0, 0, 123456789, time.FixedZone("CET", 3600))
	if err := db.Apply(Batch{Messages: []Message{{ID: 1, Time: at, Room: "#a"}}}); err != nil {
		t.Fatal(err)
	}
	ms, err := db.Fetch(Query{Room: "#a"}, Retention{})
	if err != nil {
		t.Fatal(err)
	}
	want := at.Truncate(time.Millisecond).UTC()
	if got := ms[0].Time; got != want || got.Location() != time.UTC {
		t.Errorf("time %v, want %v", got, want)
	}
}

// TestFetchModel compares Fetch with a plain model on random histories and
// queries, and checks that Trim never changes what Fetch returns.
func TestFetchModel(t *testing.T) {
	db, _ := openTemp(t)
	rng := rand.New(rand.NewPCG(1, 2))
	rooms := []string{"#a", "#A", "#b", "#c_"}
	var all []Message // the model: every message stored, by ID
	id := uint64(0)
	for round := 0; round < 30; round++ {
		var b Batch
		for range rng.IntN(40) {
			id += 1 + uint64(rng.IntN(3))
			b.Messages = append(b.Messages, Message{
				ID:   id,
				Time: t0.Add(time.Duration(rng.IntN(3600_000)) * time.Millisecond), // not in ID order
				Room: rooms[rng.IntN(len(rooms))],
				User: "u",
				Text: fmt.Sprint(id),
			})
		}
		if err := db.Apply(b); err != nil {
			t.Fatal(err)
		}
		all = append(all, b.Messages...)
		for range 20 {
			q := Query{
				Room:  rooms[rng.IntN(len(rooms))],
				Limit: rng.IntN(8),
				Now:   t0.Add(time.Duration(rng.IntN(2*3600_000)) * time.Millisecond),
			}
			if rng.IntN(2) == 0 {
				q.Before = uint64(rng.IntN(int(id) + 2))
			}
			if rng.IntN(2) == 0 {
				q.Upto = uint64(rng.IntN(int(id) + 2))
			}
			var r Retention
			if rng.IntN(2) == 0 {
				r.Keep = 1 + rng.IntN(20)
			}
			if rng.IntN(2) == 0 {
				r.MaxAge = time.Duration(rng.IntN(3600_000)) * time.Millisecond
			}
			want := ids(model(all, q, r))
			got, err := db.Fetch(q, r)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), want) {
				t.Fatalf("Fetch(%+v, %+v) = %v, want %v", q, r, ids(got), want)
			}
		}
		// Trim with some retention, apply it to the model as well, and
		// check that a Fetch under the same rules is unchanged by it.
		r := Retention{Keep: 5 + rng.IntN(30), MaxAge: time.Duration(rng.IntN(2*3600_000)) * time.Millisecond}
		now := t0.Add(time.Duration(rng.IntN(2*3600_000)) * time.Millisecond)
		var before [][]uint64
		for _, room := range rooms {
			ms, err := db.Fetch(Query{Room: room, Now: now}, r)
			if err != nil {
				t.Fatal(err)
			}
			before = append(before, ids(ms))
		}
		if err := db.Trim(r, now); err != nil {
			t.Fatal(err)
		}
		var kept []Message
		for _, room := range rooms[1:] { // #a and #A are one room
			kept = append(kept, model(all, Query{Room: room, Now: now}, r)...)
		}
		slices.SortFunc(kept, func(a, b Message) int { return int(a.ID) - int(b.ID) })
		all = kept
		for i, room := range rooms {
			ms, err := db.Fetch(Query{Room: room, Now: now}, r)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(ms), before[i]) {
				t.Fatalf("Trim(%+v) changed Fetch %s from %v to %v", r, room, before[i], ids(ms))
			}
			ms, _ = db.Fetch(Query{Room: room}, Retention{})
			if want := ids(model(all, Query{Room: room}, Retention{})); !slices.Equal(ids(ms), want) {
				t.Fatalf("after Trim(%+v), room %s holds %v, want %v", r, room, ids(ms), want)
			}
		}
	}
}

// model is Fetch on a slice of messages ordered by ID, written as the
// definition reads.
func model(all []Message, q Query, r Retention) []Message {
	var room []Message
	for _, m := range all {
		if spec.Fold(m.Room) == spec.Fold(q.Room) {
			room = append(room, m)
		}
	}
	if r.Keep > 0 && len(room) > r.Keep {
		room = room[len(room)-r.Keep:]
	}
	var out []Message
	for _, m := range room {
		if q.Before > 0 && m.ID >= q.Before || q.Upto > 0 && m.ID > q.Upto {
			continue
		}
		if r.MaxAge > 0 && m.Time.Truncate(time.Millisecond).Before(q.Now.Add(-r.MaxAge)) {
			continue
		}
		out = append(out, m)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out
}
