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
		}
		write("idle", "10000", rep, `{"idle": {"opened": 10000, "answered": 10000, "server": {"bytes_per_conn": 4700}}, "ok": true}`)
	}
	if err := run(in, out); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"coalesce.svg", "roomsize.svg", "idle.svg"} {
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
	if _, err := os.Stat(filepath.Join(out, "rooms.svg")); err == nil {
		t.Error("rooms.svg drawn without any report of its series")
	}
	sum, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### coalesce", "### idle", "### roomsize-paced", "| 1 | 3 | 50/1/50×200 @50/s | 2.2 [2.1–2.3] |", "4.59 [4.59–4.59]"} {
		if !strings.Contains(string(sum), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
}
