// Package web is Latchkey's HTTP layer: routing, middleware (request IDs,
// logging, metrics, authentication, CSRF, rate limits), the JSON API and the
// server-rendered pages. Handlers translate; account.Service decides.
package web

import (
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/prometheus/client_golang/prometheus"
)

// Options are the Server's dependencies and settings.
type Options struct {
	Accounts *account.Service
	Log      *slog.Logger
	// BaseURL is the public address of Latchkey; links and cookie security
	// follow from it, never from the request's Host header.
	BaseURL *url.URL
	// Registry receives the HTTP metrics; /metrics serves Gatherer.
	Registry prometheus.Registerer
	Gatherer prometheus.Gatherer
	// IPLimits are the per-client-IP token buckets; nil turns them off.
	IPLimits IPLimits
	// TrustedProxies are peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	SessionTTL     time.Duration
	// Clock drives rate limits; nil is the system clock.
	Clock account.Clock
}

// Server is Latchkey's HTTP handler.
type Server struct {
	accounts *account.Service
	log      *slog.Logger
	baseURL  *url.URL
	secure   bool
	limits   *limiter
	proxies  []netip.Prefix
	ttl      time.Duration
	pages    map[string]*template.Template
	metrics  *metrics
	gatherer prometheus.Gatherer
	mux      *http.ServeMux
	handler  http.Handler
}

// NewServer returns the Server, with its templates parsed and checked.
func NewServer(o Options) (*Server, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = account.SystemClock{}
	}
	if o.Registry == nil {
		r := prometheus.NewRegistry()
		o.Registry, o.Gatherer = r, r
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = account.DefaultConfig().SessionTTL
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(o.Registry)
	if err != nil {
		return nil, err
	}
	s := &Server{
		accounts: o.Accounts,
		log:      o.Log,
		baseURL:  o.BaseURL,
		secure:   o.BaseURL != nil && o.BaseURL.Scheme == "https",
		limits:   newLimiter(o.IPLimits, o.Clock),
		proxies:  o.TrustedProxies,
		ttl:      o.SessionTTL,
		pages:    pages,
		metrics:  m,
		gatherer: o.Gatherer,
		mux:      http.NewServeMux(),
	}
	s.routes()
	s.handler = s.middleware(s.mux)
	return s, nil
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
