package ui

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// now is the clock relative times are counted from.
var now = time.Now

func (u *UI) funcs() template.FuncMap {
	return template.FuncMap{
		"asset":       u.assets.url,
		"ago":         ago,
		"exact":       exact,
		"stamp":       stamp,
		"segment":     url.PathEscape,
		"statusClass": statusClass,
		"short":       short,
		"size":        size,
		"with1":       withParam,
		"without":     withoutParam,
		"add":         func(a, b int) int { return a + b },
		"eventList":   newEventList,
		"protocol":    func() string { return "/" + u.protocolPrefix() },
		"specURL":     specURL,
		"count":       count[int64],
	}
}

// specURL is the page of the spec with this full hash as Spack version spackVersion reported
// it: the same full hash sent with another version is another spec, which a link by the
// hash alone could show instead.
func specURL(fullHash, spackVersion string) string {
	u := "/specs/" + url.PathEscape(fullHash)
	if spackVersion != "" {
		u += "?spack_version=" + url.QueryEscape(spackVersion)
	}
	return u
}

// ago says how long before now t was, in the largest unit that fits.
func ago(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	d := now().Sub(ts.AsTime())
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
}

// stamp is a timestamp as a <time> element's datetime attribute takes it.
func stamp(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

// exact is a timestamp in UTC, to the second.
func exact(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().UTC().Format("2006-01-02 15:04:05 UTC")
}

// statusClass is the CSS class that colours a build or phase status.
func statusClass(status string) string {
	switch strings.ToUpper(status) {
	case "SUCCESS":
		return "st st-success"
	case "FAILED", "ERROR":
		return "st st-failed"
	case "CANCELLED":
		return "st st-cancelled"
	case "NOTRUN":
		return "st st-notrun"
	case "RUNNING", "STARTED":
		return "st st-running"
	}
	return "st"
}

// short keeps the first n characters of s.
func short(n int, s string) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// size writes a byte count the way people read it.
func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// withParam is the query q with key set to value (and the page token dropped, since a new
// filter starts from the first page), as a relative URL.
func withParam(q url.Values, key, value string) string {
	c := cloneQuery(q)
	c.Del("page")
	c.Set(key, value)
	return "?" + c.Encode()
}

// withoutParam is the query q without key.
func withoutParam(q url.Values, key string) string {
	c := cloneQuery(q)
	c.Del("page")
	c.Del(key)
	if len(c) == 0 {
		return "?"
	}
	return "?" + c.Encode()
}

func cloneQuery(q url.Values) url.Values {
	c := url.Values{}
	for k, v := range q {
		c[k] = append([]string(nil), v...)
	}
	return c
}

// eventList is the data of the events part: one kind of a build's events.
type eventList struct {
	BuildID int64
	Events  []*ingestv1.BuildEvent
	More    bool
	Kind    string
}

func newEventList(id int64, events []*ingestv1.BuildEvent, more bool, kind string) eventList {
	return eventList{BuildID: id, Events: events, More: more, Kind: kind}
}

func (u *UI) protocolPrefix() string {
	if u.opts.ProtocolPrefix == "" {
		return "ms1"
	}
	return u.opts.ProtocolPrefix
}
