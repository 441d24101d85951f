package modelcheck

import (
	"math/bits"
	"strconv"
	"strings"
	"unicode"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/spec"
)

// pools holds the names and texts a test case draws from. Valid names carry
// the case's suffix, so that cases can share one long-running server; the
// pools are small so that names collide, rooms fill and empty, and private
// messages find their targets.
//
// No valid room name of the pool, case-folded, is a prefix of another: the
// suffix follows the part that tells them apart, so that the order of ROOMS
// (ROOMS-1) does not depend on the suffix, and a failure found with one
// suffix recurs with another. #x_y and #xZ sort one way when folded to lower
// case and the other way when folded to upper case; so do #_q and any room
// that starts with a letter.
type pools struct {
	names, oddNames, rooms, oddRooms, texts []string
	// crowd are the names gather gives the clients it names, by slot.
	crowd []string
	// moreRooms are the rooms of roam, with a server that offers rooms:
	// more than MaxRoomsPerUser, so that a client can be refused one
	// (MULTI-2).
	moreRooms []string
	sfx       string
	// ext are the extensions of section 13 the server implements, whose
	// lines the generator draws too (ext.go); none for a core server.
	ext spec.Ext
	// failing: the sequence may fail logins (failLoginsGen), and draws
	// LOGINs that fail more often.
	failing bool
}

// The look-alikes of the pool's names: non-ASCII letters that Unicode case
// folding (strings.EqualFold) maps to ASCII ones, which ASCII folding
// (NAME-3) leaves alone: U+212A KELVIN SIGN folds to k, U+017F LATIN SMALL
// LETTER LONG S to s.
const (
	kelvin = "\u212a"
	longS  = "\u017f"
)

func newPools(sfx string, ext spec.Ext) pools {
	long := func(prefix string, n int) string { // a name of exactly n bytes, suffix included
		return prefix + strings.Repeat("n", n-len(prefix)-len(sfx)) + sfx
	}
	p := pools{
		names: []string{"alice" + sfx, "Alice" + sfx, "kim" + sfx, "KIM" + sfx, "sam" + sfx, kelvin + "im" + sfx},
		oddNames: []string{
			long("m", spec.MaxNameLen), long("m", spec.MaxNameLen+1), "bad name", "x!" + sfx, "-" + sfx,
			longS + "am" + sfx, longS + "AM" + sfx,
		},
		rooms: []string{"#a" + sfx, "#a" + sfx, "#A" + sfx, "#b" + sfx, "#_q" + sfx, "#x_y" + sfx, "#xZ" + sfx},
		oddRooms: []string{
			long("#r", spec.MaxRoomLen), long("#r", spec.MaxRoomLen+1), "nohash" + sfx, "#", "#bad room" + sfx,
			"#" + kelvin + sfx,
		},
		texts: []string{
			"hi", "  spaced  out", "join #a", "/join #b", "é ünïcödé ✓", "MSG inner", "PRIVMSG x y",
		},
		crowd: []string{"alice" + sfx, "kim" + sfx, "sam" + sfx, "bob" + sfx},
		sfx:   sfx,
		ext:   ext,
	}
	if ext != 0 {
		p.texts = append(p.texts, extTexts...)
	}
	if ext.Has(spec.ExtRooms) {
		p.moreRooms = []string{"#a" + sfx, "#b" + sfx, "#_q" + sfx, "#x_y" + sfx, "#xZ" + sfx}
		for i := 0; len(p.moreRooms) <= spec.MaxRoomsPerUser; i++ {
			p.moreRooms = append(p.moreRooms, "#r"+strconv.Itoa(i)+sfx)
		}
	}
	return p
}

// crowdName is the name gather gives the client in slot n.
func (p pools) crowdName(n int) string {
	if n <= len(p.crowd) {
		return p.crowd[n-1]
	}
	return "u" + strconv.Itoa(n) + p.sfx
}

// nameGen draws a username, usually one of the common ones.
func (p pools) nameGen() *rapid.Generator[string] {
	return oneOfWeighted(weighted{5, pick(p.names)}, weighted{1, pick(p.oddNames)})
}

// roomGen draws a room name, usually one of the common ones.
func (p pools) roomGen() *rapid.Generator[string] {
	return oneOfWeighted(weighted{5, pick(p.rooms)}, weighted{1, pick(p.oddRooms)})
}

// textGen draws message text: from the pool, or any printable string.
func (p pools) textGen() *rapid.Generator[string] {
	return oneOfWeighted(
		weighted{3, pick(p.texts)},
		weighted{1, rapid.StringOfN(rapid.RuneFrom(nil, unicode.L, unicode.N, unicode.P, unicode.S, unicode.Zs), 1, 40, -1)},
	)
}

// spaceGen draws the space between a command's word and its arguments:
// mostly one, sometimes more (GRAM-3, GRAM-4). It shrinks to one.
var spaceGen = pick([]string{" ", " ", " ", " ", " ", " ", "  ", "   "})

// commandGen draws one client line without its terminator: mostly commands
// with valid or invalid arguments, sometimes text lines, malformed commands,
// or bytes that break the framing rules; and, for a server that
// implements extensions, the lines of section 13 (ext.go). The first
// choices are the simplest, as rapid shrinks towards them.
func (p pools) commandGen() *rapid.Generator[string] {
	name := p.nameGen()
	room := p.roomGen()
	text := p.textGen()
	gens := []weighted{
		weighted{4, rapid.Custom(func(t *rapid.T) string {
			return "USERNAME" + spaceGen.Draw(t, "sp") + name.Draw(t, "name")
		})},
		weighted{5, rapid.Custom(func(t *rapid.T) string {
			return "JOIN" + spaceGen.Draw(t, "sp") + room.Draw(t, "room")
		})},
		weighted{5, rapid.Custom(func(t *rapid.T) string {
			return "MSG" + spaceGen.Draw(t, "sp") + text.Draw(t, "text")
		})},
		weighted{2, rapid.Just("LEAVE")},
		weighted{3, text},
		weighted{4, rapid.Custom(func(t *rapid.T) string {
			return "PRIVMSG" + spaceGen.Draw(t, "sp") + name.Draw(t, "to") + spaceGen.Draw(t, "sp") + text.Draw(t, "text")
		})},
		weighted{4, pick([]string{"ROOMS", "USERS", "PING", "PING a token", "ROOMS", "USERS"})},
		weighted{1, rapid.Just("QUIT")},
		weighted{2, pick([]string{
			"", "LEAVE now", "MSG", "MSG ", "PRIVMSG", "PRIVMSG kim", "USERNAME", "JOIN", "ROOMS x", "USERS x",
			"QUIT now", "join #a", "Username x",
		})},
		weighted{2, pick([]string{
			"MSG a\x00b", "\xff\xfe", "USERNAME al\x07ice", "MSG cr\rhere", "MSG \x1b[31mred", "MSG c1\u0085",
			"MSG tab\there", "MSG \xc3", "\x7f",
		})},
		weighted{1, rapid.StringMatching(`[ -~]{0,30}`)},
	}
	if p.ext != 0 {
		gens = append(gens, p.extCommands()...)
	}
	return oneOfWeighted(gens...)
}

// choice draws an index from 0 to n-1 as single bits, the cheapest draws
// for rapid to shrink: one try a bit, towards 0 (rapid's own integers
// draw a 53-bit bias first, which takes dozens of replays of the sequence
// to shrink). When n is not a power of two, the lowest indexes are drawn
// a little more often.
func choice(n int) *rapid.Generator[int] {
	k := bits.Len(uint(n - 1))
	return rapid.Custom(func(t *rapid.T) int {
		u := 0
		for i := range k {
			if rapid.Bool().Draw(t, "bit") {
				u |= 1 << i
			}
		}
		return u % n
	})
}

// pick draws one of xs, shrinking towards the first.
func pick[E any](xs []E) *rapid.Generator[E] {
	return rapid.Map(choice(len(xs)), func(i int) E { return xs[i] })
}

// intRange draws an integer from lo to hi, shrinking towards lo.
func intRange(lo, hi int) *rapid.Generator[int] {
	return rapid.Map(choice(hi-lo+1), func(i int) int { return lo + i })
}

// weighted is a generator drawn w times as often as one of weight 1.
type weighted struct {
	w   int
	gen *rapid.Generator[string]
}

// oneOfWeighted chooses among generators in proportion to their weights.
func oneOfWeighted(gs ...weighted) *rapid.Generator[string] {
	var all []*rapid.Generator[string]
	for _, g := range gs {
		for range g.w {
			all = append(all, g.gen)
		}
	}
	which := choice(len(all))
	return rapid.Custom(func(t *rapid.T) string {
		return all[which.Draw(t, "which")].Draw(t, "")
	})
}
