package commands

import (
	"errors"
	"fmt"
	"strings"
)

// A command's args in the table is its synopsis, as usage messages and the
// reference show it, and also what the shared parser reads to check the
// arguments of a call, so that the syntax is written once:
//
//	WORD             one argument
//	WORD...          one or more
//	[WORD...]        any number
//	[-opt]           a switch
//	[-opt VALUE]     an option and its value
//	[-a | -b]        options that exclude each other
//	[-opt VALUE]...  an option that may be given more than once
//	[-a X [-b Y]]    -b goes with -a (the command checks that)
//
// The options are the bracketed words before the first argument. In a
// script they come first too, in any order, each at most once unless it is
// marked with ...; the first word that does not begin with - ends them.
// Their values are expanded as the commands expand arguments ($U). Brackets
// after the first argument are left to the command (recvmerge's -any): they
// only leave the number of arguments open. A word with brackets inside,
// such as NAME[,NAME]..., is one argument.

// A syntax is what the parser learnt from a synopsis.
type syntax struct {
	opts map[string]*option // by name, such as "-rate"
	min  int                // arguments at least
	max  int                // arguments at most; -1 for no limit
}

// An option is one option of a syntax.
type option struct {
	name   string    // such as -rate
	value  string    // the name of its value, such as N; "" for a switch
	repeat bool      // it may be given more than once
	group  *optGroup // the innermost brackets around it
}

// An optGroup is a pair of brackets holding options.
type optGroup struct {
	opts []*option
	alt  bool // its options are alternatives ([-a | -b]): they exclude each other
}

// parseSyntax parses a synopsis.
func parseSyntax(synopsis string) (*syntax, error) {
	sy := &syntax{opts: map[string]*option{}}
	var open []*optGroup // the brackets open, innermost last
	var prev *option     // the option of the word before, which may take a value
	args, openEnded := false, false
	for _, tok := range strings.Fields(synopsis) {
		word := strings.TrimLeft(tok, "[")
		for range len(tok) - len(word) {
			open = append(open, &optGroup{})
		}
		word, repeat := strings.CutSuffix(word, "...")
		closes := len(word) - len(strings.TrimRight(word, "]")) - strings.Count(word, "[")
		closes = max(closes, 0) // NAME[,NAME]: the brackets are part of the word
		word = word[:len(word)-closes]
		depth := len(open)
		prevOpt := prev
		prev = nil
		switch {
		case word == "" || closes > depth:
			return nil, fmt.Errorf("synopsis %q: unbalanced brackets", synopsis)
		case word == "|":
			if depth == 0 {
				return nil, fmt.Errorf("synopsis %q: | outside brackets", synopsis)
			}
			open[depth-1].alt = true
		case depth > 0 && !args && strings.HasPrefix(word, "-"):
			if sy.opts[word] != nil {
				return nil, fmt.Errorf("synopsis %q: %s twice", synopsis, word)
			}
			o := &option{name: word, group: open[depth-1]}
			o.group.opts = append(o.group.opts, o)
			sy.opts[word] = o
			prev = o
		case depth > 0 && !args && prevOpt != nil:
			prevOpt.value = word
		case depth > 0:
			openEnded = true // optional words, left to the command
		default:
			args = true
			sy.min++
			openEnded = openEnded || repeat
		}
		for i := range closes {
			g := open[len(open)-1]
			open = open[:len(open)-1]
			if repeat && i == closes-1 {
				for _, o := range g.opts {
					o.repeat = true
				}
			}
			prev = nil
		}
	}
	if len(open) > 0 {
		return nil, fmt.Errorf("synopsis %q: unbalanced brackets", synopsis)
	}
	sy.max = sy.min
	if openEnded {
		sy.max = -1
	}
	return sy, nil
}

// errUsage reports a call that does not fit the synopsis.
var errUsage = errors.New("usage")

// options are the options of one call: the values of each option given, in
// order; a switch has an empty value for each time it is given.
type options map[string][]string

// has reports whether the option was given.
func (o options) has(name string) bool {
	_, ok := o[name]
	return ok
}

// value returns the value of the option, or "" if it was not given.
func (o options) value(name string) string {
	if v := o[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// parse splits the words of a call into options, whose values it expands,
// and arguments, which it leaves to the command, and checks them against
// the syntax. A call that does not fit is an errUsage.
func (sy *syntax) parse(words []string, expand func(string) string) (options, []string, error) {
	opts := options{}
	for len(sy.opts) > 0 && len(words) > 0 && strings.HasPrefix(words[0], "-") {
		o := sy.opts[words[0]]
		if o == nil {
			return nil, nil, errUsage
		}
		val := ""
		if o.value != "" {
			if len(words) < 2 {
				return nil, nil, errUsage
			}
			val, words = expand(words[1]), words[2:]
		} else {
			words = words[1:]
		}
		if opts.has(o.name) && !o.repeat {
			return nil, nil, fmt.Errorf("%s given twice", o.name)
		}
		if o.group.alt {
			for _, other := range o.group.opts {
				if other != o && opts.has(other.name) {
					return nil, nil, errUsage
				}
			}
		}
		opts[o.name] = append(opts[o.name], val)
	}
	if len(words) < sy.min || sy.max >= 0 && len(words) > sy.max {
		return nil, nil, errUsage
	}
	return opts, words, nil
}
