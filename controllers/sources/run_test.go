package sources

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// newestOfEachGroup keeps, of runs, the one of each Group that is Newer than the others.
func newestOfEachGroup(runs []Run) map[string]Run {
	out := make(map[string]Run, len(runs))
	for _, run := range runs {
		if cur, ok := out[run.Group]; !ok || run.Newer(cur) {
			out[run.Group] = run
		}
	}
	return out
}

// orders returns every rotation of runs, each also reversed: enough orders to show
// that an answer does not depend on the one runs come in.
func orders(runs []Run) [][]Run {
	var out [][]Run
	for i := 0; i < len(runs)+1; i++ {
		rotated := append(append([]Run(nil), runs[min(i, len(runs)):]...), runs[:min(i, len(runs))]...)
		reversed := slices.Clone(rotated)
		slices.Reverse(reversed)
		out = append(out, rotated, reversed)
	}
	return out
}

func TestRunNewer(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 2, 0, 0, 0, time.UTC) }
	cron := func(name string, created time.Time, phase string) Run {
		return Run{Name: name, Namespace: "payments-prod", Phase: phase, Group: "cron:payments-prod/nightly-report", Created: created}
	}
	tests := map[string]struct {
		runs []Run
		want map[string]Run
	}{
		"no runs": {
			runs: nil,
			want: map[string]Run{},
		},
		"a failed run is forgotten once a newer one succeeds": {
			runs: []Run{
				cron("nightly-report-1794967200", day(18), "Failed"),
				cron("nightly-report-1795140000", day(20), "Succeeded"),
				cron("nightly-report-1795053600", day(19), "Succeeded"),
			},
			want: map[string]Run{"cron:payments-prod/nightly-report": cron("nightly-report-1795140000", day(20), "Succeeded")},
		},
		"a newer failed run counts over an older success": {
			runs: []Run{
				cron("nightly-report-1795140000", day(20), "Failed"),
				cron("nightly-report-1795053600", day(19), "Succeeded"),
			},
			want: map[string]Run{"cron:payments-prod/nightly-report": cron("nightly-report-1795140000", day(20), "Failed")},
		},
		"each group keeps its own newest": {
			runs: []Run{
				cron("nightly-report-1795053600", day(19), "Succeeded"),
				{Name: "ci-payments-x7k2p", Namespace: "payments-ci", Phase: "Failed", Group: "template:payments-ci/ci-payments", Created: day(20)},
				{Name: "ci-payments-b2c3d", Namespace: "payments-ci", Phase: "Succeeded", Group: "template:payments-ci/ci-payments", Created: day(18)},
				{Name: "nightly-report-1795140000", Namespace: "payments-staging", Phase: "Running", Group: "cron:payments-staging/nightly-report", Created: day(20)},
			},
			want: map[string]Run{
				"cron:payments-prod/nightly-report":    cron("nightly-report-1795053600", day(19), "Succeeded"),
				"template:payments-ci/ci-payments":     {Name: "ci-payments-x7k2p", Namespace: "payments-ci", Phase: "Failed", Group: "template:payments-ci/ci-payments", Created: day(20)},
				"cron:payments-staging/nightly-report": {Name: "nightly-report-1795140000", Namespace: "payments-staging", Phase: "Running", Group: "cron:payments-staging/nightly-report", Created: day(20)},
			},
		},
		"created in the same second: the later name wins": {
			runs: []Run{
				cron("nightly-report-1795140060", day(20), "Running"),
				cron("nightly-report-1795140000", day(20), "Failed"),
			},
			want: map[string]Run{"cron:payments-prod/nightly-report": cron("nightly-report-1795140060", day(20), "Running")},
		},
		"a run without a creation time is older than any with one": {
			runs: []Run{
				cron("nightly-report-9999999999", time.Time{}, "Running"),
				cron("nightly-report-1794967200", day(18), "Failed"),
			},
			want: map[string]Run{"cron:payments-prod/nightly-report": cron("nightly-report-1794967200", day(18), "Failed")},
		},
		"runs without creation times: the later name wins": {
			runs: []Run{
				cron("nightly-report-b", time.Time{}, "Succeeded"),
				cron("nightly-report-c", time.Time{}, "Failed"),
				cron("nightly-report-a", time.Time{}, "Running"),
			},
			want: map[string]Run{"cron:payments-prod/nightly-report": cron("nightly-report-c", time.Time{}, "Failed")},
		},
		"the same Workflow twice: the copy that got further": {
			runs: []Run{
				{Name: "w", Group: "name:ns/w", Created: day(20), Started: day(20), Phase: "Running"},
				{Name: "w", Group: "name:ns/w", Created: day(20), Started: day(20), Finished: day(21), Phase: "Succeeded"},
			},
			want: map[string]Run{"name:ns/w": {Name: "w", Group: "name:ns/w", Created: day(20), Started: day(20), Finished: day(21), Phase: "Succeeded"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// Whatever the order of the runs, the answer is the same.
			for _, order := range orders(tc.runs) {
				if diff := cmp.Diff(tc.want, newestOfEachGroup(order)); diff != "" {
					t.Errorf("newest of each group of %v mismatch (-want +got):\n%s", order, diff)
				}
			}
		})
	}
}

// FuzzRunNewer checks that Newer is a strict total order over runs that differ in what
// it compares, so that sorting by it gives one order whatever order the runs come in.
// Each run is built from a name, a phase and three times in seconds (0 is no time);
// the fuzzer varies the first run and derives two more from it, so that ties on the
// leading fields, which decide the most, are common.
func FuzzRunNewer(f *testing.F) {
	f.Add("nightly-report-1795140000", "Succeeded", int64(1795140000), int64(1795140000), int64(1795140221), uint8(0))
	f.Add("w", "Running", int64(0), int64(0), int64(0), uint8(1))
	f.Add("ci-payments-x7k2p", "Failed", int64(1795140000), int64(1795140001), int64(0), uint8(0xff))
	f.Add("", "", int64(-1), int64(1), int64(-1), uint8(0x2a))
	// Runs that differ in one field only, so that each tie-break decides.
	for bit := range 8 {
		f.Add("nightly-report-1795140000", "Running", int64(1795140000), int64(1795140000), int64(0), uint8(1)<<bit)
	}
	f.Fuzz(func(t *testing.T, name, phase string, created, started, finished int64, vary uint8) {
		at := func(s int64) time.Time {
			if s == 0 {
				return time.Time{}
			}
			return time.Unix(s, 0).UTC()
		}
		a := Run{Group: "g", Name: name, Namespace: "ns", Phase: phase, Created: at(created), Started: at(started), Finished: at(finished)}
		// b and c change some of a's fields, each bit of vary choosing one.
		b, c := a, a
		if vary&1 != 0 {
			b.Created = b.Created.Add(time.Second)
		}
		if vary&2 != 0 {
			b.Name += "-b"
		}
		if vary&4 != 0 {
			b.Started = at(started + 1)
		}
		if vary&8 != 0 {
			b.Phase = "Succeeded"
		}
		if vary&16 != 0 {
			c.Namespace = "ns2"
		}
		if vary&32 != 0 {
			c.Finished = at(finished + 7)
		}
		if vary&64 != 0 {
			c.Created = time.Time{}
		}
		if vary&128 != 0 {
			c.Phase = "Failed"
		}
		runs := []Run{a, b, c}

		for _, x := range runs {
			if x.Newer(x) {
				t.Fatalf("%+v is newer than itself", x)
			}
			for _, y := range runs {
				same := cmp.Equal(x, y)
				if xy, yx := x.Newer(y), y.Newer(x); same && (xy || yx) || !same && xy == yx {
					t.Fatalf("Newer not a strict total order: %+v newer than %+v: %v; the other way: %v", x, y, xy, yx)
				}
				for _, z := range runs {
					if x.Newer(y) && y.Newer(z) && !x.Newer(z) {
						t.Fatalf("Newer not transitive: %+v > %+v > %+v", x, y, z)
					}
				}
			}
		}
		var first []Run
		for _, order := range orders(runs) {
			sorted := slices.Clone(order)
			slices.SortStableFunc(sorted, func(x, y Run) int {
				switch {
				case x.Newer(y):
					return -1
				case y.Newer(x):
					return 1
				}
				return 0
			})
			if first == nil {
				first = sorted
			} else if diff := cmp.Diff(first, sorted); diff != "" {
				t.Fatalf("sorting %+v by Newer gives another order (-first +this):\n%s", order, diff)
			}
		}
	})
}
