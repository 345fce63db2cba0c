// Package enrich turns the raw facts of a request into the fields Loupe
// reports on: browser, operating system, device class and bot flag from the
// user agent and client hints; referrer host, source and spam flag; the page
// key heatmaps group by; UTM tags; the visitor's address behind trusted
// proxies; and the country of that address.
//
// It owns parsing and classification only. It keeps no addresses, writes
// nothing and talks to no store: the ingest endpoint calls ClientIP and
// Geo.Country on the hot path, and the processor calls the rest off it.
package enrich
