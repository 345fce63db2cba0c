package heatmap

import (
	"math"
	"testing"
)

func TestBucket(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want int
	}{
		{"zero", 0, 0},
		{"one", 1, 1000},
		{"half", 0.5, 500},
		{"rounds down", 0.1234, 123},
		{"rounds up", 0.1235, 124},
		{"just above zero", 0.0004, 0},
		{"just below one", 0.9996, 1000},
		{"negative", -0.2, 0},
		{"above one", 1.7, 1000},
		{"NaN", math.NaN(), 0},
		{"plus infinity", math.Inf(1), 1000},
		{"minus infinity", math.Inf(-1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Bucket(tt.in); got != tt.want {
				t.Errorf("Bucket(%v) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestDepthBucket(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want int
	}{
		{"top", 0, 0},
		{"bottom", 100, 100},
		{"middle", 42, 42},
		{"float noise at the bottom", 99.99999, 100},
		{"rounds down", 37.4, 37},
		{"rounds up", 37.5, 38},
		{"negative (overscroll)", -3, 0},
		{"over 100 (overscroll)", 104.2, 100},
		{"NaN", math.NaN(), 0},
		{"infinity", math.Inf(1), 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DepthBucket(tt.in); got != tt.want {
				t.Errorf("DepthBucket(%v) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
