package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// timelineWidth is the width of a timeline panel: wider than the others,
// for a time axis.
const timelineWidth = 880

// minLatencyMS is the floor of the timeline's log latency axis.
const minLatencyMS = 0.001

// drawTimeline draws the CSV written by chatbench -timeline (the format is
// in cmd/chatbench/internal/bench/timeline.go) as OUT/NAME.svg, NAME being
// the CSV file's name without its extension: p50, p99 and max latency of
// the healthy members by send time, on a log axis, with a dashed line at
// each stalled member's disconnect. title, if not "", is the plot's title;
// targetMS, if > 0, is drawn as a target. It returns the SVG file's path.
func drawTimeline(file, out, title string, targetMS float64) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	c, err := readTimeline(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	c.Title = "latency of healthy members: " + filepath.Base(file)
	if title != "" {
		c.Title = title
	}
	if targetMS > 0 {
		c.Limit, c.LimitLabel = targetMS, fmt.Sprintf("target %g ms", targetMS)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)) + ".svg"
	path := filepath.Join(out, name)
	return path, os.WriteFile(path, []byte(svgFigure([]chart{c})), 0o644)
}

// readTimeline parses a -timeline CSV into a chart.
func readTimeline(r io.Reader) (chart, error) {
	c := chart{
		XLabel: "seconds since the start of sending (by send time)", YLabel: "latency (ms)",
		LogY: true, Width: timelineWidth,
	}
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if err != nil {
		return c, fmt.Errorf("no header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range []string{"kind", "t_s", "p50_ms", "p99_ms", "max_ms", "client"} {
		if _, ok := col[h]; !ok {
			return c, fmt.Errorf("no column %q in the header %q", h, head)
		}
	}
	names := []string{"p50", "p99", "max"}
	cols := []string{"p50_ms", "p99_ms", "max_ms"}
	left := map[string]bool{} // members whose LEAVE is in the file
	var sockets []event       // socket failures, labelled by member
	curves := make([]curve, len(names))
	for i := range curves {
		curves[i] = curve{Name: names[i], Dense: true}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return c, err
		}
		t, err := strconv.ParseFloat(rec[col["t_s"]], 64)
		if err != nil {
			return c, fmt.Errorf("t_s %q: %w", rec[col["t_s"]], err)
		}
		switch kind := rec[col["kind"]]; kind {
		case "latency":
			for i, name := range cols {
				v, err := strconv.ParseFloat(rec[col[name]], 64)
				if err != nil {
					return c, fmt.Errorf("%s %q: %w", name, rec[col[name]], err)
				}
				v = math.Max(v, minLatencyMS)
				curves[i].Points = append(curves[i].Points, point{X: t, Min: v, Med: v, Max: v, N: 1})
			}
		case "leave":
			left[rec[col["client"]]] = true
			c.Events = append(c.Events, event{X: t, Label: rec[col["client"]] + " LEAVE"})
		case "socket":
			sockets = append(sockets, event{X: t, Label: rec[col["client"]]})
		default:
			return c, fmt.Errorf("unknown kind %q", kind)
		}
	}
	if len(curves[0].Points) == 0 {
		return c, errors.New("no latency rows")
	}
	// A socket's failure comes a moment after its LEAVE: marked only for
	// a member whose LEAVE did not arrive.
	for _, e := range sockets {
		if !left[e.Label] {
			c.Events = append(c.Events, event{X: e.X, Label: e.Label + " socket failed"})
		}
	}
	// max on top in the legend order of the palette: max, p99, p50.
	c.Curves = []curve{curves[2], curves[1], curves[0]}
	return c, nil
}
