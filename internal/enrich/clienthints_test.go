package enrich

import (
	"strings"
	"testing"
)

// osGroup folds the operating-system names of Parse and of the
// device-detector fixtures into one family per system, since the two name
// the same system differently ("Mac OS X" and "Mac", "Linux" and
// "GNU/Linux", "Fire OS" for Amazon's Android).
func osGroup(name string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(lower, "windows"):
		return "windows"
	case lower == "mac" || lower == "mac os x" || lower == "macos":
		return "mac"
	case lower == "ios" || lower == "ipados":
		return "ios"
	case strings.HasPrefix(lower, "android") || lower == "fire os" || lower == "meta horizon":
		return "android"
	case lower == "chrome os" || lower == "chromium os":
		return "chromeos"
	case lower == "linux" || lower == "gnu/linux" || lower == "fedora" || lower == "ubuntu" ||
		lower == "debian":
		return "linux"
	}
	return lower
}

// clientHintsCase is one entry of the device-detector client-hints fixture.
type clientHintsCase struct {
	UserAgent string            `yaml:"user_agent"`
	Headers   map[string]string `yaml:"headers"`
	OS        struct {
		Name    string `yaml:"name"`
		Version string `yaml:"version"`
	} `yaml:"os"`
	Device struct {
		Type string `yaml:"type"`
	} `yaml:"device"`
}

// hints returns the client hints of a fixture case as Parse takes them.
func (c clientHintsCase) hints() Hints {
	header := func(name string) string {
		for key, value := range c.Headers {
			if strings.EqualFold(key, name) {
				return value
			}
		}
		return ""
	}
	return Hints{
		UA:              header("Sec-CH-UA"),
		Mobile:          header("Sec-CH-UA-Mobile"),
		Platform:        header("Sec-CH-UA-Platform"),
		PlatformVersion: header("Sec-CH-UA-Platform-Version"),
		Model:           header("Sec-CH-UA-Model"),
	}
}

// clientHintsRates counts, over the fixture cases with hints, how many get
// the operating system, its major version and the device class right.
type clientHintsRates struct {
	cases, osRight, versionCases, versionRight, deviceCases, deviceRight int
}

func measureClientHints(t *testing.T, parser *Parser, cases []clientHintsCase, useHints bool,
	include func(clientHintsCase) bool) clientHintsRates {
	t.Helper()

	var rates clientHintsRates
	logged := 0
	for _, c := range cases {
		h := c.hints()
		if h == (Hints{}) || !include(c) {
			continue
		}
		if !useHints {
			h = Hints{}
		}
		client := parser.Parse(c.UserAgent, h)
		rates.cases++

		if osGroup(client.OS) == osGroup(c.OS.Name) {
			rates.osRight++
		} else if useHints && logged < 10 {
			logged++
			t.Logf("os %q, want %q: %q %+v", client.OS, c.OS.Name, c.UserAgent, h)
		}
		if c.OS.Version != "" {
			rates.versionCases++
			if majorOf(client.OSVersion) == majorOf(c.OS.Version) {
				rates.versionRight++
			}
		}
		if want := deviceDetectorClass(c.Device.Type); want != "" {
			rates.deviceCases++
			if client.Device == want {
				rates.deviceRight++
			} else if useHints && logged < 10 {
				logged++
				t.Logf("device %s, want %s (%s): %q %+v", client.Device, want, c.Device.Type, c.UserAgent, h)
			}
		}
	}
	return rates
}

// isReducedUserAgent reports whether a user agent is in the frozen form
// browsers send once they send client hints: Android version 10 and model
// "K" whatever the real ones are.
func isReducedUserAgent(userAgent string) bool {
	return strings.Contains(userAgent, "Android 10; K)")
}

func TestParseClientHintsFixtures(t *testing.T) {
	parser := newTestParser(t)
	var cases []clientHintsCase
	readCorpusYAML(t, "device-detector/Tests/fixtures/clienthints.yml", &cases)

	all := func(clientHintsCase) bool { return true }
	reduced := func(c clientHintsCase) bool { return isReducedUserAgent(c.UserAgent) }
	runs := []struct {
		name     string
		useHints bool
		include  func(clientHintsCase) bool
		rates    clientHintsRates
	}{
		{name: "all, user agent only", include: all},
		{name: "all, user agent and hints", useHints: true, include: all},
		{name: "reduced user agents, user agent only", include: reduced},
		{name: "reduced user agents, user agent and hints", useHints: true, include: reduced},
	}
	for i := range runs {
		run := &runs[i]
		run.rates = measureClientHints(t, parser, cases, run.useHints, run.include)
		r := run.rates
		t.Logf("clienthints.yml, %s: OS family %d/%d (%.1f %%), OS major %d/%d (%.1f %%), "+
			"device class %d/%d (%.1f %%)", run.name,
			r.osRight, r.cases, percent(r.osRight, r.cases),
			r.versionRight, r.versionCases, percent(r.versionRight, r.versionCases),
			r.deviceRight, r.deviceCases, percent(r.deviceRight, r.deviceCases))
	}

	// Floors a little under what the parser reaches today, for the runs that
	// use hints: all cases, and the reduced user agents where only the hints
	// know the truth.
	for _, run := range []struct {
		rates                        clientHintsRates
		minCases                     int
		minOS, minVersion, minDevice float64
	}{
		{rates: runs[1].rates, minCases: 140, minOS: 95, minVersion: 95, minDevice: 92},
		{rates: runs[3].rates, minCases: 100, minOS: 98, minVersion: 98, minDevice: 92},
	} {
		r := run.rates
		if r.cases < run.minCases {
			t.Fatalf("want %d+ cases, got %d", run.minCases, r.cases)
		}
		if rate := percent(r.osRight, r.cases); rate < run.minOS {
			t.Errorf("OS family right for %.1f %%, want at least %.0f %%", rate, run.minOS)
		}
		if rate := percent(r.versionRight, r.versionCases); rate < run.minVersion {
			t.Errorf("OS major right for %.1f %%, want at least %.0f %%", rate, run.minVersion)
		}
		if rate := percent(r.deviceRight, r.deviceCases); rate < run.minDevice {
			t.Errorf("device class right for %.1f %%, want at least %.0f %%", rate, run.minDevice)
		}
	}
}
