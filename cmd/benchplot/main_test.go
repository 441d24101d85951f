package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun draws the figures from a few made-up reports and checks that
// each SVG file is well-formed XML and the summary has a table per series.
func TestRun(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	write := func(series, x string, rep int, body string) {
		dir := filepath.Join(in, series, x)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(rep, ".json")), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	load := `{"load": {"clients": 50, "rooms": 1, "senders": 50, "lines": 200, "rate": 50,
		"latency_us": {"p50": 900, "p99": %d}, "deliveries_per_sec": 125000,
		"server": {"cpu_us_per_delivery": %g}}, "ok": true}`
	for rep, v := range []float64{2.1, 2.3, 2.2} {
		for _, x := range []string{"0", "0.5", "1", "2"} {
			write("coalesce", x, rep, fmt.Sprintf(load, 1500+rep*100, v))
		}
		for _, x := range []string{"10", "100", "1000"} {
			write("roomsize-paced", x, rep, fmt.Sprintf(load, 2000, v))
			write("scale-room", x, rep, fmt.Sprintf(load, 2000, v/10))
			write("scale-room-floor", x, rep, fmt.Sprintf(load, 1000, v/40))
		}
		write("idle", "10000", rep, `{"idle": {"opened": 10000, "answered": 10000, "server": {"bytes_per_conn": 4700}}, "ok": true}`)
		write("base-0ce5d22-idle", "10000", rep, `{"idle": {"opened": 10000, "answered": 10000, "server": {"bytes_per_conn": 4600}}, "ok": true}`)
		write("stall", "1", rep, fmt.Sprintf(`{"server": {"load_average": {"start": [1.5, 2, 3], "end": [1, 2, 3]}}, "load": {"clients": 10, "rooms": 1, "senders": 5, "lines": 10000, "rate": 500,
			"latency_us": {"p50": 900, "p99": 4000, "max": %d}, "healthy_dropped": 0,
			"stall": {"members": [{"disconnected": true, "leave_seconds": 3.5, "over_limit_seconds": -0.001},
				{"disconnected": true, "leave_seconds": 3.%d, "over_limit_seconds": 0.02}]}}, "ok": true}`, 101000+rep*1000, rep+6))
		cluster := `{"load": {"clients": 50, "rooms": 1, "senders": 50, "lines": 200, "rate": 50,
			"latency_us": {"p50": 1500, "p99": 9000}, "server": {"cpu_us_per_delivery": %g},
			"nodes": [{"server": {"cpu_us_per_delivery": %g}}, {"server": {"cpu_us_per_delivery": 2}}],
			"same_node": {"deliveries": 250000, "latency_us": {"p50": 1400, "p99": 8000}},
			"cross_node": {"deliveries": 250000, "latency_us": {"p50": 1600, "p99": %d}}}, "ok": true}`
		write("cluster-room", "2", rep, fmt.Sprintf(cluster, 5+v, 3+v, 10000+rep*1000))
		write("cluster-room-plain", "0", rep, fmt.Sprintf(load, 3000, v))
		write("flood", "1000", rep, fmt.Sprintf(`{"load": {"clients": 10, "rooms": 1, "senders": 5, "lines": 10000, "rate": 500,
			"latency_us": {"p50": 900, "p99": 4000, "max": 9000}, "flooders": [{"lines_per_sec": %d}]}, "ok": true}`, 1000+rep))
	}
	// A chatbench -floor report, several servers in one file, is left out.
	if err := os.MkdirAll(filepath.Join(in, "floor"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "floor", "abc1234-flat.json"), []byte(`{"scenario": "flat", "variants": ["floor", "server"], "ok": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(in, out); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"coalesce.svg", "roomsize.svg", "idle.svg", "cluster-room.svg", "scaling.svg"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(strings.NewReader(string(b)))
		for {
			if _, err := d.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Errorf("%s: %v", f, err)
				}
				break
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(out, "idle.svg")); err != nil || !strings.Contains(string(b), ">before (0ce5d22)<") {
		t.Errorf("idle.svg has no curve for the baseline series base-0ce5d22-idle (%v)", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "cluster-room.svg")); err != nil || !strings.Contains(string(b), ">each other node (the busiest)<") ||
		!strings.Contains(string(b), "sender on another node: x=2 median 11 (min 10, max 12, 3 runs)") ||
		!strings.Contains(string(b), "node 1 (with NATS): x=2 median 5.2 (min 5.1, max 5.3, 3 runs)") ||
		!strings.Contains(string(b), "each other node (the busiest): x=2 median 2 (min 2, max 2, 3 runs)") ||
		!strings.Contains(string(b), "one chatd, no -cluster (x = 0): x=0 median 3 (min 3, max 3, 3 runs)") {
		t.Errorf("cluster-room.svg lacks a curve (%v):\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(out, "rooms.svg")); err == nil {
		t.Error("rooms.svg drawn without any report of its series")
	}
	sum, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### coalesce", "### idle", "### roomsize-paced", "| 1 | 3 | 50/1/50×200 @50/s | 2.2 [2.1–2.3] |", "4.59 [4.59–4.59]",
		"| healthy dropped | last stalled dropped at s | worst over-limit s | ok | load average |\n|---|---|",
		"| 1 | 3 | 10/1/5×10000 @500/s | – | 0.9 [0.9–0.9] | 4 [4–4] | 102 [101–103] | 0 [0–0] | 0 | 0 | 3.7 [3.6–3.8] | 0.02 [0.02–0.02] | true | 1.5 [1.5–1.5] |",
		"| node 1 CPU µs/delivery | other nodes CPU µs/delivery (most) | same-node p99 ms | cross-node p99 ms | ok | load average |",
		"| 2 | 3 | 50/1/50×200 @50/s | 7.2 [7.1–7.3] | 1.5 [1.5–1.5] | 9 [9–9] | 0 [0–0] | 0 [0–0] | 0 | 0 | 5.2 [5.1–5.3] | 2 [2–2] | 8 [8–8] | 11 [10–12] | true | – |",
		"| 1000 | 3 | 10/1/5×10000 @500/s | – | 0.9 [0.9–0.9] | 4 [4–4] | 9 [9–9] | 0 [0–0] | 0 | 0 | 1001 [1000–1002] | true | – |"} {
		if !strings.Contains(string(sum), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
}

// TestTimeline draws a chatbench -timeline CSV: three curves and a dashed
// line per disconnect, with a socket failure marked only for a member
// whose LEAVE is missing.
func TestTimeline(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "stall.csv")
	body := "kind,t_s,n,p50_ms,p99_ms,max_ms,client\n" +
		"latency,0.000,75,0.412,1.203,1.380,\n" +
		"latency,0.010,75,0.000,90.5,101.2,\n" +
		"latency,0.020,75,0.300,1.1,1.2,\n" +
		"leave,0.0151,,,,,stalled0\n" +
		"socket,0.0160,,,,,stalled0\n" +
		"socket,0.0180,,,,,stalled1\n"
	if err := os.WriteFile(csv, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	path, err := drawTimeline(csv, filepath.Join(dir, "out"), "one stalled member", 250)
	if err != nil || path != filepath.Join(dir, "out", "stall.svg") {
		t.Fatalf("drawTimeline = %q, %v", path, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	svg := string(b)
	if err := xml.Unmarshal(b, new(struct{})); err != nil {
		t.Errorf("not XML: %v", err)
	}
	for _, want := range []string{">max<", ">p99<", ">p50<", ">stalled0 LEAVE<", ">stalled1 socket failed<", ">one stalled member<", ">target 250 ms<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if strings.Contains(svg, "stalled0 socket failed") || strings.Count(svg, "<polyline") != 3 || strings.Contains(svg, "<circle") {
		t.Errorf("SVG:\n%s", svg)
	}
	for _, bad := range []string{"", "kind,t_s\n", "kind,t_s,n,p50_ms,p99_ms,max_ms,client\nother,1,,,,,\n"} {
		if _, err := readTimeline(strings.NewReader(bad)); err == nil {
			t.Errorf("readTimeline(%q) accepted", bad)
		}
	}
}
