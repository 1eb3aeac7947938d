// Package retention reads the retention policy (SPACKMON_RETENTION) and says, for a moment,
// the cut-off times it implies. The store does the deleting; spackmon prune drives it.
package retention

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Default is the policy when none is configured.
const Default = "builds=180d,logs=30d,keep-failed=365d"

// maxPolicyLen bounds the policy text.
const maxPolicyLen = 256

// Policy is how long things are kept; zero keeps them forever.
type Policy struct {
	// Builds is the age past which a build is deleted (the newest build of every spec is
	// kept whatever its age).
	Builds time.Duration
	// Logs is the age past which a phase's log is dropped; its events stay.
	Logs time.Duration
	// KeepFailed is how long a FAILED build is kept, when longer than Builds; zero keeps
	// failed builds forever, as it keeps everything else.
	KeepFailed time.Duration
}

// Parse reads "builds=180d,logs=30d,keep-failed=365d". Ages are days (d), hours (h) or
// minutes (m); "0" or "off" keeps forever. Keys left out keep forever.
func Parse(text string) (Policy, error) {
	var p Policy
	if len(text) > maxPolicyLen {
		return p, fmt.Errorf("retention policy longer than %d bytes", maxPolicyLen)
	}
	seen := map[string]bool{}
	for _, item := range strings.Split(text, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, value, ok := strings.Cut(item, "=")
		if !ok {
			return p, fmt.Errorf("retention %q: want key=age", item)
		}
		if seen[key] {
			return p, fmt.Errorf("retention: %s given twice", key)
		}
		seen[key] = true
		age, err := parseAge(value)
		if err != nil {
			return p, fmt.Errorf("retention %s: %w", key, err)
		}
		switch key {
		case "builds":
			p.Builds = age
		case "logs":
			p.Logs = age
		case "keep-failed":
			p.KeepFailed = age
		default:
			return p, fmt.Errorf("retention: unknown key %q (builds, logs, keep-failed)", key)
		}
	}
	return p, nil
}

func parseAge(s string) (time.Duration, error) {
	if s == "0" || s == "off" {
		return 0, nil
	}
	if len(s) < 2 {
		return 0, fmt.Errorf("bad age %q", s)
	}
	n, err := strconv.ParseUint(s[:len(s)-1], 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad age %q", s)
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("bad age %q: end it with d, h or m", s)
	}
	return time.Duration(n) * unit, nil
}

// Cutoffs are the times before which things go, as of a moment; a zero time keeps all.
type Cutoffs struct {
	Builds, Failed, Logs time.Time
}

// At gives the cut-offs of the policy at now. A failed build goes at the later of its two
// ages, and with keep-failed off never; with Builds off, no build goes.
func (p Policy) At(now time.Time) Cutoffs {
	var c Cutoffs
	if p.Builds > 0 {
		c.Builds = now.Add(-p.Builds)
		if p.KeepFailed > 0 {
			c.Failed = now.Add(-max(p.Builds, p.KeepFailed))
		}
	}
	if p.Logs > 0 {
		c.Logs = now.Add(-p.Logs)
	}
	return c
}

// String writes the policy back.
func (p Policy) String() string {
	age := func(d time.Duration) string {
		switch {
		case d == 0:
			return "off"
		case d%(24*time.Hour) == 0:
			return strconv.Itoa(int(d/(24*time.Hour))) + "d"
		case d%time.Hour == 0:
			return strconv.Itoa(int(d/time.Hour)) + "h"
		}
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return "builds=" + age(p.Builds) + ",logs=" + age(p.Logs) + ",keep-failed=" + age(p.KeepFailed)
}
