// Package heatmap turns heatmap roll-ups into pictures: it holds the small
// helpers that decide the resolution roll-ups are kept at, and draws click,
// move and scroll-depth heatmaps as PNG overlays for the dashboard.
//
// It neither reads nor writes any store: the processor and the web handlers
// fetch the counts and pass them in, so everything here is pure computation.
package heatmap

import "math"

// Point is one cell of a heatmap in page coordinates (CSS pixels) with its
// count.
type Point struct {
	X, Y  int
	Count int64
}

// Bucket rounds a fraction 0..1 to a whole per-mille (0..1000) and clamps
// out-of-range input; roll-ups store in-element offsets at this resolution.
// A per-mille of even a 2000-pixel-wide element is 2 pixels, finer than a
// heatmap blob, while keeping the number of distinct roll-up rows bounded.
// NaN, which a zero-sized element produces, counts as 0.
func Bucket(f float64) int {
	return clampRound(f*1000, 1000)
}

// DepthBucket clamps a scroll depth percentage to 0..100, rounding to the
// nearest whole percent. Rounding rather than truncating keeps a visitor who
// reached the bottom at 100 when the browser's arithmetic reports 99.99.
// NaN counts as 0.
func DepthBucket(pct float64) int {
	return clampRound(pct, 100)
}

// clampRound rounds v to the nearest integer in 0..hi; NaN gives 0.
func clampRound(v float64, hi int) int {
	switch {
	case math.IsNaN(v) || v <= 0:
		return 0
	case v >= float64(hi):
		return hi
	}
	return int(math.Round(v))
}
