package model

import "roomchat.dev/roomchat/spec"

// caps is CAPS-1 and CAPS-2. The parser gives a CAPS command only in NEW
// on a server that offers extensions; elsewhere the line is a text line.
func (st *stepper) caps(cmd spec.Command) {
	names := cmd.Names()
	if len(names) == 0 {
		st.reply(spec.CapsLine(st.s.offer.Names())) // CAPS-1
		return
	}
	var add spec.Ext
	for _, n := range names {
		x, ok := spec.ParseExt(n)
		if !ok || !st.s.offer.Has(x) {
			st.fail(spec.ErrUnknownExt) // and nothing is enabled
			return
		}
		add |= x
	}
	st.s.conns[st.s.connIndex(st.id)].ext |= add
	st.reply(spec.OKLine(spec.OKEnabled(names)))
}
