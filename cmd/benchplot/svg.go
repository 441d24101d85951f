package main

import (
	"fmt"
	"math"
	"strings"
)

// A chart is one panel: curves of median values with min–max bars over a
// shared x axis.
type chart struct {
	Title  string
	XLabel string
	YLabel string
	LogX   bool
	LogY   bool
	// XStep, if > 0, is the step between the ticks of a linear x axis.
	XStep  float64
	Curves []curve
	// Limit, if > 0, is drawn as a dashed horizontal line (a target).
	Limit      float64
	LimitLabel string
	// Events are drawn as labelled dashed vertical lines.
	Events []event
	// Width is the panel's width; 0 means panelW.
	Width int
}

// An event is a moment marked on a chart's x axis.
type event struct {
	X     float64
	Label string
}

// width returns the panel's width.
func (c chart) width() int {
	if c.Width > 0 {
		return c.Width
	}
	return panelW
}

// A curve is one series of points, drawn in one colour. A dense curve,
// such as a time series, is a plain line: no marker, no min–max bar.
type curve struct {
	Name   string
	Points []point
	Dense  bool
}

// A point is the summary of the repeated runs at one x.
type point struct {
	X, Min, Med, Max float64
	N                int
}

// palette holds the curve colours, chosen to stay distinct in print.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"}

// Panel geometry, in SVG user units.
const (
	panelW  = 440
	panelH  = 320
	marginL = 64
	marginR = 16
	marginT = 34
	marginB = 62
)

// svgFigure renders charts side by side as one SVG document.
func svgFigure(charts []chart) string {
	var b strings.Builder
	w := 0
	for _, c := range charts {
		w += c.width()
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, panelH, w, panelH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, panelH)
	x := 0
	for _, c := range charts {
		fmt.Fprintf(&b, `<g transform="translate(%d,0)">`+"\n", x)
		c.render(&b)
		b.WriteString("</g>\n")
		x += c.width()
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// axis maps data values to pixels along one dimension.
type axis struct {
	log      bool
	lo, hi   float64 // data range (for log axes, of the values themselves)
	pLo, pHi float64 // pixel range
	step     float64 // between ticks of a linear axis, if > 0; else chosen
}

func (a axis) f(v float64) float64 {
	if a.log {
		return math.Log10(v)
	}
	return v
}

func (a axis) px(v float64) float64 {
	lo, hi := a.f(a.lo), a.f(a.hi)
	if hi == lo {
		return (a.pLo + a.pHi) / 2
	}
	return a.pLo + (a.f(v)-lo)/(hi-lo)*(a.pHi-a.pLo)
}

// ticks returns the tick values of the axis.
func (a axis) ticks() []float64 {
	var t []float64
	if a.log {
		for e := math.Floor(math.Log10(a.lo)); e <= math.Ceil(math.Log10(a.hi)); e++ {
			for _, m := range []float64{1, 2, 5} {
				v := m * math.Pow(10, e)
				if v >= a.lo*0.999 && v <= a.hi*1.001 {
					t = append(t, v)
				}
			}
		}
		return t
	}
	step := a.step
	if step <= 0 {
		step = niceStep((a.hi - a.lo) / 5)
	}
	for v := math.Ceil(a.lo/step) * step; v <= a.hi+step*1e-9; v += step {
		t = append(t, v)
	}
	return t
}

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// format prints a tick or value label compactly.
func format(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 1e6 && math.Mod(v, 1e6) == 0:
		return fmt.Sprintf("%gM", v/1e6)
	case math.Abs(v) >= 1e3 && math.Mod(v, 1e3) == 0:
		return fmt.Sprintf("%gk", v/1e3)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// bounds returns the data range of the chart in x and y.
func (c chart) bounds() (x, y axis) {
	x.lo, y.lo = math.Inf(1), math.Inf(1)
	x.hi, y.hi = math.Inf(-1), math.Inf(-1)
	for _, cv := range c.Curves {
		for _, p := range cv.Points {
			x.lo, x.hi = math.Min(x.lo, p.X), math.Max(x.hi, p.X)
			y.lo, y.hi = math.Min(y.lo, p.Min), math.Max(y.hi, p.Max)
		}
	}
	for _, e := range c.Events {
		x.lo, x.hi = math.Min(x.lo, e.X), math.Max(x.hi, e.X)
	}
	if c.Limit > 0 {
		y.lo, y.hi = math.Min(y.lo, c.Limit), math.Max(y.hi, c.Limit)
	}
	if math.IsInf(x.lo, 1) {
		x.lo, x.hi, y.lo, y.hi = 1, 10, 1, 10
	}
	x.log, y.log = c.LogX, c.LogY
	x.step = c.XStep
	if x.log {
		x.lo, x.hi = x.lo/1.25, x.hi*1.25
	} else {
		pad := (x.hi - x.lo) * 0.05
		if pad == 0 {
			pad = 1
		}
		x.lo, x.hi = x.lo-pad, x.hi+pad
	}
	if y.log {
		y.lo, y.hi = math.Pow(10, math.Floor(math.Log10(y.lo)+1e-9)), math.Pow(10, math.Ceil(math.Log10(y.hi)-1e-9))
	} else {
		step := niceStep(y.hi * 1.1 / 5)
		y.lo, y.hi = 0, math.Ceil(y.hi*1.1/step)*step
		if y.hi <= 0 {
			y.hi = 1
		}
	}
	if x.lo == x.hi {
		x.hi = x.lo * 10
	}
	if y.lo == y.hi {
		y.hi = y.lo * 10
	}
	x.pLo, x.pHi = marginL, float64(c.width()-marginR)
	y.pLo, y.pHi = panelH-marginB, marginT
	return x, y
}

func (c chart) render(b *strings.Builder) {
	x, y := c.bounds()
	panelW := c.width()
	fmt.Fprintf(b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", marginL, esc(c.Title))
	// Grid and ticks.
	for _, t := range y.ticks() {
		py := y.px(t)
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e5e5e5"/>`+"\n", marginL, panelW-marginR, py, py)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", marginL-6, py, format(t))
	}
	for _, t := range x.ticks() {
		px := x.px(t)
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#e5e5e5"/>`+"\n", px, px, marginT, panelH-marginB)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", px, panelH-marginB+16, format(t))
	}
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#444"/>`+"\n",
		marginL, marginT, panelW-marginL-marginR, panelH-marginT-marginB)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", (marginL+panelW-marginR)/2, panelH-marginB+34, esc(c.XLabel))
	fmt.Fprintf(b, `<text transform="translate(14,%d) rotate(-90)" text-anchor="middle">%s</text>`+"\n", (marginT+panelH-marginB)/2, esc(c.YLabel))
	if c.Limit > 0 {
		py := y.px(c.Limit)
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#888" stroke-dasharray="6 4"/>`+"\n", marginL, panelW-marginR, py, py)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" fill="#666">%s</text>`+"\n", panelW-marginR-4, py+14, esc(c.LimitLabel))
	}
	for _, e := range c.Events {
		px := x.px(e.X)
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#555" stroke-dasharray="4 3"/>`+"\n", px, px, marginT, panelH-marginB)
		fmt.Fprintf(b, `<text transform="translate(%.1f,%d) rotate(-90)" text-anchor="end" fill="#555" font-size="10">%s</text>`+"\n", px-3, marginT+4, esc(e.Label))
	}
	// Curves: a polyline through the medians, a bar from min to max.
	for i, cv := range c.Curves {
		col := palette[i%len(palette)]
		var pts []string
		for _, p := range cv.Points {
			px := x.px(p.X)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, y.px(p.Med)))
			if cv.Dense {
				continue
			}
			if p.Max > p.Min {
				fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/>`+"\n", px, px, y.px(p.Min), y.px(p.Max), col)
				for _, v := range []float64{p.Min, p.Max} {
					fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`+"\n", px-4, px+4, y.px(v), y.px(v), col)
				}
			}
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s: x=%s median %s (min %s, max %s, %d runs)</title></circle>`+"\n",
				px, y.px(p.Med), col, esc(cv.Name), format(p.X), format(p.Med), format(p.Min), format(p.Max), p.N)
		}
		if len(pts) > 1 {
			width := 2.0
			if cv.Dense {
				width = 1.2
			}
			fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="%g"/>`+"\n", strings.Join(pts, " "), col, width)
		}
		// Legend, top left inside the plot.
		ly := marginT + 16 + 16*i
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", marginL+8, marginL+26, ly, ly, col)
		fmt.Fprintf(b, `<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", marginL+30, ly, esc(cv.Name))
	}
}

// esc escapes text for SVG.
func esc(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	return r.Replace(s)
}
