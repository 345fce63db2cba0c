package heatmap

import (
	"image"
	"image/color"
	"math"
	"testing"
)

// falling returns 101 shares from 1 at the top to 0 at the bottom.
func falling() []float64 {
	shares := make([]float64, 101)
	for i := range shares {
		shares[i] = 1 - float64(i)/100
	}
	return shares
}

func TestScrollBands(t *testing.T) {
	const w, h = 200, 1000
	img := ScrollBands(falling(), w, h)

	if got := img.Bounds(); got != image.Rect(0, 0, w, h) {
		t.Fatalf("bounds = %v, want %d×%d", got, w, h)
	}
	if c := img.NRGBAAt(w/2, 0); !redish(c) {
		t.Errorf("top = %v, want red-ish", c)
	}
	if c := img.NRGBAAt(w/2, h-1); !blueish(c) {
		t.Errorf("bottom = %v, want blue-ish", c)
	}
	if c := img.NRGBAAt(w/2, h/2); c.G < 200 || c.R > 80 || c.B > 80 {
		t.Errorf("half way, where half the views reach = %v, want green-ish", c)
	}

	// Every band is one colour across, and the colour cools with depth.
	for y := range h {
		if a, b := img.NRGBAAt(w/2, y), img.NRGBAAt(w-1, y); a != b {
			t.Fatalf("row %d: %v in the middle, %v at the right edge", y, a, b)
		}
	}
	for y := 1; y < h; y++ {
		above, below := img.NRGBAAt(w-1, y-1), img.NRGBAAt(w-1, y)
		if hue(below) > hue(above)+1e-9 {
			t.Fatalf("row %d (%v) is warmer than row %d (%v)", y, below, y-1, above)
		}
	}
}

// hue places an opaque band colour on the ramp: 1 for red, 0 for blue.
func hue(c color.NRGBA) float64 {
	switch {
	case c.R > 0 && c.G < 255: // yellow to red
		return 0.8 + 0.2*float64(255-c.G)/255
	case c.R > 0: // green to yellow
		return 0.6 + 0.2*float64(c.R)/255
	case c.B == 0: // green
		return 0.6
	case c.G > 0 && c.B < 255: // cyan to green
		return 0.45 + 0.15*float64(255-c.B)/255
	default: // blue to cyan
		return 0.25 + 0.2*float64(c.G)/255
	}
}

func TestScrollBandsRuler(t *testing.T) {
	const w, h = 200, 1001
	img := ScrollBands(falling(), w, h)
	band := func(y int) color.NRGBA { return img.NRGBAAt(w-1, y) }
	tickLen := w / 20

	for i := 0; i <= 10; i++ {
		y := i * (h - 1) / 10
		length := tickLen
		if i == 5 {
			length *= 2
		}
		if c := img.NRGBAAt(0, y); c == band(y) || c.A < 200 || c.R > 0x40 {
			t.Errorf("%d %%: left edge of row %d = %v, want a dark tick", i*10, y, c)
		}
		if c := img.NRGBAAt(length-1, y); c != img.NRGBAAt(0, y) {
			t.Errorf("%d %%: tick shorter than %d px", i*10, length)
		}
		if c := img.NRGBAAt(length, y); c != band(y) {
			t.Errorf("%d %%: tick longer than %d px: %v", i*10, length, c)
		}
	}

	// Between the marks the band reaches the left edge.
	if c := img.NRGBAAt(0, 150); c != band(150) {
		t.Errorf("row 150 left edge = %v, want the band %v", c, band(150))
	}
}

func TestScrollBandsShapes(t *testing.T) {
	tests := []struct {
		name          string
		shares        []float64
		width, height int
		wantBounds    image.Rectangle
		check         func(t *testing.T, img *image.NRGBA)
	}{
		{
			name: "no shares", shares: nil, width: 50, height: 80,
			wantBounds: image.Rect(0, 0, 50, 80),
			check: func(t *testing.T, img *image.NRGBA) {
				if !transparent(img) {
					t.Error("image is not fully transparent")
				}
			},
		},
		{
			name: "everyone reaches the bottom", shares: []float64{1}, width: 50, height: 80,
			wantBounds: image.Rect(0, 0, 50, 80),
			check: func(t *testing.T, img *image.NRGBA) {
				if c := img.NRGBAAt(49, 79); !redish(c) {
					t.Errorf("bottom = %v, want red-ish", c)
				}
			},
		},
		{
			name: "out of range shares clamp", shares: []float64{7, math.NaN(), -2},
			width: 50, height: 80, wantBounds: image.Rect(0, 0, 50, 80),
			check: func(t *testing.T, img *image.NRGBA) {
				if c := img.NRGBAAt(49, 0); !redish(c) {
					t.Errorf("top = %v, want red-ish", c)
				}
				if c := img.NRGBAAt(49, 79); !blueish(c) {
					t.Errorf("bottom = %v, want blue-ish", c)
				}
			},
		},
		{
			name: "tall page clamps", shares: falling(), width: 10, height: 3 * MaxHeight,
			wantBounds: image.Rect(0, 0, 10, MaxHeight),
		},
		{
			name: "zero size", shares: falling(), width: 0, height: 80,
			wantBounds: image.Rectangle{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := ScrollBands(tt.shares, tt.width, tt.height)

			if img.Bounds() != tt.wantBounds {
				t.Fatalf("bounds = %v, want %v", img.Bounds(), tt.wantBounds)
			}
			if tt.check != nil {
				tt.check(t, img)
			}
		})
	}
}

func BenchmarkScrollBands(b *testing.B) {
	shares := falling()
	b.ReportAllocs()

	for b.Loop() {
		ScrollBands(shares, 1440, 5000)
	}
}
