package heatmap

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// recording is a real posthog-js session: two browser windows, viewport
// 2560×1304, with clicks at fractional page coordinates.
const recording = "../../../shared/corpus/posthog/frontend/src/scenes/session-recordings/" +
	"__mocks__/recording_snapshots.jsonl"

// hottest returns the hottest pixel, the first in reading order when several
// share it. Heat is read back from the colour ramp: by hue, and by alpha where
// the hue does not change (the cold blue end).
func hottest(tb testing.TB, img *image.NRGBA) (x, y int) {
	tb.Helper()

	best := -1.0
	b := img.Bounds()
	for py := b.Min.Y; py < b.Max.Y; py++ {
		for px := b.Min.X; px < b.Max.X; px++ {
			c := img.NRGBAAt(px, py)
			if c.A == 0 {
				continue
			}
			// One step of hue is at least 0.2/255; alpha/1e6 never
			// outweighs it.
			if h := hue(c) + float64(c.A)/1e6; h > best {
				best, x, y = h, px, py
			}
		}
	}
	if best < 0 {
		tb.Fatal("image is fully transparent")
	}
	return x, y
}

func redish(c color.NRGBA) bool  { return c.A > 0 && c.R >= 200 && c.G <= 80 && c.B <= 80 }
func blueish(c color.NRGBA) bool { return c.A > 0 && c.B >= 200 && c.R <= 80 && c.G <= 80 }

// transparent reports whether every pixel of img has zero alpha.
func transparent(img *image.NRGBA) bool {
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 0 {
			return false
		}
	}
	return true
}

func TestRenderSinglePoint(t *testing.T) {
	const px, py, radius = 120, 80, 20
	img := Render([]Point{{X: px, Y: py, Count: 5}}, 300, 200, radius)

	if got := img.Bounds(); got != image.Rect(0, 0, 300, 200) {
		t.Fatalf("bounds = %v, want 300×200", got)
	}
	if x, y := hottest(t, img); x != px || y != py {
		t.Errorf("hottest pixel at (%d,%d), want (%d,%d)", x, y, px, py)
	}
	if c := img.NRGBAAt(px, py); !redish(c) {
		t.Errorf("centre colour = %v, want red-ish", c)
	}

	// Inside the radius the blob shows, fading outwards; outside it the
	// image is untouched.
	for y := range 200 {
		for x := range 300 {
			d2 := (x-px)*(x-px) + (y-py)*(y-py)
			c := img.NRGBAAt(x, y)
			switch {
			case d2 >= radius*radius && c.A != 0:
				t.Fatalf("pixel (%d,%d) outside the radius = %v, want transparent", x, y, c)
			case d2 <= radius*radius/4 && c.A == 0:
				t.Fatalf("pixel (%d,%d) within half the radius is transparent", x, y)
			}
		}
	}
	for dx := 1; dx < radius; dx++ {
		inner, outer := img.NRGBAAt(px+dx-1, py), img.NRGBAAt(px+dx, py)
		if outer.A > inner.A {
			t.Errorf("alpha rises from %d to %d at %d px from the centre", inner.A, outer.A, dx)
		}
	}
	if c := img.NRGBAAt(px+radius/2, py); c.B < c.R {
		t.Errorf("half way out colour = %v, want cooler than the centre", c)
	}
}

func TestRenderTwoCounts(t *testing.T) {
	img := Render([]Point{{X: 50, Y: 50, Count: 10}, {X: 250, Y: 50, Count: 1}}, 300, 100, 15)

	hot, cold := img.NRGBAAt(50, 50), img.NRGBAAt(250, 50)
	if hot.A <= cold.A || hot.R <= cold.R {
		t.Errorf("count 10 = %v, count 1 = %v; want the first hotter", hot, cold)
	}
	if !redish(hot) {
		t.Errorf("count 10 = %v, want red-ish", hot)
	}
	if cold.A == 0 || cold.B <= cold.R {
		t.Errorf("count 1 = %v, want visible and blue-ish", cold)
	}
}

func TestRenderSums(t *testing.T) {
	// Two equal points closer than the radius make one blob whose peak is
	// between them.
	img := Render([]Point{{X: 100, Y: 60, Count: 1}, {X: 110, Y: 60, Count: 1}}, 200, 120, 20)

	if x, y := hottest(t, img); x != 105 || y != 60 {
		t.Errorf("hottest pixel at (%d,%d), want (105,60) between the points", x, y)
	}
}

func TestRenderEmpty(t *testing.T) {
	tests := []struct {
		name          string
		points        []Point
		width, height int
		wantBounds    image.Rectangle
	}{
		{"no points", nil, 640, 480, image.Rect(0, 0, 640, 480)},
		{"zero counts", []Point{{X: 10, Y: 10}, {X: 20, Y: 20, Count: -3}}, 64, 48,
			image.Rect(0, 0, 64, 48)},
		{"all off the page", []Point{{X: -500, Y: 10, Count: 9}, {X: 10, Y: 900, Count: 9}},
			64, 48, image.Rect(0, 0, 64, 48)},
		{"wild coordinates", []Point{{X: math.MaxInt, Y: math.MinInt, Count: 1}}, 64, 48,
			image.Rect(0, 0, 64, 48)},
		{"zero width", []Point{{X: 1, Y: 1, Count: 1}}, 0, 48, image.Rectangle{}},
		{"negative height", []Point{{X: 1, Y: 1, Count: 1}}, 64, -1, image.Rectangle{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := Render(tt.points, tt.width, tt.height, 10)

			if img.Bounds() != tt.wantBounds {
				t.Errorf("bounds = %v, want %v", img.Bounds(), tt.wantBounds)
			}
			if !transparent(img) {
				t.Error("image is not fully transparent")
			}
		})
	}
}

func TestRenderEdges(t *testing.T) {
	img := Render([]Point{{X: 0, Y: 0, Count: 3}, {X: 99, Y: 49, Count: 3}}, 100, 50, 8)

	for _, p := range []image.Point{{0, 0}, {99, 49}} {
		if c := img.NRGBAAt(p.X, p.Y); !redish(c) {
			t.Errorf("corner %v = %v, want red-ish", p, c)
		}
	}
	if c := img.NRGBAAt(50, 25); c.A != 0 {
		t.Errorf("centre = %v, want transparent", c)
	}
}

func TestRenderTallPage(t *testing.T) {
	// A 1000×50000 page is scaled by 0.4 to fit MaxHeight.
	img := Render([]Point{{X: 500, Y: 25000, Count: 1}}, 1000, 50000, 25)

	if got := img.Bounds(); got != image.Rect(0, 0, 400, MaxHeight) {
		t.Fatalf("bounds = %v, want 400×%d", got, MaxHeight)
	}
	if x, y := hottest(t, img); x != 200 || y != 10000 {
		t.Errorf("hottest pixel at (%d,%d), want (200,10000)", x, y)
	}
	// The radius scales too: 25 × 0.4 = 10 pixels.
	if c := img.NRGBAAt(200+10, 10000); c.A != 0 {
		t.Errorf("pixel at the scaled radius = %v, want transparent", c)
	}
	if c := img.NRGBAAt(200+8, 10000); c.A == 0 {
		t.Error("pixel inside the scaled radius is transparent")
	}
}

// clicksFromRecording reads the clicks of a posthog-js recording as heatmap
// points, one per distinct position, with the viewport it was recorded in.
func clicksFromRecording(tb testing.TB) (points []Point, width, height int) {
	tb.Helper()

	f, err := os.Open(recording)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("open corpus: %v", err)
		}
		tb.Skipf("corpus missing (set CI=true to fail instead): %v", err)
	}
	defer f.Close()

	type event struct {
		Type int `json:"type"`
		Data struct {
			Source *int    `json:"source"`
			Type   *int    `json:"type"`
			X      float64 `json:"x"`
			Y      float64 `json:"y"`
			Width  int     `json:"width"`
			Height int     `json:"height"`
		} `json:"data"`
	}
	counts := map[image.Point]int64{}
	lines := bufio.NewScanner(f)
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		var window struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(lines.Bytes(), &window); err != nil {
			tb.Fatalf("decode window: %v", err)
		}
		for _, raw := range window.Data {
			var e event
			if err := json.Unmarshal(raw, &e); err != nil {
				tb.Fatalf("decode event: %v", err)
			}
			switch {
			case e.Type == 4: // Meta: the viewport
				width, height = e.Data.Width, e.Data.Height
			case e.Type == 3 && e.Data.Source != nil && *e.Data.Source == 2 &&
				e.Data.Type != nil && *e.Data.Type == 2: // MouseInteraction Click
				counts[image.Pt(int(e.Data.X), int(e.Data.Y))]++
			}
		}
	}
	if err := lines.Err(); err != nil {
		tb.Fatalf("read corpus: %v", err)
	}

	for p, n := range counts {
		points = append(points, Point{X: p.X, Y: p.Y, Count: n})
	}
	return points, width, height
}

func TestRenderRecordedClicks(t *testing.T) {
	points, width, height := clicksFromRecording(t)
	if len(points) != 3 || width != 2560 || height != 1304 {
		t.Fatalf("recording gave %v in %d×%d, want 3 click positions in 2560×1304",
			points, width, height)
	}

	img := Render(points, width, height, 20)

	// The session clicked (729,124) three times, (852,133) twice and
	// (1618,299) once.
	if x, y := hottest(t, img); x != 729 || y != 124 {
		t.Errorf("hottest pixel at (%d,%d), want the thrice-clicked (729,124)", x, y)
	}
	three, two, one := img.NRGBAAt(729, 124), img.NRGBAAt(852, 133), img.NRGBAAt(1618, 299)
	if !redish(three) {
		t.Errorf("(729,124) = %v, want red-ish", three)
	}
	if !(three.A > two.A && two.A > one.A && one.A > 0) {
		t.Errorf("alphas %d, %d, %d for 3, 2 and 1 clicks; want decreasing and visible",
			three.A, two.A, one.A)
	}
	if c := img.NRGBAAt(100, 1200); c.A != 0 {
		t.Errorf("unclicked corner = %v, want transparent", c)
	}
}

func TestEncodePNG(t *testing.T) {
	img := Render([]Point{{X: 40, Y: 30, Count: 2}, {X: 90, Y: 70, Count: 1}}, 160, 100, 12)

	var buf bytes.Buffer
	if err := EncodePNG(&buf, img); err != nil {
		t.Fatalf("EncodePNG: %v", err)
	}
	decoded, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("png.Decode: %v", err)
	}

	if decoded.Bounds() != img.Bounds() {
		t.Fatalf("decoded bounds = %v, want %v", decoded.Bounds(), img.Bounds())
	}
	for _, p := range []image.Point{{40, 30}, {90, 70}, {45, 30}, {0, 0}, {159, 99}} {
		got := color.NRGBAModel.Convert(decoded.At(p.X, p.Y)).(color.NRGBA)
		if want := img.NRGBAAt(p.X, p.Y); got != want {
			t.Errorf("pixel %v = %v after the round trip, want %v", p, got, want)
		}
	}
}

// benchmarkPoints returns n points with counts 1..100 spread over a w×h
// page, the same on every run.
func benchmarkPoints(n, w, h int) []Point {
	rng := rand.New(rand.NewPCG(1, 2))
	points := make([]Point, n)
	for i := range points {
		points[i] = Point{X: rng.IntN(w), Y: rng.IntN(h), Count: 1 + rng.Int64N(100)}
	}
	return points
}

func BenchmarkRender(b *testing.B) {
	points := benchmarkPoints(10_000, 1440, 5000)
	b.ReportAllocs()

	for b.Loop() {
		Render(points, 1440, 5000, 25)
	}
}

func BenchmarkEncodePNG(b *testing.B) {
	img := Render(benchmarkPoints(10_000, 1440, 5000), 1440, 5000, 25)
	var buf bytes.Buffer
	b.ReportAllocs()

	for b.Loop() {
		buf.Reset()
		if err := EncodePNG(&buf, img); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "png-bytes")
}
