// Package trace implements `entityhub trace` (and `kubectl entityhub trace`): one
// CatalogEntity and its sources as a tree, the way `crossplane beta trace` prints a
// claim — Applications per cluster, claim → composite → managed resources, schedules and
// their runs — worst first, as a table, or as JSON or YAML.
//
// The tree is built from the entity's status alone, which lists its sources flat:
// Crossplane parts are put under the claim or composite whose name theirs extends
// (Crossplane names a claim's composite <claim>-<suffix> and a composite's resources
// <composite>-<suffix>), else under the one whose message names them; runs under the
// schedule whose name theirs extends. With --live the objects themselves are read, and
// their references (spec.resourceRef, spec.resourceRefs, spec.crossplane.resourceRefs)
// decide. Whatever is not part of a tree is grouped by family: Argo CD, Crossplane,
// Argo Workflows, member entities, other.
package trace

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/entitystatus"
)

// Families of sources, in the order the tree shows them when equally bad.
const (
	FamilyArgoCD     = "argocd"
	FamilyCrossplane = "crossplane"
	FamilyWorkflows  = "workflows"
	FamilyMembers    = "members"
	FamilyOther      = "other"
)

// familyOrder and familyTitle say how each family is shown.
var (
	familyOrder = []string{FamilyArgoCD, FamilyCrossplane, FamilyWorkflows, FamilyMembers, FamilyOther}
	familyTitle = map[string]string{
		FamilyArgoCD:     "Argo CD",
		FamilyCrossplane: "Crossplane",
		FamilyWorkflows:  "Argo Workflows",
		FamilyMembers:    "Members",
		FamilyOther:      "Other",
	}
)

// Roles of a node besides a source.
const (
	// RoleRun is a past run from status.runs that is not itself a source: history, shown
	// under its schedule, never counted toward health.
	RoleRun = "run"
)

// Node is one source of the entity, or one of its past runs, with what it is made of.
type Node struct {
	ID                 string       `json:"id,omitempty"`
	APIVersion         string       `json:"apiVersion,omitempty"`
	Kind               string       `json:"kind"`
	Namespace          string       `json:"namespace,omitempty"`
	Name               string       `json:"name"`
	Family             string       `json:"family"`
	Role               string       `json:"role,omitempty"`
	Cluster            string       `json:"cluster,omitempty"`
	Health             string       `json:"health,omitempty"`
	Sync               string       `json:"sync,omitempty"`
	Phase              string       `json:"phase,omitempty"`
	Ready              string       `json:"ready,omitempty"`
	Message            string       `json:"message,omitempty"`
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`
	StartedAt          *metav1.Time `json:"startedAt,omitempty"`
	FinishedAt         *metav1.Time `json:"finishedAt,omitempty"`
	// Live is what the object says now, read with --live.
	Live     *Live   `json:"live,omitempty"`
	Children []*Node `json:"children,omitempty"`

	key   string // group/Kind/namespace/name, whatever status did to the id
	order int    // position in status, which lists sources worst first
}

// Live is what a source object says now, read from the cluster and mapped the way the
// manager maps it, beside what the entity's status says.
type Live struct {
	Health  string `json:"health,omitempty"`
	Sync    string `json:"sync,omitempty"`
	Phase   string `json:"phase,omitempty"`
	Message string `json:"message,omitempty"`
	// Error says why the object could not be read: not found, forbidden, …
	Error string `json:"error,omitempty"`
}

// objectKey is how a source is found again: by group, kind, namespace and name.
func objectKey(group, kind, namespace, name string) string {
	return group + "/" + kind + "/" + namespace + "/" + name
}

// groupOf returns the group of an apiVersion, "" for the core group or one that does
// not parse.
func groupOf(apiVersion string) string {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return ""
	}
	return gv.Group
}

// Links are parent links known from outside status: child key → parent key (from the
// objects' own references, read with --live), and the keys of kinds known to be
// Crossplane's (by their CRD categories).
type Links struct {
	Parent     map[string]string
	Crossplane map[string]bool
}

// Build arranges an entity's sources and runs into trees, each root with its family;
// links, when known, override what status alone suggests.
func Build(st *catalogv1alpha1.CatalogEntityStatus, links Links) []*Node {
	nodes := make([]*Node, 0, len(st.Sources)+len(st.Runs))
	byKey := map[string]*Node{}
	for i, s := range st.Sources {
		n := &Node{
			ID: s.ID, APIVersion: s.APIVersion, Kind: s.Kind, Namespace: s.Namespace, Name: s.Name,
			Cluster: s.Cluster, Health: string(s.Health), Sync: string(s.Sync), Phase: s.Phase, Ready: s.Ready,
			Message: s.Message, LastTransitionTime: s.LastTransitionTime,
			key: objectKey(groupOf(s.APIVersion), s.Kind, s.Namespace, s.Name), order: i,
		}
		if _, dup := byKey[n.key]; dup {
			n.key = s.ID // ids are unique even where status cut names
		}
		byKey[n.key] = n
		nodes = append(nodes, n)
	}
	nodes = addRuns(nodes, byKey, st.Runs)
	for _, n := range nodes {
		n.Family = family(n, links)
	}
	parent := parents(nodes, byKey, links)
	var roots []*Node
	for _, n := range nodes {
		if p := parent[n]; p != nil {
			p.Children = append(p.Children, n)
			continue
		}
		roots = append(roots, n)
	}
	for _, r := range roots {
		if r.Family == FamilyOther && anyCrossplane(r.Children) {
			r.Family = FamilyCrossplane
		}
		settle(r, r.Family)
	}
	sortNodes(roots)
	return roots
}

// settle sorts what n is made of and gives the parts of a Crossplane tree its family.
func settle(n *Node, fam string) {
	sortNodes(n.Children)
	for _, c := range n.Children {
		if fam == FamilyCrossplane {
			c.Family = fam
		}
		settle(c, fam)
	}
}

func anyCrossplane(nodes []*Node) bool {
	for _, n := range nodes {
		if n.Family == FamilyCrossplane || anyCrossplane(n.Children) {
			return true
		}
	}
	return false
}

// addRuns adds the runs of status.runs that are not sources themselves, as history; a
// run that is a source gets its times.
func addRuns(nodes []*Node, byKey map[string]*Node, runs []catalogv1alpha1.RunStatus) []*Node {
	for i, r := range runs {
		key := objectKey("argoproj.io", "Workflow", r.Namespace, r.Name)
		if n, ok := byKey[key]; ok {
			n.StartedAt, n.FinishedAt = r.StartedAt, r.FinishedAt
			continue
		}
		n := &Node{
			APIVersion: "argoproj.io/v1alpha1", Kind: "Workflow", Namespace: r.Namespace, Name: r.Name,
			Role: RoleRun, Health: string(runHealth(r.Phase)), Phase: r.Phase,
			StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
			key: key, order: len(byKey) + i,
		}
		byKey[key] = n
		nodes = append(nodes, n)
	}
	return nodes
}

// runHealth is the health of a past run by its phase, as the manager maps a Workflow.
func runHealth(phase string) catalogv1alpha1.Health {
	switch phase {
	case "Succeeded":
		return catalogv1alpha1.HealthHealthy
	case "Failed", "Error":
		return catalogv1alpha1.HealthDegraded
	case "Pending", "Running":
		return catalogv1alpha1.HealthProgressing
	}
	return catalogv1alpha1.HealthUnknown
}

// family says which tool a source belongs to, from its kind, what --live found of its
// CRD, and its status entry: only claims and composites report ready parts.
func family(n *Node, links Links) string {
	group := groupOf(n.APIVersion)
	switch {
	case group == "argoproj.io" && (n.Kind == "Application" || n.Kind == "ApplicationSet"):
		return FamilyArgoCD
	case group == "argoproj.io" && (n.Kind == "Workflow" || n.Kind == "CronWorkflow"):
		return FamilyWorkflows
	case group == catalogv1alpha1.Group && n.Kind == "CatalogEntity":
		return FamilyMembers
	case links.Crossplane[n.key], n.Ready != "",
		strings.HasSuffix(group, ".crossplane.io"), strings.HasSuffix(group, ".upbound.io"):
		return FamilyCrossplane
	}
	return FamilyOther
}

// parents finds each node's parent: the links given, else the name and message rules of
// the package comment. Argo CD Applications and member entities have none.
func parents(nodes []*Node, byKey map[string]*Node, links Links) map[*Node]*Node {
	parent := map[*Node]*Node{}
	for _, n := range nodes {
		if p, ok := byKey[links.Parent[n.key]]; ok && p != n {
			parent[n] = p
		}
	}
	byName(nodes, parent)
	byMessage(nodes, parent)
	return parent
}

// byName places each node not yet placed under the whole with the longest name that
// its own name extends. Shorter names go first, so that a composite is placed under its
// claim before its resources are placed under it: a part of a tree can be a whole too.
func byName(nodes []*Node, parent map[*Node]*Node) {
	byLength := slices.Clone(nodes)
	slices.SortStableFunc(byLength, func(a, b *Node) int { return cmp.Compare(len(a.Name), len(b.Name)) })
	inTree := map[*Node]bool{}
	for _, n := range byLength {
		if parent[n] != nil {
			inTree[n] = true
			continue
		}
		if n.Family == FamilyArgoCD || n.Family == FamilyMembers {
			continue
		}
		var best *Node
		for _, p := range byLength {
			if p != n && wholeOf(p, n, inTree[p]) && (best == nil || len(p.Name) > len(best.Name)) {
				best = p
			}
		}
		if best != nil {
			parent[n] = best
			inTree[n] = true
		}
	}
}

// byMessage places a part no name rule placed under the deepest whole whose message
// names it ("<Kind> <name> is …", as the manager words a tree's failing part).
func byMessage(nodes []*Node, parent map[*Node]*Node) {
	for _, n := range nodes {
		if parent[n] != nil || n.Family != FamilyCrossplane && n.Family != FamilyOther {
			continue
		}
		var best *Node
		for _, p := range nodes {
			if p == n || p.Ready == "" || !strings.Contains(p.Message, n.Kind+" "+n.Name+" is ") || below(parent, p, n) {
				continue
			}
			if best == nil || depth(parent, p) > depth(parent, best) {
				best = p
			}
		}
		if best != nil {
			parent[n] = best
		}
	}
}

// wholeOf reports whether, by name, p is what n is a part or a run of: a claim or
// composite (it reports ready parts, or is itself part of one) whose name n's extends,
// or a schedule whose runs are named after it.
func wholeOf(p, n *Node, pInTree bool) bool {
	if !strings.HasPrefix(n.Name, p.Name+"-") {
		return false
	}
	switch {
	case p.Family == FamilyWorkflows:
		return p.Kind == "CronWorkflow" && n.Kind == "Workflow" && p.Namespace == n.Namespace
	case p.Ready != "" || pInTree:
		// A namespaced whole has parts in its namespace or cluster-scoped ones.
		return n.Family != FamilyWorkflows && p.Family != FamilyArgoCD && p.Family != FamilyMembers &&
			(n.Namespace == "" || n.Namespace == p.Namespace)
	}
	return false
}

// below reports whether p is n or under n.
func below(parent map[*Node]*Node, p, n *Node) bool {
	for at := p; at != nil; at = parent[at] {
		if at == n {
			return true
		}
	}
	return false
}

func depth(parent map[*Node]*Node, n *Node) int {
	d := 0
	for at := parent[n]; at != nil && d < 64; at = parent[at] {
		d++
	}
	return d
}

// sortNodes orders siblings worst first, then in status order (worst first too, then by
// id); past runs come after sources, newest first, as status.runs lists them.
func sortNodes(nodes []*Node) {
	slices.SortStableFunc(nodes, func(a, b *Node) int {
		if c := cmp.Compare(boolInt(a.Role == RoleRun), boolInt(b.Role == RoleRun)); c != 0 {
			return c
		}
		if a.Role != RoleRun {
			if c := cmp.Compare(rank(b.Health), rank(a.Health)); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.order, b.order)
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rank orders health words best to worst; an empty word (no status yet) is Unknown.
func rank(h string) int { return entitystatus.Rank(catalogv1alpha1.Health(h)) }

// worst is the worst health of nodes and everything under them, and how many of the
// sources among them are Healthy.
func worst(nodes []*Node) (health string, healthy, total int) {
	for _, n := range nodes {
		if n.Role != RoleRun {
			total++
			if n.Health == string(catalogv1alpha1.HealthHealthy) {
				healthy++
			}
			if health == "" || rank(n.Health) > rank(health) {
				health = n.Health
			}
		}
		h, ok, all := worst(n.Children)
		healthy += ok
		total += all
		if h != "" && (health == "" || rank(h) > rank(health)) {
			health = h
		}
	}
	return health, healthy, total
}

// Group is the roots of one family, for the table's headings.
type Group struct {
	Family string
	Title  string
	Health string
	Ready  string
	Nodes  []*Node
}

// Groups splits roots by family, worst family first, then in familyOrder.
func Groups(roots []*Node) []Group {
	var groups []Group
	for _, f := range familyOrder {
		var g []*Node
		for _, n := range roots {
			if n.Family == f {
				g = append(g, n)
			}
		}
		if len(g) == 0 {
			continue
		}
		h, healthy, total := worst(g)
		groups = append(groups, Group{Family: f, Title: familyTitle[f], Health: h, Ready: readyOf(healthy, total), Nodes: g})
	}
	slices.SortStableFunc(groups, func(a, b Group) int { return cmp.Compare(rank(b.Health), rank(a.Health)) })
	return groups
}

func readyOf(healthy, total int) string {
	if total == 0 {
		return ""
	}
	return strconv.Itoa(healthy) + "/" + strconv.Itoa(total)
}
