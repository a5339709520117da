package trace

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// Output formats.
const (
	OutputTable = ""
	OutputWide  = "wide"
	OutputJSON  = "json"
	OutputYAML  = "yaml"
)

// maxMessage is how much of a message the table shows, in runes; -o wide, JSON and YAML
// show all of it.
const maxMessage = 100

// Document is the -o json and -o yaml output: the entity's answer and its sources as a
// tree.
type Document struct {
	Entity  EntitySummary `json:"entity"`
	Sources []*Node       `json:"sources"`
}

// EntitySummary is the entity as the trace shows it: what it is, and the top-level
// scalars of its status.
type EntitySummary struct {
	APIVersion  string   `json:"apiVersion"`
	Kind        string   `json:"kind"`
	Namespace   string   `json:"namespace"`
	Name        string   `json:"name"`
	EntityKind  string   `json:"entityKind,omitempty"`
	Owner       string   `json:"owner,omitempty"`
	System      string   `json:"system,omitempty"`
	Health      string   `json:"health,omitempty"`
	Sync        string   `json:"sync,omitempty"`
	Ready       string   `json:"ready,omitempty"`
	Message     string   `json:"message,omitempty"`
	Revision    string   `json:"revision,omitempty"`
	Clusters    string   `json:"clusters,omitempty"`
	LastRun     string   `json:"lastRun,omitempty"`
	SourceCount int32    `json:"sourceCount"`
	Relations   []string `json:"relations,omitempty"`
}

// Summarize returns the entity part of a Document.
func Summarize(e *catalogv1alpha1.CatalogEntity) EntitySummary {
	st := &e.Status
	return EntitySummary{
		APIVersion: catalogv1alpha1.GroupVersion.String(), Kind: "CatalogEntity",
		Namespace: e.Namespace, Name: e.Name, EntityKind: string(e.Spec.Kind), Owner: string(e.Spec.Owner),
		System: string(e.Spec.System), Health: string(st.Health), Sync: string(st.Sync), Ready: st.Ready,
		Message: st.Message, Revision: st.Revision, Clusters: st.Clusters, LastRun: st.LastRun,
		SourceCount: st.SourceCount, Relations: st.Relations,
	}
}

// Printer writes a trace in one output format.
type Printer struct {
	// Output is one of the Output* formats.
	Output string
	// Color colours health and sync words and the heading, for a terminal.
	Color bool
	// Live adds the LIVE column: what each object says now.
	Live bool
	// Now is the clock ages are measured against.
	Now func() time.Time
}

// Print writes e and its sources, arranged as roots, to w.
func (p Printer) Print(w io.Writer, e *catalogv1alpha1.CatalogEntity, roots []*Node) error {
	switch p.Output {
	case OutputJSON:
		b, err := json.MarshalIndent(Document{Entity: Summarize(e), Sources: nonNil(roots)}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case OutputYAML:
		b, err := yaml.Marshal(Document{Entity: Summarize(e), Sources: nonNil(roots)})
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	t := p.table(e, roots)
	_, err := io.WriteString(w, t)
	return err
}

func nonNil(roots []*Node) []*Node {
	if roots == nil {
		return []*Node{}
	}
	return roots
}

// column is one column of the table.
type column struct {
	title string
	cell  func(r *row) string
	paint bool // health and sync words get their colour
}

// row is one line of the table before it is laid out.
type row struct {
	tree    string // the tree drawing before the name
	name    string
	heading bool
	node    *Node
	entity  *catalogv1alpha1.CatalogEntity
	group   *Group
}

func (p Printer) columns() []column {
	wide := p.Output == OutputWide
	cols := []column{{title: "NAME", cell: func(r *row) string { return r.tree + r.name }}}
	if wide {
		cols = append(cols, column{title: "NAMESPACE", cell: func(r *row) string { return r.field(func(n *Node) string { return n.Namespace }, r.entityNamespace()) }})
	}
	cols = append(cols,
		column{title: "CLUSTER", cell: func(r *row) string { return r.field(func(n *Node) string { return n.Cluster }, "") }},
		column{title: "HEALTH", paint: true, cell: func(r *row) string { return r.health() }},
		column{title: "SYNC", paint: true, cell: func(r *row) string { return r.sync() }},
		column{title: "READY", cell: func(r *row) string { return r.ready() }},
	)
	if wide {
		cols = append(cols,
			column{title: "PHASE", cell: func(r *row) string { return r.field(func(n *Node) string { return n.Phase }, "") }},
			column{title: "LAST TRANSITION", cell: func(r *row) string { return p.age(r.changed()) }},
		)
	}
	if p.Live {
		cols = append(cols, column{title: "LIVE", paint: true, cell: func(r *row) string { return r.live() }})
	}
	cols = append(cols, column{title: "MESSAGE", cell: func(r *row) string {
		m := oneLine(r.message(p))
		if !wide {
			m = cut(m, maxMessage)
		}
		return m
	}})
	return cols
}

func (r *row) field(f func(*Node) string, entity string) string {
	if r.node != nil {
		return f(r.node)
	}
	if r.entity != nil {
		return entity
	}
	return ""
}

func (r *row) entityNamespace() string {
	if r.entity == nil {
		return ""
	}
	return r.entity.Namespace
}

func (r *row) health() string {
	switch {
	case r.node != nil:
		return r.node.Health
	case r.entity != nil:
		return string(r.entity.Status.Health)
	}
	return r.group.Health
}

func (r *row) sync() string {
	switch {
	case r.node != nil:
		return r.node.Sync
	case r.entity != nil:
		return string(r.entity.Status.Sync)
	}
	return ""
}

func (r *row) ready() string {
	switch {
	case r.node != nil:
		return r.node.Ready
	case r.entity != nil:
		return r.entity.Status.Ready
	}
	return r.group.Ready
}

func (r *row) changed() time.Time {
	n := r.node
	switch {
	case n == nil:
		return time.Time{}
	case n.Role == RoleRun && n.FinishedAt != nil:
		return n.FinishedAt.Time
	case n.Role == RoleRun && n.StartedAt != nil:
		return n.StartedAt.Time
	case n.LastTransitionTime != nil:
		return n.LastTransitionTime.Time
	}
	return time.Time{}
}

func (r *row) live() string {
	if r.node == nil || r.node.Live == nil {
		return ""
	}
	l := r.node.Live
	if l.Error != "" {
		return l.Error
	}
	s := l.Health
	if l.Sync != "" {
		s += " " + l.Sync
	}
	if l.Health != r.node.Health || l.Sync != r.node.Sync {
		s += "*"
	}
	return s
}

func (r *row) message(p Printer) string {
	switch {
	case r.entity != nil:
		if r.entity.Status.Health == "" && r.entity.Status.ObservedGeneration == 0 {
			return "no status yet: is the entityhub manager running?"
		}
		return r.entity.Status.Message
	case r.node == nil:
		return ""
	case r.node.Role == RoleRun:
		return runMessage(r.node, p.Now())
	}
	return r.node.Message
}

// runMessage says what a past run was: when, and how long it took.
func runMessage(n *Node, now time.Time) string {
	switch {
	case n.StartedAt != nil && n.FinishedAt != nil:
		return "past run: took " + duration.HumanDuration(n.FinishedAt.Sub(n.StartedAt.Time))
	case n.StartedAt != nil:
		return "past run: started " + duration.HumanDuration(now.Sub(n.StartedAt.Time)) + " ago"
	}
	return "past run"
}

func (p Printer) age(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return duration.HumanDuration(p.Now().Sub(t))
}

// rows lays the tree out: the entity, then each family as a heading with its trees.
func rows(e *catalogv1alpha1.CatalogEntity, roots []*Node) []*row {
	out := []*row{{name: "CatalogEntity/" + e.Name, entity: e}}
	groups := Groups(roots)
	for gi := range groups {
		g := &groups[gi]
		last := gi == len(groups)-1
		out = append(out, &row{tree: branch(last), name: g.Title, heading: true, group: g})
		out = appendNodes(out, g.Nodes, indent(last))
	}
	return out
}

func appendNodes(out []*row, nodes []*Node, prefix string) []*row {
	for i, n := range nodes {
		last := i == len(nodes)-1
		out = append(out, &row{tree: prefix + branch(last), name: n.Kind + "/" + n.Name, node: n})
		out = appendNodes(out, n.Children, prefix+indent(last))
	}
	return out
}

func branch(last bool) string {
	if last {
		return "└─ "
	}
	return "├─ "
}

func indent(last bool) string {
	if last {
		return "   "
	}
	return "│  "
}

// table renders the rows as aligned columns, the last one unpadded.
func (p Printer) table(e *catalogv1alpha1.CatalogEntity, roots []*Node) string {
	cols := p.columns()
	rs := rows(e, roots)
	cells := make([][]string, len(rs))
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = utf8.RuneCountInString(c.title)
	}
	for ri, r := range rs {
		cells[ri] = make([]string, len(cols))
		for ci, c := range cols {
			cells[ri][ci] = c.cell(r)
			widths[ci] = max(widths[ci], utf8.RuneCountInString(cells[ri][ci]))
		}
	}
	var b strings.Builder
	var line strings.Builder
	for ci, c := range cols {
		p.writeCell(&line, c.title, p.style(styleHeading), widths[ci], ci == len(cols)-1)
	}
	b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	for ri, r := range rs {
		line.Reset()
		for ci, c := range cols {
			style := ""
			switch {
			case c.paint:
				style = p.wordStyle(cells[ri][ci])
			case ci == 0 && (r.heading || r.entity != nil):
				style = p.style(styleHeading)
			}
			p.writeCell(&line, cells[ri][ci], style, widths[ci], ci == len(cols)-1)
		}
		// A line whose last cells are empty ends without their padding.
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	for _, note := range notes(e, roots) {
		b.WriteString(note + "\n")
	}
	return b.String()
}

// writeCell writes one cell, coloured when style is set, padded to width unless it is
// the last of its line; the padding is measured on the plain text.
func (p Printer) writeCell(b *strings.Builder, text, style string, width int, last bool) {
	plain := text
	if style != "" && text != "" {
		text = style + text + reset
	}
	b.WriteString(text)
	if last {
		return
	}
	b.WriteString(strings.Repeat(" ", width-utf8.RuneCountInString(plain)+2))
}

// notes are the lines under the table: what it leaves out, and what a mark means.
func notes(e *catalogv1alpha1.CatalogEntity, roots []*Node) []string {
	var out []string
	if n := int(e.Status.SourceCount) - len(e.Status.Sources); n > 0 {
		out = append(out, fmt.Sprintf("… and %d more sources: status lists the worst %d of %d.", n, len(e.Status.Sources), e.Status.SourceCount))
	}
	if differs(roots) {
		out = append(out, "* what the object says now is not what the entity's status says: the manager has not caught up yet, "+
			"or judged more than the object (a stale Argo CD, a provider down, a silent workflow controller); see the MESSAGE.")
	}
	return out
}

func differs(nodes []*Node) bool {
	for _, n := range nodes {
		if l := n.Live; l != nil && l.Error == "" && (l.Health != n.Health || l.Sync != n.Sync) {
			return true
		}
		if differs(n.Children) {
			return true
		}
	}
	return false
}

// oneLine puts a message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cut shortens s to n runes, marking the cut with an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
