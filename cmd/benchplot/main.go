// Command benchplot draws the plots and tables of BENCHMARKS.md from the
// JSON reports that bench/run.sh collects with chatbench -json.
//
//	benchplot [-in docs/bench/results] [-out docs/bench]
//
// The reports are laid out as IN/SERIES/X/REP.json: one directory per
// series (such as roomsize-paced), one per value of its x axis (such as 1000
// members), one report per repeated run. benchplot summarises the runs at
// each point by their median, minimum and maximum, writes one SVG file per
// figure into OUT (medians joined by a line, a bar from minimum to maximum),
// and OUT/summary.md with a table per series. It uses nothing outside the
// standard library.
//
//	benchplot -timeline stall.csv [-out docs/bench] [-title TEXT] [-target-ms 250]
//
// draws instead the CSV written by chatbench -timeline as OUT/stall.svg:
// the latency of the healthy members over the run (p50, p99 and max per
// 10 ms of send time) with a dashed line at each stalled member's
// disconnect, and, with -target-ms, a dashed horizontal line there.
//
// The series base-REV-target-flat, base-REV-target-paced and base-REV-idle
// are the server of revision REV (bench/run.sh's BASELINE=REV); each such
// idle series is drawn in idle.svg as "before (REV)".
//
// The series cluster-room and cluster-rooms are loads of a cluster of N
// chatd nodes (chatbench -nodes N; x is N), and cluster-room-plain and
// cluster-rooms-plain the same loads of one chatd without -cluster (x is
// 0): cluster-room.svg and cluster-rooms.svg draw the CPU per delivery of
// all nodes, of node 1 (which runs the NATS server) and of the busiest
// other node, and the p99 of deliveries from a sender on the receiver's
// node and from one on another, against N.
package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"roomchat.dev/roomchat/cmd/internal/buildinfo"
)

func main() {
	in := flag.String("in", "docs/bench/results", "`directory` of SERIES/X/REP.json reports")
	out := flag.String("out", "docs/bench", "`directory` for the SVG files and summary.md")
	timeline := flag.String("timeline", "", "draw only this chatbench -timeline CSV `file`, as OUT/<its name>.svg")
	title := flag.String("title", "", "with -timeline: the plot's `title` (default: from the file's name)")
	target := flag.Float64("target-ms", 0, "with -timeline: draw a target latency of `ms` milliseconds")
	version := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *version {
		fmt.Println(buildinfo.String("benchplot"))
		return
	}
	if *timeline != "" {
		path, err := drawTimeline(*timeline, *out, *title, *target)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchplot:", err)
			os.Exit(1)
		}
		fmt.Println(path)
		return
	}
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchplot:", err)
		os.Exit(1)
	}
}

// report is the part of a chatbench -json report that benchplot reads.
type report struct {
	Server struct {
		Exec        string `json:"exec"`
		LoadAverage struct {
			Start []float64 `json:"start"`
		} `json:"load_average"`
	} `json:"server"`
	Load *struct {
		Clients    int     `json:"clients"`
		Rooms      int     `json:"rooms"`
		Senders    int     `json:"senders"`
		Lines      int     `json:"lines"`
		Rate       float64 `json:"rate"`
		Expected   int64   `json:"expected"`
		Delivered  int64   `json:"delivered"`
		Lost       int64   `json:"lost"`
		Duplicated int64   `json:"duplicated"`
		Reordered  int64   `json:"reordered"`
		Garbled    int64   `json:"garbled"`
		Dropped    int     `json:"healthy_dropped"`
		Seconds    float64 `json:"seconds"`
		PerSec     float64 `json:"deliveries_per_sec"`
		Latency    struct {
			P50 float64 `json:"p50"`
			P99 float64 `json:"p99"`
			Max float64 `json:"max"`
		} `json:"latency_us"`
		Server *struct {
			CPUPerDeliveryUS float64 `json:"cpu_us_per_delivery"`
		} `json:"server"`
		// Of a cluster: each node, and the latency split by where the
		// sender was.
		Nodes []struct {
			Server *struct {
				CPUPerDeliveryUS float64 `json:"cpu_us_per_delivery"`
			} `json:"server"`
		} `json:"nodes"`
		SameNode  *splitLatency `json:"same_node"`
		CrossNode *splitLatency `json:"cross_node"`
		Stall     *struct {
			Members []struct {
				Disconnected bool     `json:"disconnected"`
				LeaveSeconds *float64 `json:"leave_seconds"`
				OverLimit    *float64 `json:"over_limit_seconds"`
			} `json:"members"`
		} `json:"stall"`
		Flooders []struct {
			LinesPerSec float64 `json:"lines_per_sec"`
		} `json:"flooders"`
	} `json:"load"`
	Idle *struct {
		Opened   int `json:"opened"`
		Answered int `json:"answered"`
		Memory   *struct {
			BytesPerConn float64 `json:"bytes_per_conn"`
		} `json:"server"`
	} `json:"idle"`
	OK bool `json:"ok"`
}

// splitLatency is the latency of some of a cluster's deliveries.
type splitLatency struct {
	Deliveries int64 `json:"deliveries"`
	Latency    struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
	} `json:"latency_us"`
}

// results maps series -> x -> the reports of the runs at that point.
type results map[string]map[float64][]report

// floorDir is the directory of IN that holds the reports of chatbench
// -floor runs, several servers each, which BENCHMARKS.md quotes in tables:
// load leaves it out.
const floorDir = "floor"

// load reads every IN/SERIES/X/REP.json, but none under IN/floor.
func load(in string) (results, error) {
	res := results{}
	err := filepath.WalkDir(in, func(path string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(in, path)
		if err == nil && d.IsDir() && filepath.ToSlash(rel) == floorDir {
			return fs.SkipDir
		}
		if err != nil || d.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) != 3 {
			return fmt.Errorf("%s: want SERIES/X/REP.json", path)
		}
		x, err := strconv.ParseFloat(parts[1], 64)
		if err != nil {
			return fmt.Errorf("%s: x %q is not a number", path, parts[1])
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		if res[parts[0]] == nil {
			res[parts[0]] = map[float64][]report{}
		}
		res[parts[0]][x] = append(res[parts[0]][x], r)
		return nil
	})
	if len(res) == 0 && err == nil {
		err = errors.New("no reports in " + in)
	}
	return res, err
}

// metric extracts one value from a report, ok=false if it has none.
type metric struct {
	name string
	get  func(report) (float64, bool)
}

var (
	cpu = metric{"server CPU µs/delivery", func(r report) (float64, bool) {
		if r.Load == nil || r.Load.Server == nil || r.Load.Server.CPUPerDeliveryUS == 0 {
			return 0, false
		}
		return r.Load.Server.CPUPerDeliveryUS, true
	}}
	p50 = metric{"p50 ms", func(r report) (float64, bool) {
		if r.Load == nil {
			return 0, false
		}
		return r.Load.Latency.P50 / 1e3, true
	}}
	p99 = metric{"p99 ms", func(r report) (float64, bool) {
		if r.Load == nil {
			return 0, false
		}
		return r.Load.Latency.P99 / 1e3, true
	}}
	maxLat = metric{"max ms", func(r report) (float64, bool) {
		if r.Load == nil {
			return 0, false
		}
		return r.Load.Latency.Max / 1e3, true
	}}
	// dropAt is when the last stalled member was dropped, in seconds since
	// the start of sending (its LEAVE at the first healthy member).
	dropAt = metric{"last stalled dropped at s", func(r report) (float64, bool) {
		if r.Load == nil || r.Load.Stall == nil || len(r.Load.Stall.Members) == 0 {
			return 0, false
		}
		worst := 0.0
		for _, m := range r.Load.Stall.Members {
			if m.LeaveSeconds == nil {
				return 0, false
			}
			worst = max(worst, *m.LeaveSeconds)
		}
		return worst, true
	}}
	// overLimit is the longest time, over the stalled members, from its
	// pending output passing MaxQueueBytes to its drop (chatbench's
	// estimate; negative if dropped before).
	overLimit = metric{"worst over-limit s", func(r report) (float64, bool) {
		if r.Load == nil || r.Load.Stall == nil || len(r.Load.Stall.Members) == 0 {
			return 0, false
		}
		worst := math.Inf(-1)
		for _, m := range r.Load.Stall.Members {
			if m.OverLimit == nil {
				return 0, false
			}
			worst = max(worst, *m.OverLimit)
		}
		return worst, true
	}}
	// flood is the lowest rate at which the server took a flooder's lines.
	flood = metric{"flooder lines/s", func(r report) (float64, bool) {
		if r.Load == nil || len(r.Load.Flooders) == 0 {
			return 0, false
		}
		least := math.Inf(1)
		for _, f := range r.Load.Flooders {
			least = min(least, f.LinesPerSec)
		}
		return least, true
	}}
	// loadAvg is the machine's 1-minute load average when the run started.
	loadAvg = metric{"load average", func(r report) (float64, bool) {
		if len(r.Server.LoadAverage.Start) == 0 {
			return 0, false
		}
		return r.Server.LoadAverage.Start[0], true
	}}
	// node1CPU is the CPU time of a cluster's node 1, which runs the NATS
	// server, over all the cluster's deliveries.
	node1CPU = metric{"node 1 CPU µs/delivery", func(r report) (float64, bool) {
		if r.Load == nil || len(r.Load.Nodes) == 0 || r.Load.Nodes[0].Server == nil {
			return 0, false
		}
		return r.Load.Nodes[0].Server.CPUPerDeliveryUS, true
	}}
	// otherCPU is the CPU time of the busiest of a cluster's other nodes
	// over all the cluster's deliveries.
	otherCPU = metric{"other nodes CPU µs/delivery (most)", func(r report) (float64, bool) {
		if r.Load == nil || len(r.Load.Nodes) < 2 {
			return 0, false
		}
		most := 0.0
		for _, n := range r.Load.Nodes[1:] {
			if n.Server == nil {
				return 0, false
			}
			most = max(most, n.Server.CPUPerDeliveryUS)
		}
		return most, true
	}}
	// sameP99 is the p99 of a cluster's deliveries whose sender was on the
	// receiver's node: every delivery of one server.
	sameP99 = metric{"same-node p99 ms", func(r report) (float64, bool) {
		if r.Load == nil || len(r.Load.Nodes) == 0 {
			return p99.get(r)
		}
		if r.Load.SameNode == nil || r.Load.SameNode.Deliveries == 0 {
			return 0, false
		}
		return r.Load.SameNode.Latency.P99 / 1e3, true
	}}
	// crossP99 is the p99 of a cluster's deliveries whose sender was on
	// another node than the receiver.
	crossP99 = metric{"cross-node p99 ms", func(r report) (float64, bool) {
		if r.Load == nil || r.Load.CrossNode == nil || r.Load.CrossNode.Deliveries == 0 {
			return 0, false
		}
		return r.Load.CrossNode.Latency.P99 / 1e3, true
	}}
	rate = metric{"deliveries/s", func(r report) (float64, bool) {
		if r.Load == nil {
			return 0, false
		}
		return r.Load.PerSec, true
	}}
	idleKiB = metric{"RSS KiB/conn", func(r report) (float64, bool) {
		if r.Idle == nil || r.Idle.Memory == nil {
			return 0, false
		}
		return r.Idle.Memory.BytesPerConn / 1024, true
	}}
)

// points summarises a series by m, sorted by x.
func (res results) points(series string, m metric) []point {
	var pts []point
	for x, runs := range res[series] {
		var vs []float64
		for _, r := range runs {
			if v, ok := m.get(r); ok {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			continue
		}
		slices.Sort(vs)
		pts = append(pts, point{X: x, Min: vs[0], Med: median(vs), Max: vs[len(vs)-1], N: len(vs)})
	}
	slices.SortFunc(pts, func(a, b point) int { return cmp.Compare(a.X, b.X) })
	return pts
}

// median of sorted vs.
func median(vs []float64) float64 {
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// line is one curve of a figure: a series and its legend, and the metric
// it draws if not its panel's.
type line struct {
	series, name string
	m            *metric
}

// figure is one SVG file: the same curves under several metrics.
type figure struct {
	file   string
	title  string
	xlabel string
	logX   bool
	xStep  float64 // the step of a linear x axis's ticks; 0: chosen
	lines  []line
	panels []panel
}

type panel struct {
	m          metric
	ylabel     string
	logY       bool
	limit      float64
	limitLabel string
	lines      []line // the panel's curves, if not the figure's
}

var cpuPanel = panel{m: cpu, ylabel: "server CPU per delivery (µs)", logY: true}
var p99Panel = panel{m: p99, ylabel: "p99 latency (ms)", logY: true}

var figures = []figure{
	{
		file: "roomsize.svg", title: "one room", xlabel: "members of the room", logX: true,
		lines:  []line{{series: "roomsize-flat", name: "flat out"}, {series: "roomsize-paced", name: "paced, ~100k deliveries/s"}},
		panels: []panel{cpuPanel, p99Panel},
	},
	{
		file: "rooms.svg", title: "1,000 clients", xlabel: "rooms", logX: true,
		lines:  []line{{series: "rooms-flat", name: "flat out"}, {series: "rooms-paced", name: "paced, 50k deliveries/s"}},
		panels: []panel{cpuPanel, p99Panel},
	},
	{
		file: "rate.svg", title: "50 clients, 1 room, 50 senders", xlabel: "lines/s in all (paced)", logX: true,
		lines:  []line{{series: "rate", name: "coalescing 1 ms"}, {series: "rate-nocoalesce", name: "coalescing off"}},
		panels: []panel{cpuPanel, p99Panel},
	},
	{
		file: "coalesce.svg", title: "2,500 lines/s into 50 members", xlabel: "-coalesce (ms; 0 = off)",
		lines: []line{{series: "coalesce", name: "50 senders × 50 lines/s"}},
		panels: []panel{
			{m: cpu, ylabel: "server CPU per delivery (µs)", limit: 2.5, limitLabel: "target 2.5 µs"},
			{m: p99, ylabel: "p99 latency (ms)", limit: 5, limitLabel: "target 5 ms"},
		},
	},
	{
		// bench/run.sh's group scaling: the CPU per delivery must not grow
		// with N, and the floor's shows what the machine allows.
		file: "scaling.svg", title: "flat out, about 2 M deliveries a point", xlabel: "members of the room, or connections (N)", logX: true,
		lines: []line{
			{series: "scale-room", name: "chatd, one room of N"},
			{series: "scale-conns", name: "chatd, N clients in rooms of 10"},
			{series: "scale-room-floor", name: "floor (bench/floor), N connections"},
		},
		panels: []panel{cpuPanel},
	},
	clusterFigure("cluster-room.svg", "cluster-room", "one room of 50, 2,500 lines/s"),
	clusterFigure("cluster-rooms.svg", "cluster-rooms", "200 clients, 5 of 50 rooms each, 2,500 lines/s"),
	{
		file: "idle.svg", title: "idle connections", xlabel: "connections", logX: true,
		lines: []line{{series: "idle", name: "now"}}, // and base-REV-idle, "before (REV)": baselines adds them
		panels: []panel{
			{m: idleKiB, ylabel: "server RSS per connection (KiB)", limit: 10000.0 / 1024, limitLabel: "target 10 KB"},
		},
	},
}

// clusterFigure returns the figure of a load of a cluster, the series
// SERIES (x: nodes) and SERIES-plain (x: 0, one chatd without -cluster).
func clusterFigure(file, series, title string) figure {
	plain := line{series: series + "-plain", name: "one chatd, no -cluster (x = 0)"}
	return figure{
		file: file, title: title, xlabel: "chatd nodes (0: one chatd without -cluster)", xStep: 1,
		panels: []panel{
			{m: cpu, ylabel: "server CPU per delivery (µs)", lines: []line{
				plain, // first, so that it has the same colour in both panels
				{series: series, name: "all nodes (sum; node 1 with NATS)"},
				{series: series, name: "node 1 (with NATS)", m: &node1CPU},
				{series: series, name: "each other node (the busiest)", m: &otherCPU},
			}},
			{m: p99, ylabel: "p99 latency (ms)", logY: true, lines: []line{
				plain,
				{series: series, name: "sender on the receiver's node", m: &sameP99},
				{series: series, name: "sender on another node", m: &crossP99},
			}},
		},
	}
}

func run(in, out string) error {
	res, err := load(in)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, f := range figures {
		f.lines = append(f.lines, res.baselines(f.lines)...)
		var charts []chart
		for i, p := range f.panels {
			c := chart{XLabel: f.xlabel, YLabel: p.ylabel, LogX: f.logX, XStep: f.xStep, LogY: p.logY, Limit: p.limit, LimitLabel: p.limitLabel}
			if i == 0 {
				c.Title = f.title
			}
			lines := f.lines
			if p.lines != nil {
				lines = p.lines
			}
			for _, l := range lines {
				m := p.m
				if l.m != nil {
					m = *l.m
				}
				if pts := res.points(l.series, m); len(pts) > 0 {
					c.Curves = append(c.Curves, curve{Name: l.name, Points: pts})
				}
			}
			if len(c.Curves) > 0 {
				charts = append(charts, c)
			}
		}
		if len(charts) == 0 {
			continue
		}
		if err := os.WriteFile(filepath.Join(out, f.file), []byte(svgFigure(charts)), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(out, "summary.md"), []byte(summary(res)), 0o644)
}

// baselines returns, for each line of series S, a line for every series
// base-REV-S of res (the server of revision REV), named "before (REV)", in
// the order of the revisions' names.
func (res results) baselines(lines []line) []line {
	var more []line
	for _, l := range lines {
		var revs []string
		for s := range res {
			if rest, ok := strings.CutPrefix(s, "base-"); ok {
				if rev, ok := strings.CutSuffix(rest, "-"+l.series); ok && rev != "" {
					revs = append(revs, rev)
				}
			}
		}
		slices.Sort(revs)
		for _, rev := range revs {
			more = append(more, line{series: "base-" + rev + "-" + l.series, name: "before (" + rev + ")"})
		}
	}
	return more
}

// summary writes a Markdown table per series: median [min–max] of each
// metric over the runs at each point, whether every run passed, and the
// machine's 1-minute load average as each run started (where the report
// has it). A series with stalled members or flooders gets their columns
// too.
func summary(res results) string {
	var b strings.Builder
	b.WriteString("<!-- Generated by cmd/benchplot from the reports in results/. -->\n")
	names := make([]string, 0, len(res))
	for s := range res {
		names = append(names, s)
	}
	slices.Sort(names)
	for _, s := range names {
		fmt.Fprintf(&b, "\n### %s\n\n", s)
		xs := make([]float64, 0, len(res[s]))
		for x := range res[s] {
			xs = append(xs, x)
		}
		slices.Sort(xs)
		idle := res[s][xs[0]][0].Idle != nil
		stall, flooders, cluster := false, false, false
		for _, runs := range res[s] {
			for _, r := range runs {
				stall = stall || r.Load != nil && r.Load.Stall != nil
				flooders = flooders || r.Load != nil && len(r.Load.Flooders) > 0
				cluster = cluster || r.Load != nil && len(r.Load.Nodes) > 0
			}
		}
		if idle {
			b.WriteString("| x | runs | RSS KiB/conn | all answered PING | ok | load average |\n|---|---|---|---|---|---|\n")
		} else {
			cols := []string{"x", "runs", "clients/rooms/senders×lines @rate", "CPU µs/delivery", "p50 ms", "p99 ms", "max ms",
				"deliveries/s", "lost/dup/reord/garbled", "healthy dropped"}
			if stall {
				cols = append(cols, dropAt.name, overLimit.name)
			}
			if flooders {
				cols = append(cols, flood.name)
			}
			if cluster {
				cols = append(cols, node1CPU.name, otherCPU.name, sameP99.name, crossP99.name)
			}
			cols = append(cols, "ok", "load average")
			fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
		}
		for _, x := range xs {
			runs := res[s][x]
			ok := true
			for _, r := range runs {
				ok = ok && r.OK
			}
			cell := func(m metric) string {
				for _, p := range res.points(s, m) {
					if p.X == x {
						return fmt.Sprintf("%s [%s–%s]", num(p.Med), num(p.Min), num(p.Max))
					}
				}
				return "–"
			}
			if idle {
				answered := true
				for _, r := range runs {
					answered = answered && r.Idle.Answered == r.Idle.Opened
				}
				fmt.Fprintf(&b, "| %s | %d | %s | %v | %v | %s |\n", num(x), len(runs), cell(idleKiB), answered, ok, cell(loadAvg))
				continue
			}
			l := runs[0].Load
			var bad int64
			dropped := 0
			for _, r := range runs {
				bad += r.Load.Lost + r.Load.Duplicated + r.Load.Reordered + r.Load.Garbled
				dropped += r.Load.Dropped
			}
			pace := "flat out"
			if l.Rate > 0 {
				pace = fmt.Sprintf("@%g/s", l.Rate)
			}
			row := []string{num(x), strconv.Itoa(len(runs)), fmt.Sprintf("%d/%d/%d×%d %s", l.Clients, l.Rooms, l.Senders, l.Lines, pace),
				cell(cpu), cell(p50), cell(p99), cell(maxLat), cell(rate), strconv.FormatInt(bad, 10), strconv.Itoa(dropped)}
			if stall {
				row = append(row, cell(dropAt), cell(overLimit))
			}
			if flooders {
				row = append(row, cell(flood))
			}
			if cluster {
				row = append(row, cell(node1CPU), cell(otherCPU), cell(sameP99), cell(crossP99))
			}
			row = append(row, strconv.FormatBool(ok), cell(loadAvg))
			fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
		}
	}
	return b.String()
}

// num prints a value with three significant digits, or as an integer.
func num(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
