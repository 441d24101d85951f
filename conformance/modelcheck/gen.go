package modelcheck

import (
	"strings"
	"unicode"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/spec"
)

// pools holds the names and texts a test case draws from. Valid names carry
// the case's suffix, so that cases can share one long-running server; the
// pools are small so that names collide, rooms fill and empty, and private
// messages find their targets.
type pools struct {
	names, oddNames, rooms, oddRooms, texts []string
}

func newPools(sfx string) pools {
	long := func(prefix string, n int) string { // a name of exactly n bytes, suffix included
		return prefix + strings.Repeat("n", n-len(prefix)-len(sfx)) + sfx
	}
	return pools{
		names: []string{"alice" + sfx, "Alice" + sfx, "bob" + sfx, "BOB" + sfx, "carol" + sfx},
		oddNames: []string{
			long("m", spec.MaxNameLen), long("m", spec.MaxNameLen+1), "bad name", "x!" + sfx, "-" + sfx,
		},
		rooms: []string{"#a" + sfx, "#A" + sfx, "#b" + sfx},
		oddRooms: []string{
			long("#r", spec.MaxRoomLen), long("#r", spec.MaxRoomLen+1), "nohash" + sfx, "#", "#bad room" + sfx,
		},
		texts: []string{
			"hi", "  spaced  out", "join #a", "/join #b", "é ünïcödé ✓", "MSG inner", "PRIVMSG x y",
		},
	}
}

// nameGen draws a username, usually one of the common ones.
func (p pools) nameGen() *rapid.Generator[string] {
	return oneOfWeighted(weighted{4, rapid.SampledFrom(p.names)}, weighted{1, rapid.SampledFrom(p.oddNames)})
}

// roomGen draws a room name, usually one of the common ones.
func (p pools) roomGen() *rapid.Generator[string] {
	return oneOfWeighted(weighted{4, rapid.SampledFrom(p.rooms)}, weighted{1, rapid.SampledFrom(p.oddRooms)})
}

// textGen draws message text: from the pool, or any printable string.
func (p pools) textGen() *rapid.Generator[string] {
	return rapid.OneOf(
		rapid.SampledFrom(p.texts),
		rapid.StringOfN(rapid.RuneFrom(nil, unicode.L, unicode.N, unicode.P, unicode.S, unicode.Zs), 1, 40, -1),
	)
}

// commandGen draws one client line without its terminator: mostly commands
// with valid or invalid arguments, sometimes text lines, malformed commands,
// or bytes that break the framing rules.
func (p pools) commandGen() *rapid.Generator[string] {
	name := p.nameGen()
	room := p.roomGen()
	text := p.textGen()
	return oneOfWeighted(
		weighted{4, rapid.Map(name, func(n string) string { return "USERNAME " + n })},
		weighted{5, rapid.Map(room, func(r string) string { return "JOIN " + r })},
		weighted{2, rapid.Just("LEAVE")},
		weighted{5, rapid.Map(text, func(t string) string { return "MSG " + t })},
		weighted{4, text},
		weighted{4, rapid.Custom(func(t *rapid.T) string {
			return "PRIVMSG " + name.Draw(t, "to") + " " + text.Draw(t, "text")
		})},
		weighted{3, rapid.SampledFrom([]string{"ROOMS", "USERS", "PING", "PING a token"})},
		weighted{1, rapid.Just("QUIT")},
		weighted{2, rapid.SampledFrom([]string{
			"", "LEAVE now", "MSG", "MSG ", "PRIVMSG", "PRIVMSG bob", "USERNAME", "JOIN", "ROOMS x", "USERS x",
			"QUIT now", "join #a", "Username x",
		})},
		weighted{2, rapid.SampledFrom([]string{
			"MSG a\x00b", "\xff\xfe", "USERNAME al\x07ice", "MSG cr\rhere", "MSG \x1b[31mred", "MSG c1\u0085",
			"MSG tab\there", "MSG \xc3", "\x7f",
		})},
		weighted{1, rapid.StringMatching(`[ -~]{0,30}`)},
	)
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
	return rapid.OneOf(all...)
}
