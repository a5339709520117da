// Package fields reads the fields of unstructured objects for the mappers under
// controllers/sources. The mappers read other projects' objects without those
// projects' Go types, so a field can hold anything an author wrote; they must report
// the first field that is not what its controller writes, in words a YAML author
// understands ("status.health.status is a number, not a string"), and they must say
// it alike, whichever project the object comes from. Keeping the reading and the
// wording here, once, is what keeps the mappers' messages in step.
package fields

import (
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"reflect"
	"strings"
	"time"
)

// Reader reads fields of an unstructured object and remembers the first one that is
// not what the object's controller writes, so that a mapping reads straight through
// and says at the end what was wrong, instead of checking an error after every field.
// A missing or null field is never a problem: controllers omit empty fields.
//
// Every method that reads one field returns the value and ok, which is false when the field is
// missing, null or of the wrong kind; the value is then the zero value, so a caller
// that only wants the problem reported can ignore ok.
//
// The zero Reader is ready to use and reads leniently (see AsMap); set JSONOnly for a
// reader that takes only what a JSON decoder produces.
type Reader struct {
	// JSONOnly makes the reader accept only the Go types a JSON decoder produces
	// (map[string]any, []any, string, bool, and for numbers float64, float32, int64,
	// int, int32 or json.Number) and name anything else by its Go type, such as "a
	// map[string]string". It is for mappers whose objects only ever come from the API
	// server or the informer cache, whose deep copy panics on other types anyway: for
	// them another type means the object is not what it seems, and they say exactly
	// what it is rather than read it. Without JSONOnly, maps with string keys, slices,
	// named string or boolean types and numbers of any Go type are read too (see AsMap,
	// AsList, AsString, Integer), because objects built in code carry them.
	JSONOnly bool

	problem string
}

// Problem returns the first problem recorded, or "" when every field read so far was
// what it should be.
func (r *Reader) Problem() string {
	return r.problem
}

// Fail records problem unless an earlier one was: the first problem is the one
// reported, because the fields read after a malformed one are often malformed only
// because of it, and one clear message is what a person can act on.
func (r *Reader) Fail(problem string) {
	if r.problem == "" {
		r.problem = problem
	}
}

// FailKind records, as Fail does, that the field at path holds got where want (with
// its article, e.g. "a string") was expected: "<path> is <kind of got>, not <want>".
// The kind is named by KindOf as this reader takes values (Lenient, or StrictJSON with
// JSONOnly), so that a message never says that a value is not what it was accepted as.
func (r *Reader) FailKind(path string, got any, want string) {
	if r.problem == "" {
		r.Fail(path + " is " + r.kindOf(got) + ", not " + want)
	}
}

// Object returns the object at m[key]; ok is false when it is missing, null or not an
// object (which is a problem). m may be nil, so that a chain of reads needs no checks.
func (r *Reader) Object(m map[string]any, key, path string) (map[string]any, bool) {
	return r.ObjectValue(m[key], path)
}

// ObjectValue is Object for a value already in hand, such as an entry of a list or
// of a map of objects; path names where v was found.
func (r *Reader) ObjectValue(v any, path string) (map[string]any, bool) {
	if v == nil {
		return nil, false
	}
	var o map[string]any
	var ok bool
	if r.JSONOnly {
		o, ok = v.(map[string]any)
	} else {
		o, ok = AsMap(v)
	}
	if !ok {
		r.FailKind(path, v, "an object")
	}
	return o, ok
}

// List returns the list at m[key]; ok is false when it is missing, null or not a list
// (which is a problem).
func (r *Reader) List(m map[string]any, key, path string) ([]any, bool) {
	v := m[key]
	if v == nil {
		return nil, false
	}
	var l []any
	var ok bool
	if r.JSONOnly {
		l, ok = v.([]any)
	} else {
		l, ok = AsList(v)
	}
	if !ok {
		r.FailKind(path, v, "a list")
	}
	return l, ok
}

// Objects iterates over the list at m[key] as List reads it, yielding each entry's
// path ("<path>[<index>]") and the entry as an object. Null entries are skipped, as
// the API server's decoder would skip them. An entry that is not an object is a
// problem, and the iteration stops at it; it also stops before any entry once the
// reader has a problem, since what is read after one is not used. A caller that
// collects the entries should therefore drop what it collected when Problem is set
// after the loop.
func (r *Reader) Objects(m map[string]any, key, path string) iter.Seq2[string, map[string]any] {
	return func(yield func(string, map[string]any) bool) {
		list, _ := r.List(m, key, path)
		for i, v := range list {
			if r.problem != "" {
				return
			}
			if v == nil {
				continue
			}
			entryPath := fmt.Sprintf("%s[%d]", path, i)
			o, ok := r.ObjectValue(v, entryPath)
			if !ok || !yield(entryPath, o) {
				return
			}
		}
	}
}

// Condition is a status condition as the mappers read it: the fields a mapper uses, each
// as written, "" when missing. Argo CD, Argo Workflows and Kubernetes write these alike.
type Condition struct {
	// Type, such as Ready or SyncError, is what a condition is looked up by.
	Type string
	// Status is "True", "False" or "Unknown" where the kind writes one.
	Status string
	// Reason is a CamelCase word for why, where the kind writes one and the caller
	// reads it (see Reader.Conditions).
	Reason string
	// Message says why in words.
	Message string
}

// Summary is "<type>: <message>", or the type alone when the condition has no message:
// how a message names the condition that decided it.
func (c Condition) Summary() string {
	if c.Message == "" {
		return c.Type
	}
	return c.Type + ": " + c.Message
}

// FirstTrue returns the first of conds of type typ whose status is "True".
func FirstTrue(conds []Condition, typ string) (Condition, bool) {
	for _, c := range conds {
		if c.Type == typ && c.Status == "True" {
			return c, true
		}
	}
	return Condition{}, false
}

// Conditions reads status.conditions, the list at status["conditions"], skipping null
// entries as the API server's decoder would. Of each entry it reads type, status and
// message, and reason when withReason is set: only what the caller uses, so that a
// field it never looks at cannot make an object Unknown. A field that is not a string
// is a problem, and then Conditions returns nil.
func (r *Reader) Conditions(status map[string]any, withReason bool) []Condition {
	var out []Condition
	for path, m := range r.Objects(status, "conditions", "status.conditions") {
		var c Condition
		c.Type, _ = r.Str(m, "type", path+".type")
		c.Status, _ = r.Str(m, "status", path+".status")
		if withReason {
			c.Reason, _ = r.Str(m, "reason", path+".reason")
		}
		c.Message, _ = r.Str(m, "message", path+".message")
		out = append(out, c)
	}
	if r.problem != "" {
		return nil
	}
	return out
}

// Str returns the string at m[key]; ok is false when it is missing, null or not a
// string (which is a problem).
func (r *Reader) Str(m map[string]any, key, path string) (string, bool) {
	return r.StrValue(m[key], path)
}

// StrValue is Str for a value already in hand, such as an entry of a list; path names
// where v was found.
func (r *Reader) StrValue(v any, path string) (string, bool) {
	if v == nil {
		return "", false
	}
	var s string
	var ok bool
	if r.JSONOnly {
		s, ok = v.(string)
	} else {
		s, ok = AsString(v)
	}
	if !ok {
		r.FailKind(path, v, "a string")
	}
	return s, ok
}

// Boolean returns the boolean at m[key]; ok is false when it is missing, null or not a
// boolean (which is a problem). A string "true" is not a boolean: the API server would
// have rejected it under the kind's schema, so it says the object is not what it
// seems.
func (r *Reader) Boolean(m map[string]any, key, path string) (bool, bool) {
	v := m[key]
	if v == nil {
		return false, false
	}
	if r.JSONOnly {
		b, ok := v.(bool)
		if !ok {
			r.FailKind(path, v, "a boolean")
		}
		return b, ok
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Bool {
		r.FailKind(path, v, "a boolean")
		return false, false
	}
	return rv.Bool(), true
}

// Integer returns the whole number at m[key], such as a generation; ok is false when
// it is missing, null or not a whole number that fits an int64 (which is a problem).
// Numbers arrive as int64 from a client, as float64 from encoding/json and as
// json.Number from decoders that keep numbers as written; all are read, including
// 5.0 and 5e2, so that the answer does not depend on the decoder. Without JSONOnly,
// numbers of any other Go integer or float type are read too.
func (r *Reader) Integer(m map[string]any, key, path string) (int64, bool) {
	v := m[key]
	if v == nil {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		return r.whole(n, path)
	case float32:
		return r.whole(float64(n), path)
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		if f, err := n.Float64(); err == nil {
			return r.whole(f, path) // 5.0, 5e2
		}
		r.Fail(fmt.Sprintf("%s is %s, not a whole number", path, Printable(n.String())))
		return 0, false
	}
	if !r.JSONOnly {
		// What KindOf calls a number must be read as one, or the message would say
		// that a number is not a number.
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return rv.Int(), true
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if u := rv.Uint(); u <= math.MaxInt64 {
				return int64(u), true
			}
			r.Fail(fmt.Sprintf("%s is %d, not a whole number", path, rv.Uint()))
			return 0, false
		case reflect.Float32, reflect.Float64:
			return r.whole(rv.Float(), path)
		}
	}
	r.FailKind(path, v, "a number")
	return 0, false
}

// whole returns n as an int64 when it is a whole number in range; otherwise it records
// a problem and returns 0 and false.
func (r *Reader) whole(n float64, path string) (int64, bool) {
	// The range check keeps the conversion defined; 2^63 itself is out of range.
	if n == math.Trunc(n) && n >= math.MinInt64 && n < math.MaxInt64 {
		return int64(n), true
	}
	r.Fail(fmt.Sprintf("%s is %v, not a whole number", path, n))
	return 0, false
}

// kindOf names the kind of v as this reader's methods see it.
func (r *Reader) kindOf(v any) string {
	if r.JSONOnly {
		return KindOf(v, StrictJSON)
	}
	return KindOf(v, Lenient)
}

// AsMap returns v as an object. Objects decoded from the API server are always
// map[string]any; other maps with string keys come from objects built in code, and
// are read rather than rejected, without modifying them: the copy it makes of such a
// map is new, and the map[string]any it returns as is must not be written to.
func AsMap(v any) (map[string]any, bool) {
	if m, ok := v.(map[string]any); ok {
		return m, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		out[it.Key().String()] = it.Value().Interface()
	}
	return out, true
}

// AsList returns v as a list; like AsMap it also reads lists built in code, such as
// []string, by copying them.
func AsList(v any) ([]any, bool) {
	if l, ok := v.([]any); ok {
		return l, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// AsString returns v as a string, including strings of named types, which objects
// built in code carry; a json.Number is a number, although Go stores it as a string,
// because that is what its author wrote.
func AsString(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case json.Number:
		return "", false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.String {
		return "", false
	}
	return rv.String(), true
}

// Decoding says which Go values stand for each JSON kind in the objects a reading
// takes, so that KindOf names a value's kind by the rule that refused it: a message
// never says that an object is not an object.
type Decoding int

const (
	// Lenient takes, besides what a JSON decoder produces, what objects built in code
	// carry: maps with string keys of any type, slices and arrays, named string and
	// boolean types, and numbers of any Go type; a json.Number is a number, because that
	// is what its author wrote. A Reader reads this way (see AsMap, AsList, AsString and
	// Integer).
	Lenient Decoding = iota
	// StrictJSON takes only the Go types a JSON decoder produces: map[string]any, []any,
	// string, bool, and float64, float32, int64, int, int32 or json.Number for numbers.
	// Anything else is named by its Go type. A Reader with JSONOnly set reads this way.
	StrictJSON
	// Converter takes what apimachinery's unstructured converter
	// (runtime.DefaultUnstructuredConverter) takes when it fills Go types from an
	// object, which goes by reflect.Kind: maps with string keys, slices (not arrays),
	// and strings of any named type, a json.Number among them.
	Converter
)

// KindOf names the kind of v as d takes it, the way a YAML or JSON author would, with an
// article: "an object", "a list", "a string", "a boolean", "a number", or "null" for
// nil. What d takes as none of these is named by its Go type, e.g. "a chan int" or,
// under StrictJSON, "a map[string]string". It is the one place the mappers' messages
// name a kind.
func KindOf(v any, d Decoding) string {
	if d == StrictJSON {
		switch v.(type) {
		case map[string]any:
			return "an object"
		case []any:
			return "a list"
		case string:
			return "a string"
		case bool:
			return "a boolean"
		case float64, float32, int64, int, int32, json.Number:
			return "a number"
		case nil:
			return "null"
		}
		return fmt.Sprintf("a %T", v)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		return "null"
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			return "an object"
		}
	case reflect.Slice:
		return "a list"
	case reflect.Array:
		if d == Lenient {
			return "a list"
		}
	case reflect.String:
		if _, isNumber := v.(json.Number); isNumber && d == Lenient {
			return "a number"
		}
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}

// FirstNonEmpty returns the first of ss that is not "", for a message taken from the
// first of several fields that says something.
func FirstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Join joins the two parts of a message with "; ", leaving out a part that is "", so
// that a message built from optional parts never starts, ends or doubles the
// separator.
func Join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// Printable replaces invalid UTF-8 in s with U+FFFD: an object built in code, unlike
// one read from the API server, can carry any bytes, and what a mapper returns ends up
// in a status field and in logs.
func Printable(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}

// Timestamp reads v as a Kubernetes timestamp (RFC 3339), in UTC so that times compare
// and print alike. set is false when v is missing or null; ok is false when it is set
// but not a valid time.
func Timestamp(v any) (t time.Time, set, ok bool) {
	if v == nil {
		return time.Time{}, false, false
	}
	s, isString := AsString(v)
	if !isString {
		return time.Time{}, true, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, true, false
	}
	return t.UTC(), true, true
}
