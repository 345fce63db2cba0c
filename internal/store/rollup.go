package store

import (
	"cmp"
	"slices"
)

// HeatKey names one heatmap: a page of a site, for a device class, on a day.
type HeatKey struct {
	SiteID  int64
	PageKey string
	Device  string
	Day     int
}

func (k HeatKey) compare(o HeatKey) int {
	return cmp.Or(cmp.Compare(k.SiteID, o.SiteID), cmp.Compare(k.PageKey, o.PageKey),
		cmp.Compare(k.Device, o.Device), cmp.Compare(k.Day, o.Day))
}

// ElementKey names the roll-up cell of clicks on an element at an in-element
// offset (per cent).
type ElementKey struct {
	Heat             HeatKey
	Selector         string
	OffsetX, OffsetY int
}

// PointKey names the roll-up cell of clicks or moves (Kind "click" or
// "move") at a 10-pixel page cell.
type PointKey struct {
	Heat HeatKey
	Kind string
	X, Y int
}

// ScrollKey names the roll-up cell of page views whose deepest point was
// Depth per cent.
type ScrollKey struct {
	Heat  HeatKey
	Depth int
}

// RollUps sums roll-up bumps in memory, so that a transaction writes each
// cell once however many of its batches bump it. The zero value is empty
// and ready to use.
type RollUps struct {
	elements map[ElementKey]int64
	points   map[PointKey]int64
	scroll   map[ScrollKey]int64
}

// Element adds n to a click cell of an element.
func (r *RollUps) Element(k ElementKey, n int64) {
	if r.elements == nil {
		r.elements = map[ElementKey]int64{}
	}
	r.elements[k] += n
}

// Point adds n to a click or move cell of the page.
func (r *RollUps) Point(k PointKey, n int64) {
	if r.points == nil {
		r.points = map[PointKey]int64{}
	}
	r.points[k] += n
}

// Scroll adds n, which may be negative, to a scroll-depth cell.
func (r *RollUps) Scroll(k ScrollKey, n int64) {
	if r.scroll == nil {
		r.scroll = map[ScrollKey]int64{}
	}
	r.scroll[k] += n
}

// Len returns the number of cells bumped.
func (r *RollUps) Len() int {
	return len(r.elements) + len(r.points) + len(r.scroll)
}

// AddRollUps adds the sums in r to the stored roll-ups. A cell whose bumps
// cancel out is written all the same, as bumping it one at a time would have
// left its row. Cells go in key order: two writers that bump the same cells
// then never each hold a row the other waits for.
func (t *Tx) AddRollUps(r *RollUps) error {
	if err := t.addElements(r.elements); err != nil {
		return err
	}
	if err := t.addPoints(r.points); err != nil {
		return err
	}
	return t.addScroll(r.scroll)
}

func (t *Tx) addElements(cells map[ElementKey]int64) error {
	keys := sortedKeys(cells, func(a, b ElementKey) int {
		return cmp.Or(a.Heat.compare(b.Heat), cmp.Compare(a.Selector, b.Selector),
			cmp.Compare(a.OffsetX, b.OffsetX), cmp.Compare(a.OffsetY, b.OffsetY))
	})
	const width = 8
	args := make([]any, 0, len(keys)*width)
	for _, k := range keys {
		args = append(args, k.Heat.SiteID, k.Heat.PageKey, k.Heat.Device, k.Heat.Day,
			k.Selector, k.OffsetX, k.OffsetY, cells[k])
	}
	return t.execRows("bump elements", `INSERT INTO heat_elements (site_id, page_key, device,
		day, selector, offset_x, offset_y, count)`, `
		ON CONFLICT (site_id, page_key, device, day, selector, offset_x, offset_y)
		DO UPDATE SET count = heat_elements.count + excluded.count`, width, args)
}

func (t *Tx) addPoints(cells map[PointKey]int64) error {
	keys := sortedKeys(cells, func(a, b PointKey) int {
		return cmp.Or(a.Heat.compare(b.Heat), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.X, b.X), cmp.Compare(a.Y, b.Y))
	})
	const width = 8
	args := make([]any, 0, len(keys)*width)
	for _, k := range keys {
		args = append(args, k.Heat.SiteID, k.Heat.PageKey, k.Heat.Device, k.Kind, k.Heat.Day,
			k.X, k.Y, cells[k])
	}
	return t.execRows("bump points", `INSERT INTO heat_points (site_id, page_key, device, kind,
		day, x, y, count)`, `
		ON CONFLICT (site_id, page_key, device, kind, day, x, y)
		DO UPDATE SET count = heat_points.count + excluded.count`, width, args)
}

func (t *Tx) addScroll(cells map[ScrollKey]int64) error {
	keys := sortedKeys(cells, func(a, b ScrollKey) int {
		return cmp.Or(a.Heat.compare(b.Heat), cmp.Compare(a.Depth, b.Depth))
	})
	const width = 6
	args := make([]any, 0, len(keys)*width)
	for _, k := range keys {
		args = append(args, k.Heat.SiteID, k.Heat.PageKey, k.Heat.Device, k.Heat.Day, k.Depth,
			cells[k])
	}
	return t.execRows("bump scroll", `INSERT INTO heat_scroll (site_id, page_key, device, day,
		depth, count)`, `
		ON CONFLICT (site_id, page_key, device, day, depth)
		DO UPDATE SET count = heat_scroll.count + excluded.count`, width, args)
}

func sortedKeys[K comparable, V any](m map[K]V, compare func(a, b K) int) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compare)
	return keys
}
