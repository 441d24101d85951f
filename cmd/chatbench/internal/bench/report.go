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
	case len(s.Nodes) > 0:
		writeNodes(&b, line, s)
	case s.Exec != "":
		line("server", "%s  pid %d, started by -exec; after SIGTERM: %s", s.Addr, s.PID, s.Exit)
	case s.PID != 0:
		line("server", "%s  pid %d", s.Addr, s.PID)
	default:
		line("server", "%s  (no -pid: no CPU or memory figures)", s.Addr)
	}
	if la := s.LoadAverage; len(la.Start) == 3 && len(la.End) == 3 {
		line("machine", "load average %.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end",
			la.Start[0], la.Start[1], la.Start[2], la.End[0], la.End[1], la.End[2])
	}
	if l := r.Load; l != nil {
		pace := "flat out"
		if l.Rate > 0 {
			pace = fmt.Sprintf("%g lines/s each (%g lines/s in all)", l.Rate, l.Rate*float64(l.Senders))
		}
		rooms := fmt.Sprintf("%d rooms", l.Rooms)
		if l.RoomsPerUser > 0 {
			rooms = fmt.Sprintf("%d rooms, %d each (CAPS rooms; MSG <room> to each in turn)", l.Rooms, l.RoomsPerUser)
		}
		if l.Dialect == "plain" {
			rooms = "a plain relay (every line to every other client)"
		}
		line("load", "%d clients in %s, %d senders × %d lines of %d bytes, %s",
			l.Clients, rooms, l.Senders, l.Lines, l.Size, pace)
		line("setup", "%d connections in %s (%.0f/s)", l.Clients, seconds(l.SetupSeconds), l.SetupPerSec)
		line("result", "%d of %d delivered in %s (%.0f deliveries/s; sending took %s)",
			l.Delivered, l.Expected, seconds(l.Seconds), l.DeliveriesSec, seconds(l.SendSeconds))
		line("checks", "lost %d, duplicated %d, reordered %d, garbled %d; %d members dropped by the server",
			l.Lost, l.Duplicated, l.Reordered, l.Garbled, l.Dropped)
		lt := l.Latency
		line("latency", "p50 %s  p99 %s  p99.9 %s  max %s  (mean %s)",
			micros(lt.P50), micros(lt.P99), micros(lt.P999), micros(lt.Max), micros(lt.Mean))
		for _, sl := range []struct {
			name string
			l    *SplitLatency
		}{{"same node", l.SameNode}, {"cross node", l.CrossNode}} {
			if sl.l == nil {
				continue
			}
			if sl.l.Deliveries == 0 {
				fmt.Fprintf(&b, "  %-11s no deliveries\n", sl.name)
				continue
			}
			lt := sl.l.Latency
			fmt.Fprintf(&b, "  %-11s p50 %s  p99 %s  p99.9 %s  max %s  (mean %s; %d deliveries)\n", sl.name,
				micros(lt.P50), micros(lt.P99), micros(lt.P999), micros(lt.Max), micros(lt.Mean), sl.l.Deliveries)
		}
		if u := l.Server; u != nil && len(l.Nodes) > 0 {
			line("server", "CPU %.2fs (±0.01 a node) = %.3f µs per delivery, the sum of %d nodes (node 1's with its NATS server); RSS %s -> %s",
				u.CPUSeconds, u.CPUPerDeliveryUS, len(l.Nodes), kb(u.RSSBeforeKB), kb(u.RSSAfterKB))
		} else if u != nil {
			line("server", "CPU %.2fs (±0.01; system %.2fs) = %.3f µs per delivery; RSS %s -> %s (peak %s)",
				u.CPUSeconds, u.SystemSeconds, u.CPUPerDeliveryUS, kb(u.RSSBeforeKB), kb(u.RSSAfterKB), kb(u.PeakRSSKB))
		}
		for _, n := range l.Nodes {
			fmt.Fprintf(&b, "  node %-4d%d clients received %d", n.Node, n.Clients, n.Delivered)
			if u := n.Server; u != nil {
				fmt.Fprintf(&b, "; CPU %.2fs = %.3f µs per delivery of all, %.3f µs per delivery to its clients; RSS %s -> %s (peak %s)",
					u.CPUSeconds, u.CPUPerDeliveryUS, n.CPUPerOwnDeliveryUS, kb(u.RSSBeforeKB), kb(u.RSSAfterKB), kb(u.PeakRSSKB))
			}
			b.WriteString("\n")
		}
		line("client", "CPU %.2fs (chatbench itself, same phase)", l.ClientCPU)
		if st := l.Stall; st != nil {
			writeStall(&b, line, st)
		}
		for _, f := range l.Flooders {
			line("flooder", "the server took %d lines of %s in %s: %.0f lines/s (%d handed to its kernel); they reached healthy members %d times",
				f.Echoed, f.Name, seconds(f.Seconds), f.LinesPerSec, f.Sent, f.Delivered)
		}
	}
	if i := r.Idle; i != nil {
		how := "registered"
		switch {
		case i.Dialect == "plain":
			how = "connected to a plain relay"
		case i.Rooms > 0:
			how = fmt.Sprintf("registered and joined to %d rooms", i.Rooms)
		}
		if i.Serial {
			how += ", one after another,"
		}
		line("idle", "%d of %d connections %s in %s (%.0f/s), held %s; %d answered after",
			i.Opened, i.Connections, how, seconds(i.SetupSeconds), i.SetupPerSec, seconds(i.HoldSeconds), i.Answered)
		if j := i.Join; j != nil {
			line("joins", "%d lines delivered to them (%d JOIN lines) in %s", j.Lines, j.JoinNotes, seconds(j.Seconds))
			if u := j.Server; u != nil {
				line("", "server CPU %.2fs (±0.01) = %.3f µs per line delivered", u.CPUSeconds, u.CPUPerDeliveryUS)
			}
		}
		if m := i.Memory; m != nil {
			line("memory", "RSS %s before, %s after setup, %s after hold (peak %s): %.1f KiB per idle connection (%s)",
				kb(m.RSSBeforeKB), kb(m.RSSAfterSetupKB), kb(m.RSSAfterHoldKB), kb(m.PeakRSSKB), m.BytesPerConn/1024, m.Basis)
		}
	}
	var files []string
	if r.Load != nil {
		files = append(files, r.Load.Profiles...)
	}
	if r.Idle != nil {
		files = append(files, r.Idle.Profiles...)
	}
	if len(files) > 0 {
		line("profiles", "%s", strings.Join(files, " "))
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

// writeNodes writes which nodes of a cluster were measured.
func writeNodes(b *strings.Builder, line func(label, format string, a ...any), s ServerInfo) {
	if s.Exec != "" {
		line("server", "%d chatd nodes of one cluster, started by -exec; node 1 runs its NATS server at %s", len(s.Nodes), s.Nodes[0].NATS)
	} else {
		line("server", "%d nodes of one cluster at -addrs", len(s.Nodes))
	}
	for _, n := range s.Nodes {
		fmt.Fprintf(b, "  node %-4d%s", n.Node, n.Addr)
		switch {
		case n.Exec != "":
			fmt.Fprintf(b, "  pid %d; after SIGTERM: %s\n", n.PID, n.Exit)
		case n.PID != 0:
			fmt.Fprintf(b, "  pid %d\n", n.PID)
		default:
			b.WriteString("  (no -pids: no CPU or memory figures)\n")
		}
	}
}

// writeStall writes the fate of the stalled members.
func writeStall(b *strings.Builder, line func(label, format string, a ...any), st *StallResult) {
	if st.StalledSenders > 0 {
		line("stalled", "%d members that never read, %d of them sending (their lines reached healthy members %d times)",
			st.Stalled, st.StalledSenders, st.FromStalled)
	} else {
		line("stalled", "%d members that never read", st.Stalled)
	}
	if st.KernelNote != "" {
		line("", "%s", st.KernelNote)
	}
	at := func(s *float64) string {
		if s == nil {
			return "-"
		}
		return seconds(*s)
	}
	for _, m := range st.Members {
		fmt.Fprintf(b, "  %-9s", m.Name)
		if m.Sender {
			fmt.Fprintf(b, "sent %d lines; ", m.Sent)
		}
		if m.Disconnected {
			fmt.Fprintf(b, "dropped: LEAVE at %s, socket failed at %s", at(m.LeaveSeconds), at(m.SocketSeconds))
			if m.SocketError != "" {
				fmt.Fprintf(b, " (%s)", m.SocketError)
			}
			fmt.Fprintf(b, "; %s addressed to it by then\n", bytesText(m.AddressedBytes))
		} else {
			fmt.Fprintf(b, "still connected at the end; %s addressed to it\n", bytesText(m.AddressedBytes))
		}
		const indent = "             "
		if k := m.Kernel; k != nil {
			fmt.Fprintf(b, "%skernel held %s at %s (server tx %s + client rx %s): pending ~%s\n",
				indent, bytesText(k.Bytes), seconds(k.AtSeconds), bytesText(k.ServerTxQueue), bytesText(k.ClientRxQueue), bytesText(*m.PendingBytes))
		} else {
			fmt.Fprintf(b, "%skernel share unknown: pending unknown\n", indent)
		}
		if m.Disconnected {
			over := "unknown"
			if m.OverLimitSeconds != nil {
				over = fmt.Sprintf("~%s", time.Duration(*m.OverLimitSeconds*float64(time.Second)).Round(time.Microsecond*100))
			}
			fmt.Fprintf(b, "%sfrom passing -max-queue-bytes %d to the drop: %s\n", indent, st.MaxQueueBytes, over)
		}
	}
}

// bytesText prints a byte count with a binary unit.
func bytesText(n int64) string {
	switch v := float64(n); {
	case n > -1024 && n < 1024:
		return fmt.Sprintf("%d B", n)
	case n > -1<<20 && n < 1<<20:
		return fmt.Sprintf("%.1f KiB", v/1024)
	default:
		return fmt.Sprintf("%.2f MiB", v/(1<<20))
	}
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
