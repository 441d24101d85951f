package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// A comparison runs the same work against several servers or setups, its
// variants, round by round, the order rotating each round so that every
// variant sees the machine as busy as the others, and reports the median
// of each figure and its ratio to the first variant's in the same round:
//
//   - with -floor, the first variant is that plain relay ("floor"), run in
//     the plain dialect (plain.go), and the server of -exec follows;
//   - with -idle-rooms and no load, connections in rooms are compared with
//     as many in the lobby of the same server ("lobby", then "rooms"),
//     after the floor's, if any;
//   - otherwise the one variant is the server of -exec, run -reps times.

// compare reports whether cfg asks for a comparison rather than one run.
func (c Config) compare() bool { return c.Floor != "" || c.Reps > 1 || c.Scenario == "idle" }

// variant is one of the setups a comparison runs.
type variant struct {
	name string
	cfg  Config
}

// variants returns the setups of the comparison cfg asks for.
func (c Config) variants() []variant {
	base := c
	base.Floor, base.Reps = "", 1
	var vs []variant
	if c.Floor != "" {
		f := base
		f.Exec, f.Dialect, f.IdleRooms, f.Profile = c.Floor, "plain", 0, ""
		vs = append(vs, variant{"floor", f})
	}
	if c.IdleRooms > 0 && c.Clients == 0 {
		lobby := base
		lobby.IdleRooms, lobby.IdleSerial = 0, false
		vs = append(vs, variant{"lobby", lobby}, variant{"rooms", base})
	} else {
		vs = append(vs, variant{"server", base})
	}
	return vs
}

// Comparison is what a comparison found.
type Comparison struct {
	Scenario string        `json:"scenario,omitempty"`
	Reps     int           `json:"reps"`
	Variants []VariantInfo `json:"variants"`
	Machine  *Machine      `json:"machine,omitempty"` // what the machine's basic operations cost
	Runs     []CompareRun  `json:"runs"`              // in the order run
	Summary  []SummaryRow  `json:"summary"`           // one row per figure
	OK       bool          `json:"ok"`                // every run passed every check
}

// VariantInfo says what a variant ran.
type VariantInfo struct {
	Name    string `json:"name"`
	Exec    string `json:"exec,omitempty"`
	Dialect string `json:"dialect"`
	Rooms   int    `json:"idle_rooms,omitempty"`
}

// CompareRun is one run of one variant.
type CompareRun struct {
	Round   int     `json:"round"` // from 1
	Variant string  `json:"variant"`
	Report  *Report `json:"report"`
}

// SummaryRow is one figure over the rounds: its median for each variant
// (by name; absent where a variant has no such figure), and the median,
// over the rounds, of its ratio to the first variant's in the same round.
type SummaryRow struct {
	Figure  string             `json:"figure"`
	Unit    string             `json:"unit"`
	Medians map[string]float64 `json:"medians"`
	Ratios  map[string]float64 `json:"ratios,omitempty"`
}

// figure is a number a report may hold.
type figure struct {
	name, unit string
	get        func(r *Report) (float64, bool)
}

var figures = []figure{
	{"cpu per delivery", "µs", func(r *Report) (float64, bool) {
		if r.Load == nil || r.Load.Server == nil || r.Load.Delivered == 0 {
			return 0, false
		}
		return r.Load.Server.CPUPerDeliveryUS, true
	}},
	{"server cpu", "s", func(r *Report) (float64, bool) {
		if r.Load == nil || r.Load.Server == nil {
			return 0, false
		}
		return r.Load.Server.CPUSeconds, true
	}},
	{"server system cpu", "s", func(r *Report) (float64, bool) {
		if r.Load == nil || r.Load.Server == nil {
			return 0, false
		}
		return r.Load.Server.SystemSeconds, true
	}},
	{"latency p50", "µs", loadFigure(func(l *LoadResult) float64 { return l.Latency.P50 })},
	{"latency p99", "µs", loadFigure(func(l *LoadResult) float64 { return l.Latency.P99 })},
	{"latency p99.9", "µs", loadFigure(func(l *LoadResult) float64 { return l.Latency.P999 })},
	{"deliveries", "", loadFigure(func(l *LoadResult) float64 { return float64(l.Delivered) })},
	{"deliveries per second", "/s", loadFigure(func(l *LoadResult) float64 { return l.DeliveriesSec })},
	{"rss per idle connection", "B", func(r *Report) (float64, bool) {
		if r.Idle == nil || r.Idle.Memory == nil {
			return 0, false
		}
		return r.Idle.Memory.BytesPerConn, true
	}},
	{"rss per idle connection after setup", "B", func(r *Report) (float64, bool) {
		if r.Idle == nil || r.Idle.Memory == nil || r.Idle.Opened == 0 {
			return 0, false
		}
		m := r.Idle.Memory
		return float64(m.RSSAfterSetupKB-m.RSSBeforeKB) * 1024 / float64(r.Idle.Opened), true
	}},
	{"join lines delivered", "", func(r *Report) (float64, bool) {
		if r.Idle == nil || r.Idle.Join == nil {
			return 0, false
		}
		return float64(r.Idle.Join.Lines), true
	}},
	{"join server cpu", "s", joinFigure(func(u *Usage) float64 { return u.CPUSeconds })},
	{"join cpu per line", "µs", joinFigure(func(u *Usage) float64 { return u.CPUPerDeliveryUS })},
}

func loadFigure(f func(*LoadResult) float64) func(*Report) (float64, bool) {
	return func(r *Report) (float64, bool) {
		if r.Load == nil || r.Load.Delivered == 0 {
			return 0, false
		}
		return f(r.Load), true
	}
}

func joinFigure(f func(*Usage) float64) func(*Report) (float64, bool) {
	return func(r *Report) (float64, bool) {
		if r.Idle == nil || r.Idle.Join == nil || r.Idle.Join.Server == nil {
			return 0, false
		}
		return f(r.Idle.Join.Server), true
	}
}

// Compare runs the comparison cfg describes. Progress goes to stderr. It
// returns an error if a run could not be made.
func Compare(ctx context.Context, cfg Config, stderr io.Writer) (*Comparison, error) {
	vs := cfg.variants()
	cmp := &Comparison{Scenario: cfg.Scenario, Reps: cfg.Reps, OK: true, Machine: probeMachine()}
	for _, v := range vs {
		cmp.Variants = append(cmp.Variants, VariantInfo{Name: v.name, Exec: v.cfg.Exec, Dialect: v.cfg.Dialect, Rooms: v.cfg.IdleRooms})
	}
	byRound := make([]map[string]*Report, cfg.Reps)
	for r := range cfg.Reps {
		byRound[r] = map[string]*Report{}
		for k := range vs {
			v := vs[(k+r)%len(vs)] // round r starts with the variant after round r-1's first
			v.cfg.profileLabel = fmt.Sprintf("%s-%d-", v.name, r+1)
			if cfg.Progress {
				fmt.Fprintf(stderr, "chatbench: round %d of %d: %s\n", r+1, cfg.Reps, v.name)
			}
			rep, err := Run(ctx, v.cfg, stderr)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", r+1, v.name, err)
			}
			cmp.Runs = append(cmp.Runs, CompareRun{Round: r + 1, Variant: v.name, Report: rep})
			byRound[r][v.name] = rep
			cmp.OK = cmp.OK && rep.OK
		}
	}
	cmp.Summary = summarizeRounds(vs, byRound)
	return cmp, nil
}

// summarizeRounds returns the summary rows of the figures some variant has.
func summarizeRounds(vs []variant, byRound []map[string]*Report) []SummaryRow {
	var rows []SummaryRow
	ref := vs[0].name
	for _, f := range figures {
		row := SummaryRow{Figure: f.name, Unit: f.unit, Medians: map[string]float64{}}
		for _, v := range vs {
			var vals, ratios []float64
			for _, reps := range byRound {
				x, ok := f.get(reps[v.name])
				if !ok {
					continue
				}
				vals = append(vals, x)
				if y, ok := f.get(reps[ref]); ok && y > 0 && v.name != ref {
					ratios = append(ratios, x/y)
				}
			}
			if len(vals) > 0 {
				row.Medians[v.name] = median(vals)
			}
			if len(ratios) > 0 {
				if row.Ratios == nil {
					row.Ratios = map[string]float64{}
				}
				row.Ratios[v.name] = median(ratios)
			}
		}
		if len(row.Medians) > 0 {
			rows = append(rows, row)
		}
	}
	return rows
}

// median returns the median of xs (the mean of the middle two if even).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// WriteJSON writes the comparison as one indented JSON object.
func (c *Comparison) WriteJSON(w io.Writer) error {
	for _, r := range c.Runs {
		if r.Report.Problems == nil {
			r.Report.Problems = []string{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// WriteText writes the comparison for people: a line for each run, then
// the medians and ratios.
func (c *Comparison) WriteText(w io.Writer) error {
	var b strings.Builder
	if c.Scenario != "" {
		fmt.Fprintf(&b, "scenario  %s\n", c.Scenario)
	}
	for _, v := range c.Variants {
		fmt.Fprintf(&b, "variant   %-7s %s (dialect %s", v.Name, v.Exec, v.Dialect)
		if v.Rooms > 0 {
			fmt.Fprintf(&b, "; idle connections in %d rooms", v.Rooms)
		}
		b.WriteString(")\n")
	}
	if c.Machine != nil {
		fmt.Fprintf(&b, "machine   %s\n", c.Machine)
	}
	for _, r := range c.Runs {
		fmt.Fprintf(&b, "round %-3d %-7s %s\n", r.Round, r.Variant, runLine(r.Report))
		for _, p := range r.Report.Problems {
			fmt.Fprintf(&b, "            %s\n", strings.ReplaceAll(p, "\n", "\n            "))
		}
	}
	ref := c.Variants[0].Name
	fmt.Fprintf(&b, "\nmedians of %d rounds", c.Reps)
	fmt.Fprintf(&b, "\n%-38s", "")
	for _, v := range c.Variants {
		fmt.Fprintf(&b, "%14s", v.Name)
	}
	for _, v := range c.Variants[1:] {
		fmt.Fprintf(&b, "%16s", v.Name+"/"+ref)
	}
	b.WriteString("\n")
	for _, row := range c.Summary {
		label := row.Figure
		if row.Unit != "" {
			label += " (" + row.Unit + ")"
		}
		fmt.Fprintf(&b, "%-38s", label)
		for _, v := range c.Variants {
			if x, ok := row.Medians[v.Name]; ok {
				fmt.Fprintf(&b, "%14s", number(x))
			} else {
				fmt.Fprintf(&b, "%14s", "-")
			}
		}
		for _, v := range c.Variants[1:] {
			if x, ok := row.Ratios[v.Name]; ok {
				fmt.Fprintf(&b, "%15.2f×", x)
			} else {
				fmt.Fprintf(&b, "%16s", "-")
			}
		}
		b.WriteString("\n")
	}
	if d, ok := c.roomsOverLobby(); ok {
		fmt.Fprintf(&b, "rooms - lobby: %+.0f B RSS per idle connection (median of the rounds' differences)\n", d)
	}
	if c.OK {
		b.WriteString("ok        every check of every run passed\n")
	} else {
		b.WriteString("FAIL      some run failed a check (see above)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// roomsOverLobby returns the median over the rounds of the difference in
// RSS per idle connection between the rooms and the lobby variants.
func (c *Comparison) roomsOverLobby() (float64, bool) {
	byRound := map[int]map[string]float64{}
	for _, r := range c.Runs {
		if r.Report.Idle == nil || r.Report.Idle.Memory == nil {
			continue
		}
		if byRound[r.Round] == nil {
			byRound[r.Round] = map[string]float64{}
		}
		byRound[r.Round][r.Variant] = r.Report.Idle.Memory.BytesPerConn
	}
	var d []float64
	for _, m := range byRound {
		room, ok1 := m["rooms"]
		lobby, ok2 := m["lobby"]
		if ok1 && ok2 {
			d = append(d, room-lobby)
		}
	}
	if len(d) == 0 {
		return 0, false
	}
	return median(d), true
}

// runLine sums up one run in a line.
func runLine(r *Report) string {
	var parts []string
	if l := r.Load; l != nil {
		s := fmt.Sprintf("%d/%d delivered in %s", l.Delivered, l.Expected, seconds(l.Seconds))
		if u := l.Server; u != nil {
			s += fmt.Sprintf("; CPU %.2fs (system %.2fs) = %.3f µs/delivery", u.CPUSeconds, u.SystemSeconds, u.CPUPerDeliveryUS)
		}
		s += fmt.Sprintf("; p50 %s p99 %s", micros(l.Latency.P50), micros(l.Latency.P99))
		parts = append(parts, s)
	}
	if i := r.Idle; i != nil {
		s := fmt.Sprintf("%d/%d idle", i.Answered, i.Connections)
		if m := i.Memory; m != nil {
			s += fmt.Sprintf("; RSS %s -> %s: %.0f B per connection", kb(m.RSSBeforeKB), kb(m.RSSAfterHoldKB), m.BytesPerConn)
		}
		if j := i.Join; j != nil && j.Server != nil {
			s += fmt.Sprintf("; joins: %d lines, CPU %.2fs = %.3f µs/line", j.Lines, j.Server.CPUSeconds, j.Server.CPUPerDeliveryUS)
		}
		parts = append(parts, s)
	}
	if la := r.Server.LoadAverage.Start; len(la) > 0 {
		parts = append(parts, fmt.Sprintf("load %.2f", la[0]))
	}
	if r.OK {
		parts = append(parts, "ok")
	} else {
		parts = append(parts, "FAIL")
	}
	return strings.Join(parts, "; ")
}

// number prints a figure with about four significant digits.
func number(x float64) string {
	switch ax := max(x, -x); {
	case ax >= 1e6 || x == math.Trunc(x):
		return fmt.Sprintf("%.0f", x)
	case ax >= 100:
		return fmt.Sprintf("%.1f", x)
	case ax >= 1:
		return fmt.Sprintf("%.3f", x)
	default:
		return fmt.Sprintf("%.4f", x)
	}
}
