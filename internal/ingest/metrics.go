package ingest

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the ingest endpoint's Prometheus metrics.
type Metrics struct {
	requests   *prometheus.CounterVec
	duration   prometheus.Histogram
	rejected   *prometheus.CounterVec
	batchBytes prometheus.Histogram
}

// NewMetrics creates the metrics and registers them on reg (nil: not
// registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loupe_ingest_requests_total",
			Help: "Ingest requests by HTTP status.",
		}, []string{"code"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "loupe_ingest_request_duration_seconds",
			Help:    "Time from request to answer on POST /i, log append included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loupe_ingest_rejected_total",
			Help: "Ingest requests refused, by reason.",
		}, []string{"reason"}),
		batchBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "loupe_ingest_batch_bytes",
			Help:    "Decompressed size of accepted batches.",
			Buckets: prometheus.ExponentialBuckets(256, 4, 9),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.rejected, m.batchBytes)
	}
	return m
}

func (m *Metrics) observe(status int, took time.Duration) {
	m.requests.WithLabelValues(strconv.Itoa(status)).Inc()
	m.duration.Observe(took.Seconds())
}
