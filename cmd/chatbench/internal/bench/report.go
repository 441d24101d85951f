package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteJSON writes the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	if r.Problems == nil {
		r.Problems = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(label, format string, a ...any) {
		fmt.Fprintf(&b, "%-9s"+format+"\n", append([]any{label}, a...)...)
	}
	s := r.Server
	switch {
	case s.Exec != "":
		line("server", "%s  pid %d, started by -exec; after SIGTERM: %s", s.Addr, s.PID, s.Exit)
	case s.PID != 0:
		line("server", "%s  pid %d", s.Addr, s.PID)
	default:
		line("server", "%s  (no -pid: no CPU or memory figures)", s.Addr)
	}
	if l := r.Load; l != nil {
		pace := "flat out"
		if l.Rate > 0 {
			pace = fmt.Sprintf("%g lines/s each (%g lines/s in all)", l.Rate, l.Rate*float64(l.Senders))
		}
		line("load", "%d clients in %d rooms, %d senders × %d lines of %d bytes, %s",
			l.Clients, l.Rooms, l.Senders, l.Lines, l.Size, pace)
		line("setup", "%d connections in %s (%.0f/s)", l.Clients, seconds(l.SetupSeconds), l.SetupPerSec)
		line("result", "%d of %d delivered in %s (%.0f deliveries/s; sending took %s)",
			l.Delivered, l.Expected, seconds(l.Seconds), l.DeliveriesSec, seconds(l.SendSeconds))
		line("checks", "lost %d, duplicated %d, reordered %d, garbled %d", l.Lost, l.Duplicated, l.Reordered, l.Garbled)
		lt := l.Latency
		line("latency", "p50 %s  p99 %s  p99.9 %s  max %s  (mean %s)",
			micros(lt.P50), micros(lt.P99), micros(lt.P999), micros(lt.Max), micros(lt.Mean))
		if u := l.Server; u != nil {
			line("server", "CPU %.2fs (±0.01) = %.3f µs per delivery; RSS %s -> %s (peak %s)",
				u.CPUSeconds, u.CPUPerDeliveryUS, kb(u.RSSBeforeKB), kb(u.RSSAfterKB), kb(u.PeakRSSKB))
		}
		line("client", "CPU %.2fs (chatbench itself, same phase)", l.ClientCPU)
	}
	if i := r.Idle; i != nil {
		line("idle", "%d of %d connections registered in %s (%.0f/s), held %s; %d answered PING after",
			i.Opened, i.Connections, seconds(i.SetupSeconds), i.SetupPerSec, seconds(i.HoldSeconds), i.Answered)
		if m := i.Memory; m != nil {
			line("memory", "RSS %s before, %s after setup, %s after hold (peak %s): %.1f KiB per idle connection (%s)",
				kb(m.RSSBeforeKB), kb(m.RSSAfterSetupKB), kb(m.RSSAfterHoldKB), kb(m.PeakRSSKB), m.BytesPerConn/1024, m.Basis)
		}
	}
	if r.OK {
		line("ok", "every check passed")
	} else {
		line("FAIL", "%d problems:", len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  %s\n", p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}

func micros(us float64) string {
	switch {
	case us < 1000:
		return fmt.Sprintf("%.0fµs", us)
	case us < 1e6:
		return fmt.Sprintf("%.2fms", us/1e3)
	default:
		return fmt.Sprintf("%.2fs", us/1e6)
	}
}

func kb(n int64) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/1024)
}
