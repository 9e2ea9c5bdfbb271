package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want []Stage
	}{
		{"default", "100%", []Stage{{Percentage: 100}}},
		{"no percent sign", "100", []Stage{{Percentage: 100}}},
		{"issue example", "10%@5m, 50%@10m, 100%", []Stage{{10, 5 * time.Minute}, {50, 10 * time.Minute}, {100, 0}}},
		{"newlines and blanks", "\n 1.5% @ 30s \n\n 33.333%@1h30m\n100%@2m\n", []Stage{{1.5, 30 * time.Second}, {33.333, 90 * time.Minute}, {100, 2 * time.Minute}}},
		{"trailing comma", "25%@300ms,100%,", []Stage{{25, 300 * time.Millisecond}, {100, 0}}},
		{"smallest", "0.01%, 99.99%, 100%", []Stage{{0.01, 0}, {99.99, 0}, {100, 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseStages(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseStagesErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want string
	}{
		{"empty", " , \n", "no stages given"},
		{"not increasing", "10%, 10%, 100%", `stage 2 "10%": 10% is not more than the previous stage's 10%`},
		{"decreasing", "50%@1m, 20%@1m, 100%", `stage 2 "20%@1m"`},
		{"not ending at 100", "10%@5m, 50%@10m", `stage 2 "50%@10m": the last stage must be 100%`},
		{"100 not last", "100%, 100%", `stage 1 "100%": 100% must be the last stage`},
		{"over 100", "150%", `stage 1 "150%": 150% is out of range`},
		{"zero", "0%, 100%", `stage 1 "0%": 0% is out of range`},
		{"negative", "-5%, 100%", `stage 1 "-5%": "-5%" is not a percentage`},
		{"word", "ten%, 100%", `stage 1 "ten%": "ten%" is not a percentage`},
		{"exponent", "1e1%, 100%", `"1e1%" is not a percentage`},
		{"no percentage", "@5m, 100%", "the percentage is missing"},
		{"bad duration", "10%@5 minutes, 100%", `stage 1 "10%@5 minutes": hold "5 minutes" is not a Go duration`},
		{"zero hold", "10%@0s, 100%", `hold "0s" must be positive`},
		{"negative hold", "10%@-1m, 100%", `hold "-1m" must be positive`},
		{"too long hold", "10%@7h, 100%", `longer than 6h0m0s`},
		{"too many decimals", "10.1234%, 100%", "more than 3 decimals"},
		{"remainder too small", "99.999%, 100%", "leaves 0.001% to the previous version"},
		{"too many", strings.Repeat("1%,", 25) + "100%", "26 stages given"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseStages(tc.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestStageString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "12.5%@5m0s", Stage{Percentage: 12.5, Hold: 5 * time.Minute}.String())
	assert.Equal(t, "100%", Stage{Percentage: 100}.String())
}

func FuzzParseStages(f *testing.F) {
	for _, s := range []string{"100%", "10%@5m, 50%@10m, 100%", "1.5%@30s\n100%", "", "50%,50%", "0.001%", "10%@-1s,100%", "99.99%,100%@1h", "1e2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		stages, err := ParseStages(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if len(stages) == 0 || len(stages) > MaxStages {
			t.Fatalf("%d stages from %q", len(stages), s)
		}
		if stages[len(stages)-1].Percentage != 100 {
			t.Fatalf("last stage %v from %q", stages[len(stages)-1], s)
		}
		for i, st := range stages {
			if st.Percentage < MinPercentage || st.Percentage > 100 || st.Hold < 0 || st.Hold > MaxHold {
				t.Fatalf("stage %d out of range: %+v", i, st)
			}
			if i > 0 && st.Percentage <= stages[i-1].Percentage {
				t.Fatalf("not increasing at %d: %v", i, stages)
			}
			// A stage renders to text that parses back to itself.
			again, err := ParseStages(st.String() + ",100%")
			if st.Percentage == 100 {
				again, err = ParseStages(st.String())
			}
			if err != nil || again[0] != st {
				t.Fatalf("round trip of %v: %v %v", st, again, err)
			}
		}
	})
}
