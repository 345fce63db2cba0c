package process

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the processor's Prometheus metrics.
type Metrics struct {
	batches prometheus.Counter
	dropped *prometheus.CounterVec
	errors  prometheus.Counter
	lag     prometheus.Histogram
}

// NewMetrics creates the metrics and registers them on reg (nil: not
// registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "loupe_process_batches_total",
			Help: "Batches written to the stores.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loupe_process_dropped_total",
			Help: "Batches or events not written, by reason (bot, spam, duplicate, ...).",
		}, []string{"reason"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "loupe_process_errors_total",
			Help: "Groups of log messages whose write failed and will be retried.",
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "loupe_process_lag_seconds",
			Help:    "Time from log append to processing.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 16),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.batches, m.dropped, m.errors, m.lag)
	}
	return m
}
