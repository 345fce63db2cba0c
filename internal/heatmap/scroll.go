package heatmap

import (
	"image"
	"math"
)

// bandAlpha is the opacity of the scroll bands: enough for the colour to read
// at a glance, little enough for the page under them to stay legible.
const bandAlpha = 160

// ScrollBands renders the share of page views that reached each depth
// (shares[i] for depth i%, 0..100) as a vertical band image. Each depth is
// coloured by its share, red where everyone got to through yellow, green and
// cyan to blue where few did, so a page reads red at the top and blue at the
// bottom. A text-free ruler on the left edge marks every 10 %, with the 50 %
// mark twice as long.
//
// Shares are clamped to 0..1 (NaN counts as 0). Any number of shares is
// accepted: they are spread evenly from the top to the bottom and
// interpolated in between, so 101 shares give one per percent. No shares give
// a transparent image. The image is at most MaxWidth×MaxHeight; the bands
// are relative to the height, so a clamped image still lines up once
// stretched over the page. A zero or negative size gives an empty image.
func ScrollBands(shares []float64, width, height int) *image.NRGBA {
	if width <= 0 || height <= 0 {
		return image.NewNRGBA(image.Rectangle{})
	}

	w, h := min(width, MaxWidth), min(height, MaxHeight)
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if len(shares) == 0 {
		return img
	}

	for y := range h {
		depth := (float64(y) + 0.5) / float64(h)
		r, g, b := rampColour(0.25 + 0.75*shareAt(shares, depth))
		fillRow(img, y, 0, w, [4]uint8{r, g, b, bandAlpha})
	}

	// The ruler is dark so it shows on every band colour.
	ruler := [4]uint8{0x20, 0x20, 0x20, 0xe6}
	tick := min(max(w/20, 4), 32)
	for i := 0; i <= 10; i++ {
		length := tick
		if i == 5 {
			length *= 2
		}
		// Two rows thick, ending on the row at i×10 % so the 0 % and 100 %
		// marks stay inside the image.
		y := int(math.Round(float64(i) / 10 * float64(h-1)))
		for row := max(y-1, 0); row <= y; row++ {
			fillRow(img, row, 0, min(length, w), ruler)
		}
	}
	return img
}

// shareAt interpolates shares at depth 0..1 of the page.
func shareAt(shares []float64, depth float64) float64 {
	pos := depth * float64(len(shares)-1)
	i := min(int(pos), len(shares)-1)
	if i+1 >= len(shares) {
		return clampShare(shares[i])
	}

	lo, hi := clampShare(shares[i]), clampShare(shares[i+1])
	return lo + (hi-lo)*(pos-float64(i))
}

func clampShare(s float64) float64 {
	if math.IsNaN(s) {
		return 0
	}
	return min(max(s, 0), 1)
}

// fillRow sets pixels x0..x1-1 of row y to c.
func fillRow(img *image.NRGBA, y, x0, x1 int, c [4]uint8) {
	row := img.Pix[y*img.Stride+4*x0 : y*img.Stride+4*x1]
	if len(row) == 0 {
		return
	}

	// Copying what is filled so far doubles it each time, which runs as a
	// few large copies rather than one small copy per pixel.
	filled := copy(row, c[:])
	for filled < len(row) {
		filled += copy(row[filled:], row[:filled])
	}
}
