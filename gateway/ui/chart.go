package ui

import (
	"fmt"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// The chart's drawing area, in SVG user units; the CSS scales it to the page width.
const (
	chartWidth  = 600
	chartHeight = 100
	chartDays   = 30
)

// chart is the builds-per-day chart, laid out on the server.
type chart struct {
	Width, Height, Total int64
	Bars                 []chartBar
	First, Last          string
	Max                  int64
}

// chartBar is one status's part of one day's column.
type chartBar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

func newChart(days []*ingestv1.DayCounts) chart {
	c := chart{Width: chartWidth, Height: chartHeight}
	if len(days) == 0 {
		return c
	}
	c.First, c.Last = days[0].GetDay(), days[len(days)-1].GetDay()
	for _, d := range days {
		c.Max = max(c.Max, d.GetSuccess()+d.GetFailed()+d.GetCancelled()+d.GetNotrun())
	}
	if c.Max == 0 {
		return c
	}
	step := float64(chartWidth) / float64(len(days))
	scale := float64(chartHeight) / float64(c.Max)
	for i, d := range days {
		y := float64(chartHeight)
		for _, part := range []struct {
			n     int64
			class string
		}{{d.GetSuccess(), "success"}, {d.GetFailed(), "failed"}, {d.GetCancelled(), "cancelled"}, {d.GetNotrun(), "notrun"}} {
			if part.n == 0 {
				continue
			}
			h := float64(part.n) * scale
			y -= h
			c.Total += part.n
			c.Bars = append(c.Bars, chartBar{X: float64(i)*step + 1, Y: y, W: step - 2, H: h, Class: "bar-" + part.class,
				Title: fmt.Sprintf("%s: %d %s", d.GetDay(), part.n, part.class)})
		}
	}
	return c
}
