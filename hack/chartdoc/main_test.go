package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTable(t *testing.T) {
	cases := map[string]struct {
		reason  string
		values  string
		want    string
		wantErr string
	}{
		"sections and values": {
			reason: "a mapping of documented entries is a section, one of undocumented ones a value",
			values: `# The file's own comment.

# How many.
replicas: 1
image:
  # Where | it is.
  repository: controller
# CPU and memory.
resources:
  limits:
    memory: 512Mi
# Extra flags.
extraArgs: []
`,
			want: "| `replicas` | int | `1` | How many. |\n" +
				"| `image.repository` | string | `\"controller\"` | Where \\| it is. |\n" +
				"| `resources` | object | `{\"limits\":{\"memory\":\"512Mi\"}}` | CPU and memory. |\n" +
				"| `extraArgs` | list | `[]` | Extra flags. |\n",
		},
		"undocumented": {
			reason:  "every value needs a comment",
			values:  "image:\n  # Where.\n  repository: controller\n  tag: \"\"\n",
			wantErr: "image.tag has no comment",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Table([]byte(tc.values))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("%s: got error %v, want one containing %q", tc.reason, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body := strings.SplitN(got, "\n", 3)[2]
			if diff := cmp.Diff(tc.want, body); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSplice(t *testing.T) {
	readme := "# Chart\n\n" + beginMarker + "\nold\n" + endMarker + "\nafter\n"
	got, err := Splice([]byte(readme), "new\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Chart\n\n" + beginMarker + "\nnew\n" + endMarker + "\nafter\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := Splice([]byte("no markers"), "x"); err == nil {
		t.Error("a README without the markers is an error")
	}
}

// The chart's README holds the table its values.yaml gives.
func TestChartREADMEIsCurrent(t *testing.T) {
	if err := run("../../dist/chart/values.yaml", "../../dist/chart/README.md", true); err != nil {
		t.Fatal(err)
	}
}
