package heatmap

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"slices"
)

// Limits on what Render and ScrollBands draw. A rendered image costs 8 bytes
// per pixel while it is made (a float32 sum and an RGBA colour), so a
// 1440×20000 page costs about 230 MB; callers should cache the PNG.
const (
	// MaxHeight is the tallest image drawn; a taller page is scaled down.
	MaxHeight = 20000
	// MaxWidth is the widest image drawn; a wider page is scaled down.
	MaxWidth = 4096
	// MaxRadius bounds the blob radius in pixels, since the work per point
	// grows with its square.
	MaxRadius = 100
)

// maxAlpha is the opacity of the hottest colour: just short of opaque, so
// that the page under the hottest spot stays faintly readable.
const maxAlpha = 230

// Render draws points as a heatmap image of width×height pixels: each point
// spreads as a Gaussian blob of the given radius, intensities are summed,
// normalised to the hottest cell and mapped through a colour ramp
// (transparent → blue → cyan → green → yellow → red) with alpha rising with
// intensity.
//
// A page taller than MaxHeight or wider than MaxWidth is scaled down evenly,
// points and radius with it, so blobs stay round; the caller stretches the
// image back over the page. Points with a count of zero or less are ignored;
// points outside the page add only the part of their blob that falls inside.
// The radius, after scaling, is kept within 1..MaxRadius. A zero or negative
// size gives an empty image.
func Render(points []Point, width, height, radius int) *image.NRGBA {
	w, h, scale := canvasSize(width, height)
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if w == 0 || h == 0 || len(points) == 0 {
		return img
	}

	r := min(max(int(math.Round(float64(radius)*scale)), 1), MaxRadius)
	k := newKernel(r)
	// Blobs are added top to bottom, so that consecutive blobs mostly touch
	// rows of the grid still in the CPU cache: on a page-sized grid that
	// halves the time spent adding them.
	spots := make([]spot, 0, len(points))
	for _, p := range points {
		if p.Count <= 0 {
			continue
		}
		x, y := float64(p.X)*scale, float64(p.Y)*scale
		// Checked in floating point so that a wild coordinate cannot
		// overflow the conversion to int.
		if x <= float64(-r) || x >= float64(w+r) || y <= float64(-r) || y >= float64(h+r) {
			continue
		}
		spots = append(spots, spot{int(math.Round(x)), int(math.Round(y)), float32(p.Count)})
	}
	slices.SortFunc(spots, func(a, b spot) int { return cmp.Or(a.y-b.y, a.x-b.x) })

	grid := make([]float32, w*h)
	for _, s := range spots {
		k.add(grid, w, h, s.x, s.y, s.weight)
	}

	paint(img, grid)
	return img
}

// spot is a point in image coordinates, ready to be added.
type spot struct {
	x, y   int
	weight float32
}

// canvasSize returns the size of the image for a page of width×height CSS
// pixels and the factor from page to image coordinates.
func canvasSize(width, height int) (w, h int, scale float64) {
	if width <= 0 || height <= 0 {
		return 0, 0, 0
	}

	scale = min(1, float64(MaxHeight)/float64(height), float64(MaxWidth)/float64(width))
	w = max(1, int(math.Round(float64(width)*scale)))
	h = max(1, int(math.Round(float64(height)*scale)))
	return w, h, scale
}

// kernel is one blob, computed once per Render so that adding a point is a
// multiply-add per covered pixel rather than an exp. Rows hold only the
// pixels inside the circle, centred on the point.
type kernel struct {
	radius int
	rows   [][]float32
}

// newKernel returns a blob of radius r: a Gaussian with sigma r/3, shifted
// and scaled so it is 1 at the centre and falls to exactly 0 at the radius,
// which leaves no visible edge where the blob is cut off.
func newKernel(r int) kernel {
	sigma := float64(r) / 3
	edge := math.Exp(-float64(r*r) / (2 * sigma * sigma))

	k := kernel{radius: r, rows: make([][]float32, 2*r+1)}
	for dy := -r; dy <= r; dy++ {
		half := int(math.Sqrt(float64(r*r - dy*dy)))
		row := make([]float32, 2*half+1)
		for dx := -half; dx <= half; dx++ {
			g := math.Exp(-float64(dx*dx+dy*dy) / (2 * sigma * sigma))
			row[dx+half] = float32(max(0, (g-edge)/(1-edge)))
		}
		k.rows[dy+r] = row
	}
	return k
}

// add sums weight times the blob centred on (x, y) into grid, a w×h image in
// rows, leaving out whatever falls outside it.
func (k kernel) add(grid []float32, w, h, x, y int, weight float32) {
	for dy := -k.radius; dy <= k.radius; dy++ {
		gy := y + dy
		if gy < 0 || gy >= h {
			continue
		}

		row := k.rows[dy+k.radius]
		left := x - len(row)/2
		lo, hi := max(0, -left), min(len(row), w-left)
		if lo >= hi {
			continue
		}
		row = row[lo:hi]
		cells := grid[gy*w+left+lo:]
		cells = cells[:len(row)]
		for i, v := range row {
			cells[i] += weight * v
		}
	}
}

// paint colours img from grid, normalised to its largest value.
func paint(img *image.NRGBA, grid []float32) {
	var hottest float32
	for _, v := range grid {
		// Not the max builtin: its care for NaN and signed zeros, which
		// cannot occur here, makes this loop several times slower.
		if v > hottest {
			hottest = v
		}
	}
	if hottest <= 0 {
		return
	}

	ramp := heatRamp()
	scale := float32(len(ramp)-1) / hottest
	// NewNRGBA packs rows with no padding, so cell i is pixel i.
	pix := img.Pix[:4*len(grid)]
	for i, v := range grid {
		// v ≤ hottest, so the step is at most 255 even after rounding;
		// the uint8 conversion only spares the bounds check.
		c := ramp[uint8(v*scale+0.5)]
		binary.BigEndian.PutUint32(pix[4*i:], c)
	}
}

// rampStop is a colour at one intensity of a ramp.
type rampStop struct {
	at      float64
	r, g, b float64
}

// heatRamp returns the colour for each of 256 intensity steps, packed as
// 0xRRGGBBAA. Alpha grows as the square root of intensity so faint areas still
// show while the hottest stand out; step 0 is fully transparent.
func heatRamp() [256]uint32 {
	var ramp [256]uint32
	for i := 1; i < len(ramp); i++ {
		t := float64(i) / float64(len(ramp)-1)
		r, g, b := rampColour(t)
		a := uint8(math.Round(maxAlpha * math.Sqrt(t)))
		ramp[i] = uint32(r)<<24 | uint32(g)<<16 | uint32(b)<<8 | uint32(a)
	}
	return ramp
}

// rampColour returns the heat colour at intensity t in 0..1: blue at the
// cold end through cyan, green and yellow to red at the hot end. Below the
// first stop the colour is that of the first stop; alpha is the caller's.
func rampColour(t float64) (r, g, b uint8) {
	stops := [...]rampStop{
		{0.25, 0, 0, 255},
		{0.45, 0, 255, 255},
		{0.60, 0, 255, 0},
		{0.80, 255, 255, 0},
		{1.00, 255, 0, 0},
	}

	lo := stops[0]
	if t <= lo.at {
		return uint8(lo.r), uint8(lo.g), uint8(lo.b)
	}
	for _, hi := range stops[1:] {
		if t <= hi.at {
			f := (t - lo.at) / (hi.at - lo.at)
			return mix(lo.r, hi.r, f), mix(lo.g, hi.g, f), mix(lo.b, hi.b, f)
		}
		lo = hi
	}
	return uint8(lo.r), uint8(lo.g), uint8(lo.b)
}

func mix(a, b, f float64) uint8 {
	return uint8(math.Round(a + (b-a)*f))
}

// EncodePNG writes img as a PNG. An NRGBA image of at most 256 colours (every
// image Render makes) is written as a paletted PNG: a quarter of the pixel
// data, and no per-row filter search, which makes a page-sized heatmap several
// times faster to encode and smaller. It favours speed over size otherwise:
// heatmaps are mostly transparent and compress well even at the fastest
// level, and they are drawn while someone waits.
func EncodePNG(w io.Writer, img image.Image) error {
	if nrgba, ok := img.(*image.NRGBA); ok {
		if paletted, ok := toPaletted(nrgba); ok {
			img = paletted
		}
	}

	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(w, img); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	return nil
}

// toPaletted returns img as a paletted image with exactly the same colours,
// or false if it has more than 256.
func toPaletted(img *image.NRGBA) (*image.Paletted, bool) {
	b := img.Bounds()
	out := image.NewPaletted(b, nil)
	var colours colourIndex
	for y := b.Min.Y; y < b.Max.Y; y++ {
		src := img.Pix[img.PixOffset(b.Min.X, y):][:4*b.Dx()]
		dst := out.Pix[out.PixOffset(b.Min.X, y):][:b.Dx()]
		for x := range dst {
			i, ok := colours.index(binary.BigEndian.Uint32(src[4*x:]))
			if !ok {
				return nil, false
			}
			dst[x] = i
		}
	}

	out.Palette = colours.palette()
	return out, true
}

// colourIndex numbers up to 256 distinct RGBA colours, packed as 0xRRGGBBAA,
// in order of first sight. It is an open-addressing hash table twice the size
// of a full palette, with the last colour remembered because neighbouring
// pixels are usually equal; a map costs several times as much per pixel.
type colourIndex struct {
	slots     [512]colourSlot
	colours   []uint32
	last      uint32
	lastIndex uint8
	hasLast   bool
}

type colourSlot struct {
	colour uint32
	index  uint8
	used   bool
}

// index returns the palette index of c, adding it if new, or false if the
// palette is full.
func (t *colourIndex) index(c uint32) (uint8, bool) {
	if t.hasLast && c == t.last {
		return t.lastIndex, true
	}

	// Fibonacci hashing: the top 9 bits of the product spread nearby
	// colours over the 512 slots.
	h := (c * 0x9e3779b1) >> 23
	for {
		s := &t.slots[h]
		if s.used && s.colour != c {
			h = (h + 1) % uint32(len(t.slots))
			continue
		}
		if !s.used {
			if len(t.colours) == 256 {
				return 0, false
			}
			*s = colourSlot{colour: c, index: uint8(len(t.colours)), used: true}
			t.colours = append(t.colours, c)
		}
		t.last, t.lastIndex, t.hasLast = c, s.index, true
		return s.index, true
	}
}

// palette returns the colours seen, in index order.
func (t *colourIndex) palette() color.Palette {
	p := make(color.Palette, len(t.colours))
	for i, c := range t.colours {
		p[i] = color.NRGBA{R: uint8(c >> 24), G: uint8(c >> 16), B: uint8(c >> 8), A: uint8(c)}
	}
	return p
}
