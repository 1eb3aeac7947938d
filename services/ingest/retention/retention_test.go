package retention

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]string{
		Default:                    "builds=180d,logs=30d,keep-failed=365d",
		"logs=12h":                 "builds=off,logs=12h,keep-failed=off",
		" builds=90m , logs=off ":  "builds=90m,logs=off,keep-failed=off",
		"":                         "builds=off,logs=off,keep-failed=off",
		"keep-failed=2d,builds=1d": "builds=1d,logs=off,keep-failed=2d",
	} {
		p, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if got := p.String(); got != want {
			t.Errorf("Parse(%q) = %s, want %s", in, got, want)
		}
	}
	for _, in := range []string{"builds", "builds=", "builds=10", "builds=-1d", "builds=10y", "blogs=1d",
		"builds=1d,builds=2d", "builds=0d", strings.Repeat("x", maxPolicyLen+1)} {
		if p, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, p)
		}
	}
}

func TestCutoffs(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	p, _ := Parse("builds=10d,logs=2d,keep-failed=30d")
	c := p.At(now)
	if !c.Builds.Equal(now.Add(-10*day)) || !c.Failed.Equal(now.Add(-30*day)) || !c.Logs.Equal(now.Add(-2*day)) {
		t.Errorf("cutoffs %+v", c)
	}
	// keep-failed shorter than builds: failed builds are not kept less than others.
	p, _ = Parse("builds=10d,keep-failed=1d")
	if c := p.At(now); !c.Failed.Equal(c.Builds) || !c.Logs.IsZero() {
		t.Errorf("cutoffs %+v", c)
	}
	// keep-failed off, or left out, keeps failed builds forever, as off keeps anything.
	for _, text := range []string{"builds=10d,keep-failed=off", "builds=10d"} {
		p, _ = Parse(text)
		if c := p.At(now); !c.Builds.Equal(now.Add(-10*day)) || !c.Failed.IsZero() {
			t.Errorf("%s: cutoffs %+v", text, c)
		}
	}
	if c := (Policy{}).At(now); !c.Builds.IsZero() || !c.Failed.IsZero() || !c.Logs.IsZero() {
		t.Errorf("an empty policy cuts %+v", c)
	}
}
