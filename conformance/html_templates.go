package conformance

import (
	"fmt"
	"html/template"
	"regexp"
	"strings"
)

// The pages of the HTML report. html/template escapes every value by its
// context; the only values it takes as HTML are those of markdown, which
// escapes the text first and adds only tags of its own.
var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"md":    markdown,
	"class": func(s any) string { return statusClass(Status(fmt.Sprint(s))) },
}).Parse(pageTemplates))

// statusClass is the CSS class that colours a verdict: v-pass, v-fail,
// v-non-strict...
func statusClass(s Status) string {
	if s == "" {
		return "v-none"
	}
	return "v-" + safeName(strings.ToLower(string(s)), "other", false)
}

// Minimal Markdown: **strong** and *emphasis* outside code spans, and
// the IDs of rules.
var (
	mdRule   = regexp.MustCompile(`\b[A-Z]+-[0-9]+\b`)
	mdStrong = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	mdEm     = regexp.MustCompile(`(^|[^\w*])\*([^*\s](?:[^*]*[^*\s])?)\*($|[^\w*])`)
)

// markdown renders the little Markdown that rule texts use: `code`,
// **strong** and *emphasis*; and it links the IDs of the rules of
// PROTOCOL.md that the text names to their rows on the page index (""
// for the page itself). It escapes the text first, then adds its own tags
// around escaped pieces, so the result is safe HTML whatever s holds.
func markdown(s, index string) template.HTML {
	var b strings.Builder
	parts := strings.Split(s, "`")
	for i, part := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + template.HTMLEscapeString(part) + "</code>")
			continue
		}
		if i%2 == 1 {
			b.WriteString("`") // a backquote without its pair
		}
		e := template.HTMLEscapeString(part)
		e = mdStrong.ReplaceAllString(e, "<strong>$1</strong>")
		e = mdEm.ReplaceAllString(e, "$1<em>$2</em>$3")
		e = mdRule.ReplaceAllStringFunc(e, func(id string) string {
			if _, ok := requirement(id); !ok {
				return id
			}
			return `<a href="` + template.HTMLEscapeString(index+"#"+ruleAnchor(id)) + `">` + id + `</a>`
		})
		b.WriteString(e)
	}
	return template.HTML(b.String())
}

// pageStyle is the style sheet of every page: inline, so that a page needs
// no other file; readable on screen and on paper.
const pageStyle = `
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f; background: #fff;
  max-width: 78rem; margin: 1.2rem auto 3rem; padding: 0 1rem; }
h1 { font-size: 1.45rem; margin: .3rem 0 .6rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; padding-bottom: .15rem; border-bottom: 1px solid #d0d0d0; }
h3 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
a { color: #0645ad; }
nav { font-size: .9rem; margin-bottom: .6rem; }
nav a { margin-right: 1rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .4rem 0 1rem; }
dl.meta dt { color: #555; }
dl.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { border: 1px solid #d6d6d6; padding: .2rem .45rem; text-align: left; vertical-align: top; }
thead th { background: #f2f2f2; }
tbody th { font-weight: normal; }
code, pre, .mono, td.text, td.at { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .88em; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: .6rem .7rem; white-space: pre-wrap; overflow-wrap: anywhere; }
.muted { color: #666; }
.small { font-size: .85em; }
.nowrap { white-space: nowrap; }
ul.plain { list-style: none; margin: 0; padding: 0; }
.v { display: inline-block; padding: 0 .35rem; border-radius: 3px; font-weight: 600; font-size: .82em; white-space: nowrap; text-decoration: none; }
.v-pass { background: #d8f3dc; color: #145a24; }
.v-fail, .v-xpass { background: #fbd5d5; color: #8b1111; }
.v-non-strict { background: #ffe9b3; color: #6b4500; }
.v-xfail { background: #e6defa; color: #42267a; }
.v-unimplemented, .v-skip { background: #ececec; color: #555; }
.v-none { color: #888; }
.verdict-big { font-size: 1.05rem; padding: .1rem .6rem; }
table.wire td.at, table.wire td.dir, table.wire td.client { white-space: nowrap; width: 1%; }
table.wire td.at, table.wire td.dir { color: #555; }
table.rules td.checks { min-width: 12rem; }
table.rules td.means { min-width: 9rem; }
table.wire td.text { white-space: pre-wrap; overflow-wrap: anywhere; }
table.wire tr.sent td.dir { color: #0b5394; font-weight: 600; }
table.wire tr.received td.dir { color: #38761d; font-weight: 600; }
table.wire tr.note td { color: #666; font-style: italic; }
table.wire tr.elided td { text-align: center; color: #777; font-style: italic; background: #fafafa; }
table.wire tr.unread td { color: #777; }
table.wire tr.differs td { background: #ffe08a; color: #000; font-weight: 600; }
table.wire tr.differs td.dir::after { content: " \2190"; }
.mark { font-size: .75em; font-weight: 600; padding: 0 .25rem; border: 1px solid currentColor; border-radius: 3px; margin-left: .4rem; }
.callout { border-left: 4px solid #d08a00; background: #fff7df; padding: .35rem .7rem; margin: .6rem 0; }
.rule-text { margin: .15rem 0 .2rem; }
table.matrix td.cell { text-align: center; white-space: nowrap; }
table.matrix tr.section th { background: #f8f8f8; font-weight: 600; }
@media print {
  body { max-width: none; margin: 0; font-size: 11pt; }
  nav, .jump { display: none; }
  a { color: inherit; text-decoration: none; }
  .v, table.wire tr.differs td, .callout { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
}
`

// pageTemplates are the templates of the pages: index (one run), script
// (one result) and matrix (several servers).
const pageTemplates = `
{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>{{.}}</title>
<style>` + pageStyle + `</style>
</head>
<body>
{{end}}

{{define "verdict"}}<span class="v {{class .}}">{{if .}}{{.}}{{else}}&mdash;{{end}}</span>{{end}}

{{define "meanings"}}<table class="counts">
<thead><tr><th>Verdict</th><th>Count</th><th>Meaning</th></tr></thead>
<tbody>
{{range .}}<tr><td>{{template "verdict" .Status}}</td><td>{{.Count}}</td><td>{{.Meaning}}</td></tr>
{{end}}</tbody>
</table>
{{end}}

{{define "index"}}{{template "head" (print "Conformance of " .Rep.Server)}}
{{if .Up}}<nav><a href="{{.Up}}">&uarr; All servers</a></nav>
{{end}}<h1>Conformance of {{.Rep.Server}} to PROTOCOL.md</h1>
<dl class="meta">
<dt>Server</dt><dd>{{.Rep.Server}}</dd>
<dt>Target</dt><dd><code>{{.Rep.Target}}</code></dd>
<dt>Seed</dt><dd><code>{{.Rep.Seed}}</code></dd>
{{if .Date}}<dt>Started</dt><dd>{{.Date}}</dd>
{{end}}<dt>Mode</dt><dd>{{if .Rep.Strict}}-strict: a SHOULD missed is a failure{{else}}a SHOULD missed is NON-STRICT, not a failure{{end}}</dd>
<dt>Result</dt><dd>{{.Summary}}</dd>
</dl>

<h2 id="summary">Summary</h2>
{{template "meanings" .Counts}}
{{if .Reproduce}}<p>To run the failures again with the same <code>$U</code>:</p>
<pre class="reproduce">{{.Reproduce}}</pre>
{{end}}
<p class="small jump">Sections: {{range .Sections}}<a href="#{{.Anchor}}">{{.Name}}</a> &middot; {{end}}{{if .Unknown}}<a href="#other-rules">Other rules</a> &middot; {{end}}<a href="#scripts">All scripts</a></p>

<h2 id="rules">Rules of PROTOCOL.md</h2>
<p class="muted small">A rule's verdict is the worst of its checks': FAIL or XPASS, then NON-STRICT, then XFAIL, then PASS; UNIMPLEMENTED or SKIP if none of them ran, &mdash; if nothing in this run checks it. The transcripts of PROTOCOL.md are checked by the model's tests, not by this run.</p>
{{range .Sections}}<h3 id="{{.Anchor}}">{{.Name}}</h3>
{{template "ruletable" .Rules}}{{end}}
{{if .Unknown}}<h3 id="other-rules">Rules that scripts name and PROTOCOL.md lacks</h3>
{{template "ruletable" .Unknown}}{{end}}

<h2 id="scripts">All scripts</h2>
<table class="scripts">
<thead><tr><th>Script</th><th>Verdict</th><th>Time</th><th>Rules</th><th>Reason</th></tr></thead>
<tbody>
{{range .Scripts}}<tr><td><a href="{{.Href}}">{{if .Model}}model checker{{else}}{{.Name}}{{end}}</a></td><td>{{template "verdict" .Status}}</td><td class="nowrap">{{.Duration}}</td><td class="small">{{range $i, $r := .Rules}}{{if $i}} {{end}}<a href="{{$r.Href}}">{{$r.ID}}</a>{{end}}</td><td class="small">{{.Reason}}</td></tr>
{{end}}</tbody>
</table>
</body>
</html>
{{end}}

{{define "ruletable"}}<table class="rules">
<thead><tr><th>Rule</th><th>Requirement</th><th>Scripts</th><th>Model side</th><th>Verdict</th></tr></thead>
<tbody>
{{range .}}<tr id="{{.Anchor}}">
<td class="nowrap"><strong>{{.ID}}</strong><br><span class="small muted">{{if .Strength}}{{.Strength}}{{end}}{{if .Tag}} [{{.Tag}}]{{end}}</span></td>
<td class="rule-text">{{if .Text}}{{md .Text ""}}{{else}}<span class="muted">not a rule of PROTOCOL.md</span>{{end}}</td>
<td class="checks"><ul class="plain">{{range .Checks}}<li><a href="{{.Href}}">{{.Name}}</a> {{template "verdict" .Status}}</li>{{else}}<li class="muted">none in this run</li>{{end}}</ul></td>
<td class="means"><ul class="plain small">{{with .Model}}<li>{{if .Href}}<a href="{{.Href}}">model checker</a>{{else}}model checker{{end}} {{if .Status}}{{template "verdict" .Status}}{{else}}<span class="muted">({{.Note}})</span>{{end}}</li>{{end}}{{if .Transcripts}}<li>transcripts</li>{{end}}</ul></td>
<td>{{template "verdict" .Verdict}}</td>
</tr>
{{end}}</tbody>
</table>
{{end}}

{{define "script"}}{{template "head" .Title}}
<nav><a href="{{.Index}}">&larr; Report for {{.Server}}</a>{{if .Up}}<a href="{{.Up}}">&uarr; All servers</a>{{end}}{{if .Differs}}<a class="jump" href="#first-difference">&darr; First difference</a>{{end}}</nav>
<h1>{{if .Model}}Model checker{{else}}{{.Name}}{{end}} <span class="v verdict-big {{class .Status}}">{{.Status}}</span></h1>
{{if .Meaning}}<p class="muted">{{.Status}}: {{.Meaning}}.</p>
{{end}}{{if .Reason}}<p class="callout">{{.Reason}}</p>
{{end}}<dl class="meta">
<dt>Server</dt><dd>{{.Server}}</dd>
<dt>Time</dt><dd>{{.Duration}}</dd>
{{if .U}}<dt>$U</dt><dd><code>{{.U}}</code></dd>
{{end}}{{if .Tags}}<dt>Tags</dt><dd>{{range $i, $t := .Tags}}{{if $i}}, {{end}}{{$t}}{{end}}</dd>
{{end}}<dt>Strength</dt><dd>{{.Strength}}</dd>
{{if .Should}}<dt>SHOULD missed</dt><dd>{{.Should}}</dd>
{{end}}</dl>

<h2 id="rules">Rules it checks</h2>
{{range .Rules}}<div class="rule">
<h3><a href="{{.Href}}">{{.ID}}</a>{{if .Known}} <span class="small muted">{{.Strength}} [{{.Tag}}] &middot; {{.Section}}</span>{{end}}</h3>
<p class="rule-text">{{if .Known}}{{md .Text $.Index}}{{else}}<span class="muted">not a rule of PROTOCOL.md</span>{{end}}</p>
</div>
{{else}}<p class="muted">none</p>
{{end}}
{{if .Wire}}<h2 id="wire">Wire log</h2>
<p class="muted small"><code>&gt;</code> sent by the client, <code>&lt;</code> received, <code>:</code> a connection event.{{if .Differs}} The <a href="#first-difference">highlighted row</a> is the line the failing command found different from what it expected.{{end}}{{if .Unread}} Rows marked unread arrived but the script never read them.{{end}}</p>
<table class="wire">
<thead><tr><th>Time</th><th>Client</th><th></th><th>Line</th></tr></thead>
<tbody>
{{range .Wire}}{{if .Elided}}<tr class="{{.Class}}"><td colspan="4">{{.Text}}</td></tr>
{{else}}<tr class="{{.Class}}"{{if .First}} id="first-difference"{{end}}><td class="at">{{.At}}</td><td class="client">{{.Client}}</td><td class="dir">{{.Dir}}</td><td class="text">{{.Text}}{{if .Differs}}<span class="mark">differs</span>{{end}}{{if .Unread}}<span class="mark">unread</span>{{end}}</td></tr>
{{end}}{{end}}</tbody>
</table>
{{end}}
{{if .Log}}<h2 id="log">{{if .Model}}{{if eq .Status "PASS"}}Log{{else}}The failing sequence, shrunk, as a script{{end}}{{else}}Script log{{end}}</h2>
<pre class="log">{{.Log}}</pre>
{{end}}{{if .ServerLog}}<h2 id="server-output">Server output</h2>
<pre class="server-log">{{.ServerLog}}</pre>
{{end}}{{if .Source}}<h2 id="source">The script</h2>
<pre class="source">{{.Source}}</pre>
{{end}}</body>
</html>
{{end}}

{{define "matrix"}}{{template "head" .Title}}
<h1>{{.Title}}</h1>
<table class="servers">
<thead><tr><th>Server</th><th>Target</th><th>Seed</th><th>Started</th><th>Result</th></tr></thead>
<tbody>
{{range .Columns}}<tr><td><a href="{{.Href}}">{{.Name}}</a></td><td><code>{{.Target}}</code></td><td><code>{{.Seed}}</code></td><td class="nowrap">{{.Date}}</td><td>{{.Summary}}</td></tr>
{{end}}</tbody>
</table>

<h2 id="matrix">Scripts by section of PROTOCOL.md</h2>
<table class="matrix">
<thead>
<tr><th>Script</th><th>Rules</th>{{range .Columns}}<th class="server"><a href="{{.Href}}">{{.Name}}</a></th>{{end}}</tr>
<tr class="counts"><th colspan="2">Summary</th>{{range .Columns}}<th class="small"><a href="{{.Href}}">{{range $i, $c := .Counts}}{{if $i}}<br>{{end}}{{$c.Count}} {{$c.Status}}{{end}}</a></th>{{end}}</tr>
</thead>
{{range .Groups}}<tbody>
<tr class="section"><th colspan="{{$.Span}}">{{.Name}}</th></tr>
{{range .Rows}}<tr class="script"><th>{{if .Model}}model checker{{else}}{{.Name}}{{end}} <span class="small muted">{{.Strength}}</span></th><td class="small">{{range $i, $r := .Rules}}{{if $i}} {{end}}{{$r}}{{end}}</td>{{range .Cells}}<td class="cell">{{if .Href}}<a class="v {{class .Status}}" href="{{.Href}}">{{.Status}}</a>{{else}}<span class="v v-none">&mdash;</span>{{end}}</td>{{end}}</tr>
{{end}}</tbody>
{{end}}</table>

<h2 id="verdicts">Verdicts</h2>
<table class="counts">
<thead><tr><th>Verdict</th><th>Meaning</th></tr></thead>
<tbody>
{{range .Meanings}}<tr><td>{{template "verdict" .Status}}</td><td>{{.Meaning}}</td></tr>
{{end}}<tr><td>{{template "verdict" ""}}</td><td>not in that server's run</td></tr>
</tbody>
</table>
</body>
</html>
{{end}}
`
