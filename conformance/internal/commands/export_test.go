package commands

// Synopses returns the synopsis of every command, and of its ! form, by
// name, and whether the command accepts !, for the tests of commands_test.
func Synopses() (synopses map[string]string, neg map[string]bool) {
	synopses, neg = map[string]string{}, map[string]bool{}
	for name, cmd := range byName {
		synopses[name] = cmd.synopsis(false)
		if cmd.neg != nil {
			synopses["! "+name] = cmd.synopsis(true)
			neg[name] = true
		}
	}
	return synopses, neg
}

// ArgCounts returns how many arguments a command takes: at least min, at
// most max (-1: no limit).
func ArgCounts(name string) (min, max int) {
	sy := byName[name].syntax
	return sy.min, sy.max
}
