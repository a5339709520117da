package fields

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Named types such as objects built in code carry; a JSON decoder never produces them.
type (
	name   string
	flag   bool
	count  int
	labels map[string]string
	keyed  map[name]any
	texts  []string
)

func TestAsMap(t *testing.T) {
	decoded := map[string]any{"a": 1.0}
	tests := map[string]struct {
		in     any
		want   map[string]any
		wantOK bool
	}{
		"map[string]any":            {in: decoded, want: decoded, wantOK: true},
		"empty map[string]any":      {in: map[string]any{}, want: map[string]any{}, wantOK: true},
		"map[string]string":         {in: map[string]string{"a": "b"}, want: map[string]any{"a": "b"}, wantOK: true},
		"named map type":            {in: labels{"app": "web"}, want: map[string]any{"app": "web"}, wantOK: true},
		"named key type":            {in: keyed{"k": true}, want: map[string]any{"k": true}, wantOK: true},
		"nil map[string]string":     {in: map[string]string(nil), want: map[string]any{}, wantOK: true},
		"map with int keys":         {in: map[int]any{1: "x"}},
		"nil":                       {in: nil},
		"list":                      {in: []any{"a"}},
		"string":                    {in: "a"},
		"json.Number":               {in: json.Number("1")},
		"struct":                    {in: struct{ A int }{1}},
		"pointer to map[string]any": {in: &decoded},
	}
	for desc, tt := range tests {
		t.Run(desc, func(t *testing.T) {
			got, ok := AsMap(tt.in)
			if ok != tt.wantOK {
				t.Fatalf("AsMap(%#v) ok = %v, want %v", tt.in, ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("AsMap(%#v) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestAsMapDoesNotCopyDecodedObjects(t *testing.T) {
	// A decoded object is returned as is: copying every object read from the cache
	// would cost as much as the cache itself.
	in := map[string]any{"a": "b"}
	got, _ := AsMap(in)
	got["c"] = "d"
	if _, ok := in["c"]; !ok {
		t.Error("AsMap copied a map[string]any")
	}
}

func TestAsList(t *testing.T) {
	tests := map[string]struct {
		in     any
		want   []any
		wantOK bool
	}{
		"[]any":           {in: []any{"a", nil, 1.0}, want: []any{"a", nil, 1.0}, wantOK: true},
		"empty []any":     {in: []any{}, want: []any{}, wantOK: true},
		"[]string":        {in: []string{"a", "b"}, want: []any{"a", "b"}, wantOK: true},
		"named list type": {in: texts{"x"}, want: []any{"x"}, wantOK: true},
		"array":           {in: [2]int{1, 2}, want: []any{1, 2}, wantOK: true},
		"[]byte":          {in: []byte("ab"), want: []any{byte('a'), byte('b')}, wantOK: true},
		"nil":             {in: nil},
		"object":          {in: map[string]any{}},
		"string":          {in: "a,b"},
		"json.Number":     {in: json.Number("1")},
	}
	for desc, tt := range tests {
		t.Run(desc, func(t *testing.T) {
			got, ok := AsList(tt.in)
			if ok != tt.wantOK {
				t.Fatalf("AsList(%#v) ok = %v, want %v", tt.in, ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("AsList(%#v) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestAsString(t *testing.T) {
	tests := map[string]struct {
		in     any
		want   string
		wantOK bool
	}{
		"string":            {in: "Healthy", want: "Healthy", wantOK: true},
		"empty string":      {in: "", want: "", wantOK: true},
		"named string type": {in: name("Synced"), want: "Synced", wantOK: true},
		"invalid UTF-8":     {in: "a\xffb", want: "a\xffb", wantOK: true},
		"json.Number":       {in: json.Number("3")},
		"nil":               {in: nil},
		"number":            {in: 3.0},
		"boolean":           {in: true},
		"[]byte":            {in: []byte("a")},
		"list":              {in: []any{"a"}},
		"object":            {in: map[string]any{}},
	}
	for desc, tt := range tests {
		t.Run(desc, func(t *testing.T) {
			got, ok := AsString(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("AsString(%#v) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		in                       any
		lenient, strict, convert string // as Lenient, StrictJSON and Converter name it
	}{
		{in: nil, lenient: "null", strict: "null", convert: "null"},
		{in: map[string]any{}, lenient: "an object", strict: "an object", convert: "an object"},
		{in: map[string]string{}, lenient: "an object", strict: "a map[string]string", convert: "an object"},
		{in: labels{}, lenient: "an object", strict: "a fields.labels", convert: "an object"},
		{in: map[int]any{}, lenient: "a map[int]interface {}", strict: "a map[int]interface {}", convert: "a map[int]interface {}"},
		{in: []any{}, lenient: "a list", strict: "a list", convert: "a list"},
		{in: []string{}, lenient: "a list", strict: "a []string", convert: "a list"},
		{in: [2]int{}, lenient: "a list", strict: "a [2]int", convert: "a [2]int"},
		{in: "x", lenient: "a string", strict: "a string", convert: "a string"},
		{in: name("x"), lenient: "a string", strict: "a fields.name", convert: "a string"},
		{in: json.Number("1"), lenient: "a number", strict: "a number", convert: "a string"},
		{in: json.Number("x"), lenient: "a number", strict: "a number", convert: "a string"},
		{in: true, lenient: "a boolean", strict: "a boolean", convert: "a boolean"},
		{in: flag(false), lenient: "a boolean", strict: "a fields.flag", convert: "a boolean"},
		{in: 1.5, lenient: "a number", strict: "a number", convert: "a number"},
		{in: float32(1), lenient: "a number", strict: "a number", convert: "a number"},
		{in: int64(1), lenient: "a number", strict: "a number", convert: "a number"},
		{in: 1, lenient: "a number", strict: "a number", convert: "a number"},
		{in: int32(1), lenient: "a number", strict: "a number", convert: "a number"},
		{in: int8(1), lenient: "a number", strict: "a int8", convert: "a number"},
		{in: uint(1), lenient: "a number", strict: "a uint", convert: "a number"},
		{in: count(1), lenient: "a number", strict: "a fields.count", convert: "a number"},
		{in: struct{}{}, lenient: "a struct {}", strict: "a struct {}", convert: "a struct {}"},
		{in: make(chan int), lenient: "a chan int", strict: "a chan int", convert: "a chan int"},
	}
	for _, tt := range tests {
		for d, want := range map[Decoding]string{Lenient: tt.lenient, StrictJSON: tt.strict, Converter: tt.convert} {
			if got := KindOf(tt.in, d); got != want {
				t.Errorf("KindOf(%#v, %d) = %q, want %q", tt.in, d, got, want)
			}
		}
		// Lenient names an object, a list or a string exactly what AsMap, AsList and
		// AsString read as one, so that a reader's message never contradicts itself.
		_, isMap := AsMap(tt.in)
		_, isList := AsList(tt.in)
		_, isString := AsString(tt.in)
		if got := KindOf(tt.in, Lenient); (got == "an object") != isMap || (got == "a list") != isList || (got == "a string") != isString {
			t.Errorf("KindOf(%#v, Lenient) = %q, but AsMap, AsList, AsString read it: %v, %v, %v", tt.in, got, isMap, isList, isString)
		}
	}
}

func TestJoin(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"", "", ""},
		{"a", "", "a"},
		{"", "b", "b"},
		{"a", "b", "a; b"},
		{"a; b", "c", "a; b; c"},
	}
	for _, tt := range tests {
		if got := Join(tt.a, tt.b); got != tt.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestFirstNonEmpty(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"", ""}, ""},
		{[]string{"a", "b"}, "a"},
		{[]string{"", "b", "c"}, "b"},
	}
	for _, tt := range tests {
		if got := FirstNonEmpty(tt.in...); got != tt.want {
			t.Errorf("FirstNonEmpty(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Healthy", "Healthy"},
		{"naïve ✓", "naïve ✓"},
		{"bad\xffbyte", "bad\uFFFDbyte"},
		// A run of invalid bytes is one replacement, as strings.ToValidUTF8 does.
		{"a\xff\xfe\xfdb", "a\uFFFDb"},
		{"\xed\xa0\x80", "\uFFFD"}, // a UTF-16 surrogate encoded as UTF-8
	}
	for _, tt := range tests {
		if got := Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReaderFirstProblemWins(t *testing.T) {
	obj := map[string]any{
		"status": map[string]any{
			"health":  map[string]any{"status": 3.0, "message": []any{"x"}},
			"sync":    "Synced",
			"missing": nil,
		},
	}
	r := &Reader{}
	if r.Problem() != "" {
		t.Fatalf("a new Reader has problem %q", r.Problem())
	}
	status, _ := r.Object(obj, "status", "status")
	_, _ = r.Object(status, "missing", "status.missing") // null is no problem
	_, _ = r.Str(status, "absent", "status.absent")      // nor is a missing field
	if r.Problem() != "" {
		t.Fatalf("missing and null fields made problem %q", r.Problem())
	}
	health, _ := r.Object(status, "health", "status.health")
	_, _ = r.Str(health, "status", "status.health.status")
	_, _ = r.Str(health, "message", "status.health.message")
	_, _ = r.Object(status, "sync", "status.sync")
	r.Fail("something else")
	r.FailKind("x", true, "a list")

	const want = "status.health.status is a number, not a string"
	if got := r.Problem(); got != want {
		t.Errorf("Problem() = %q, want the first one, %q", got, want)
	}
}

func TestReaderFail(t *testing.T) {
	r := &Reader{}
	r.Fail("first")
	r.Fail("second")
	if got := r.Problem(); got != "first" {
		t.Errorf("Problem() = %q, want %q", got, "first")
	}
}

// read is one read by a Reader, for the table of TestReaderReads.
type read func(r *Reader, m map[string]any) (any, bool)

func TestReaderReads(t *testing.T) {
	object := func(r *Reader, m map[string]any) (any, bool) { return r.Object(m, "f", "a.f") }
	list := func(r *Reader, m map[string]any) (any, bool) { return r.List(m, "f", "a.f") }
	str := func(r *Reader, m map[string]any) (any, bool) { return r.Str(m, "f", "a.f") }
	boolean := func(r *Reader, m map[string]any) (any, bool) { return r.Boolean(m, "f", "a.f") }
	integer := func(r *Reader, m map[string]any) (any, bool) { return r.Integer(m, "f", "a.f") }

	tests := map[string]struct {
		read     read
		jsonOnly bool
		in       any // m["f"]; absent when nil
		want     any
		wantOK   bool
		problem  string
	}{
		"object":                      {read: object, in: map[string]any{"a": "b"}, want: map[string]any{"a": "b"}, wantOK: true},
		"object missing":              {read: object, want: map[string]any(nil)},
		"object of a string":          {read: object, in: "x", want: map[string]any(nil), problem: "a.f is a string, not an object"},
		"object of map[string]string": {read: object, in: map[string]string{"a": "b"}, want: map[string]any{"a": "b"}, wantOK: true},
		"JSONOnly object of map[string]string": {read: object, jsonOnly: true, in: map[string]string{"a": "b"},
			want: map[string]any(nil), problem: "a.f is a map[string]string, not an object"},
		"list":                      {read: list, in: []any{"a"}, want: []any{"a"}, wantOK: true},
		"list missing":              {read: list, want: []any(nil)},
		"list of an object":         {read: list, in: map[string]any{}, want: []any(nil), problem: "a.f is an object, not a list"},
		"list of []string":          {read: list, in: []string{"a"}, want: []any{"a"}, wantOK: true},
		"JSONOnly list of []string": {read: list, jsonOnly: true, in: []string{"a"}, want: []any(nil), problem: "a.f is a []string, not a list"},
		"string":                    {read: str, in: "x", want: "x", wantOK: true},
		"string missing":            {read: str, want: ""},
		"string of a number":        {read: str, in: 3.0, want: "", problem: "a.f is a number, not a string"},
		"string of a json.Number":   {read: str, in: json.Number("3"), want: "", problem: "a.f is a number, not a string"},
		"string of a named type":    {read: str, in: name("x"), want: "x", wantOK: true},
		"JSONOnly string of a named type": {read: str, jsonOnly: true, in: name("x"), want: "",
			problem: "a.f is a fields.name, not a string"},
		"boolean":                          {read: boolean, in: true, want: true, wantOK: true},
		"boolean false":                    {read: boolean, in: false, want: false, wantOK: true},
		"boolean missing":                  {read: boolean, want: false},
		"boolean of a string":              {read: boolean, in: "true", want: false, problem: "a.f is a string, not a boolean"},
		"boolean of a named type":          {read: boolean, in: flag(true), want: true, wantOK: true},
		"JSONOnly boolean of a named type": {read: boolean, jsonOnly: true, in: flag(true), want: false, problem: "a.f is a fields.flag, not a boolean"},
		"integer int64":                    {read: integer, in: int64(-3), want: int64(-3), wantOK: true},
		"integer int":                      {read: integer, in: 4, want: int64(4), wantOK: true},
		"integer int32":                    {read: integer, in: int32(5), want: int64(5), wantOK: true},
		"integer float64":                  {read: integer, in: 6.0, want: int64(6), wantOK: true},
		"integer float32":                  {read: integer, in: float32(7), want: int64(7), wantOK: true},
		"integer json.Number":              {read: integer, in: json.Number("8"), want: int64(8), wantOK: true},
		"integer json.Number 2.0":          {read: integer, in: json.Number("2.0"), want: int64(2), wantOK: true},
		"integer json.Number 5e2":          {read: integer, in: json.Number("5e2"), want: int64(500), wantOK: true},
		"integer missing":                  {read: integer, want: int64(0)},
		"integer fraction":                 {read: integer, in: 2.5, want: int64(0), problem: "a.f is 2.5, not a whole number"},
		"integer out of range":             {read: integer, in: 1e19, want: int64(0), problem: "a.f is 1e+19, not a whole number"},
		"integer 2^63":                     {read: integer, in: math.Pow(2, 63), want: int64(0), problem: "a.f is 9.223372036854776e+18, not a whole number"},
		"integer json.Number too large":    {read: integer, in: json.Number("3e400"), want: int64(0), problem: "a.f is 3e400, not a whole number"},
		"integer json.Number invalid UTF-8": {read: integer, in: json.Number("\xff"), want: int64(0),
			problem: "a.f is \uFFFD, not a whole number"},
		"integer of a string":      {read: integer, in: "3", want: int64(0), problem: "a.f is a string, not a number"},
		"integer int8":             {read: integer, in: int8(-2), want: int64(-2), wantOK: true},
		"integer uint":             {read: integer, in: uint(9), want: int64(9), wantOK: true},
		"integer named int":        {read: integer, in: count(10), want: int64(10), wantOK: true},
		"integer uint64 too large": {read: integer, in: uint64(math.MaxUint64), want: int64(0), problem: "a.f is 18446744073709551615, not a whole number"},
		"JSONOnly integer int8":    {read: integer, jsonOnly: true, in: int8(-2), want: int64(0), problem: "a.f is a int8, not a number"},
		"JSONOnly integer float64": {read: integer, jsonOnly: true, in: 6.0, want: int64(6), wantOK: true},
	}
	for desc, tt := range tests {
		t.Run(desc, func(t *testing.T) {
			m := map[string]any{}
			if tt.in != nil {
				m["f"] = tt.in
			}
			r := &Reader{JSONOnly: tt.jsonOnly}
			got, ok := tt.read(r, m)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			if ok != tt.wantOK {
				t.Errorf("ok = %v, want %v", ok, tt.wantOK)
			}
			if r.Problem() != tt.problem {
				t.Errorf("Problem() = %q, want %q", r.Problem(), tt.problem)
			}
		})
	}
}

func TestReaderNilMap(t *testing.T) {
	// Reads chain through objects that are not there without checks in between.
	r := &Reader{}
	status, _ := r.Object(nil, "status", "status")
	health, _ := r.Object(status, "health", "status.health")
	if s, ok := r.Str(health, "status", "status.health.status"); s != "" || ok || r.Problem() != "" {
		t.Errorf("Str on a nil map = %q, %v with problem %q; want nothing", s, ok, r.Problem())
	}
}

func TestReaderValues(t *testing.T) {
	r := &Reader{}
	if o, ok := r.ObjectValue(map[string]string{"a": "b"}, "l[0]"); !ok || o["a"] != "b" {
		t.Errorf("ObjectValue(map[string]string) = %v, %v", o, ok)
	}
	if s, ok := r.StrValue(name("x"), "l[1]"); !ok || s != "x" {
		t.Errorf("StrValue(named string) = %q, %v", s, ok)
	}
	if _, ok := r.StrValue(nil, "l[2]"); ok || r.Problem() != "" {
		t.Errorf("StrValue(nil) = _, %v with problem %q; want no value and no problem", ok, r.Problem())
	}
	if _, ok := r.StrValue(1.0, "l[3]"); ok {
		t.Error("StrValue(1.0) is ok")
	}
	if _, ok := r.ObjectValue("x", "l[4]"); ok {
		t.Error(`ObjectValue("x") is ok`)
	}
	if want := "l[3] is a number, not a string"; r.Problem() != want {
		t.Errorf("Problem() = %q, want %q", r.Problem(), want)
	}
}

func TestReaderObjects(t *testing.T) {
	type entry struct {
		Path string
		Obj  map[string]any
	}
	tests := map[string]struct {
		list     any
		jsonOnly bool
		before   string // a problem the reader has before iterating
		stopAt   int    // stop after this many entries when > 0
		want     []entry
		problem  string
	}{
		"missing": {},
		"entries, skipping nulls": {
			list: []any{map[string]any{"type": "A"}, nil, map[string]any{"type": "B"}},
			want: []entry{{"status.conditions[0]", map[string]any{"type": "A"}}, {"status.conditions[2]", map[string]any{"type": "B"}}},
		},
		"stops at an entry that is not an object": {
			list:    []any{map[string]any{"type": "A"}, "B", map[string]any{"type": "C"}},
			want:    []entry{{"status.conditions[0]", map[string]any{"type": "A"}}},
			problem: "status.conditions[1] is a string, not an object",
		},
		"entries built in code": {
			list: []map[string]string{{"type": "A"}},
			want: []entry{{"status.conditions[0]", map[string]any{"type": "A"}}},
		},
		"JSONOnly rejects entries built in code": {
			list:     []any{map[string]string{"type": "A"}},
			jsonOnly: true,
			problem:  "status.conditions[0] is a map[string]string, not an object",
		},
		"not a list": {
			list:    map[string]any{"type": "A"},
			problem: "status.conditions is an object, not a list",
		},
		"an earlier problem stops it": {
			list:    []any{map[string]any{"type": "A"}},
			before:  "status.health is a string, not an object",
			problem: "status.health is a string, not an object",
		},
		"the caller stops it": {
			list:   []any{map[string]any{"type": "A"}, map[string]any{"type": "B"}},
			stopAt: 1,
			want:   []entry{{"status.conditions[0]", map[string]any{"type": "A"}}},
		},
	}
	for desc, tt := range tests {
		t.Run(desc, func(t *testing.T) {
			status := map[string]any{}
			if tt.list != nil {
				status["conditions"] = tt.list
			}
			r := &Reader{JSONOnly: tt.jsonOnly}
			r.Fail(tt.before)
			var got []entry
			for path, obj := range r.Objects(status, "conditions", "status.conditions") {
				got = append(got, entry{path, obj})
				if len(got) == tt.stopAt {
					break
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if r.Problem() != tt.problem {
				t.Errorf("Problem() = %q, want %q", r.Problem(), tt.problem)
			}
		})
	}
}

func TestReaderObjectsStopsAtAProblemInAnEntry(t *testing.T) {
	// What is read after a problem is not used, so entries after the one whose
	// fields are wrong are not visited.
	status := map[string]any{"conditions": []any{
		map[string]any{"type": 1.0},
		"not an object",
	}}
	r := &Reader{}
	visited := 0
	for path, c := range r.Objects(status, "conditions", "status.conditions") {
		visited++
		_, _ = r.Str(c, "type", path+".type")
	}
	if visited != 1 {
		t.Errorf("visited %d entries, want 1", visited)
	}
	if want := "status.conditions[0].type is a number, not a string"; r.Problem() != want {
		t.Errorf("Problem() = %q, want %q", r.Problem(), want)
	}
}

func TestConditions(t *testing.T) {
	status := func(conds any) map[string]any { return map[string]any{"conditions": conds} }
	tests := map[string]struct {
		status     map[string]any
		withReason bool
		want       []Condition
		problem    string
	}{
		"no status":     {status: nil},
		"no conditions": {status: map[string]any{}},
		"every field, null entries skipped": {
			status:     status([]any{nil, map[string]any{"type": "Ready", "status": "True", "reason": "Available", "message": "up", "lastTransitionTime": "x"}}),
			withReason: true,
			want:       []Condition{{Type: "Ready", Status: "True", Reason: "Available", Message: "up"}},
		},
		"reason left unread, however it is written": {
			status: status([]any{map[string]any{"type": "SpecError", "status": "True", "reason": 7}}),
			want:   []Condition{{Type: "SpecError", Status: "True"}},
		},
		"reason read": {
			status:     status([]any{map[string]any{"type": "SpecError", "status": "True", "reason": 7}}),
			withReason: true,
			problem:    "status.conditions[0].reason is a number, not a string",
		},
		"not a list": {
			status:  status("Ready"),
			problem: "status.conditions is a string, not a list",
		},
		"an entry not an object": {
			status:  status([]any{map[string]any{"type": "Ready"}, true}),
			problem: "status.conditions[1] is a boolean, not an object",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := &Reader{}
			got := r.Conditions(tc.status, tc.withReason)
			if diff := cmp.Diff(tc.want, got); diff != "" || r.Problem() != tc.problem {
				t.Errorf("Conditions() problem %q, want %q; mismatch (-want +got):\n%s", r.Problem(), tc.problem, diff)
			}
		})
	}
}

func TestFirstTrueAndSummary(t *testing.T) {
	conds := []Condition{
		{Type: "SubmissionError", Status: "False", Message: "old"},
		{Type: "SpecError", Status: "True"},
		{Type: "SubmissionError", Status: "True", Message: "quota exceeded"},
		{Type: "SubmissionError", Status: "True", Message: "later"},
	}
	if c, ok := FirstTrue(conds, "SubmissionError"); !ok || c.Summary() != "SubmissionError: quota exceeded" {
		t.Errorf("FirstTrue(SubmissionError) = %+v, %v; want the first True one, summed up with its message", c, ok)
	}
	if c, ok := FirstTrue(conds, "SpecError"); !ok || c.Summary() != "SpecError" {
		t.Errorf("FirstTrue(SpecError) = %+v, %v; want it, summed up by its type alone", c, ok)
	}
	if c, ok := FirstTrue(conds, "Ready"); ok {
		t.Errorf("FirstTrue(Ready) = %+v, want none", c)
	}
}
