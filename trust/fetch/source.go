package fetch

import (
	"crypto/x509"
	"time"

	"github.com/idreader/idreader/verify"
)

// Kind is what a source holds.
type Kind string

// The kinds of sources.
const (
	KindFolder     Kind = "folder"      // IACA certificate files, read from disk
	KindVICAL      Kind = "vical"       // an ISO/IEC 18013-5 Annex C VICAL
	KindCRL        Kind = "crl"         // an IACA's certificate revocation list
	KindStatusList Kind = "status_list" // a status list or identifier list token
)

// Source is one place trust data comes from.
type Source struct {
	Kind Kind
	// URL is where a fetched source lives (http or https); Path the file or
	// directory of a folder source.
	URL  string
	Path string
	// Anchors are the certificates a VICAL's signer must chain to.
	Anchors []*x509.Certificate
	// Refresh is the interval between fetches; MaxAge how old the last
	// good copy may get before the source is stale. Zero takes
	// DefaultRefresh and DefaultMaxAge.
	Refresh, MaxAge time.Duration
	// Discovered marks a source added because a tap revealed its URL (a DS
	// certificate's CRL distribution point, an MSO status reference).
	Discovered bool
}

// Defaults of Source.Refresh and Source.MaxAge.
const (
	DefaultRefresh = 6 * time.Hour
	DefaultMaxAge  = 7 * 24 * time.Hour
)

// Name identifies the source in the cache, the status and the metrics:
// "folder:PATH" or "KIND:URL".
func (s Source) Name() string {
	if s.Kind == KindFolder {
		return string(KindFolder) + ":" + s.Path
	}
	return string(s.Kind) + ":" + s.URL
}

func (s Source) refresh() time.Duration {
	if s.Refresh <= 0 {
		return DefaultRefresh
	}
	return s.Refresh
}

func (s Source) maxAge() time.Duration {
	if s.MaxAge <= 0 {
		return DefaultMaxAge
	}
	return s.MaxAge
}

// Anchor is one trust anchor with what is known about it.
type Anchor struct {
	Cert *x509.Certificate
	Info verify.AnchorInfo
}

// VICALFunc verifies a VICAL (signature, signer chained to one of anchors,
// dates at now) and returns what the refresh needs of it. A VICAL past its
// own nextUpdate is no error: it is returned with NextUpdate set, and the
// manager counts it stale. [VerifyVICAL] is the default.
type VICALFunc func(data []byte, anchors []*x509.Certificate, now time.Time) (VICALResult, error)

// VICALResult is a verified VICAL as the refresh uses it.
type VICALResult struct {
	// Anchors are its IACAs with their metadata.
	Anchors []Anchor
	// Issued is its date (zero means the fetch time), by which an older
	// copy is refused.
	Issued time.Time
	// NextUpdate is when the next VICAL is due (ISO/IEC 18013-5 Annex C
	// nextUpdate), zero when absent. From then on the source is stale,
	// however recently it was fetched.
	NextUpdate time.Time
}

// SourceStatus is the state of one source at a time.
type SourceStatus struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Location is the URL or the path.
	Location   string `json:"location"`
	Discovered bool   `json:"discovered,omitempty"`
	// Loaded says a good copy is in force; FetchedAt is when it was last
	// fetched (or read, for a folder) and found good; Age is the time
	// since. AgeSecs is Age in seconds, nil (JSON null) for a source never
	// loaded, so that it cannot read as fresh.
	Loaded    bool          `json:"loaded"`
	FetchedAt time.Time     `json:"fetchedAt,omitzero"`
	Age       time.Duration `json:"-"`
	AgeSecs   *float64      `json:"ageSeconds"`
	MaxAge    time.Duration `json:"-"`
	// Stale is true past MaxAge, for a fetched source never loaded, and
	// for a VICAL past its own nextUpdate. Folders are never stale.
	Stale bool `json:"stale"`
	// Anchors is the number of trust anchors the source gave.
	Anchors int `json:"anchors"`
	// Failures counts failed fetches (network, HTTP status, invalid or
	// older data) since start; LastError is the latest one, empty after a
	// success.
	Failures  uint64 `json:"failures"`
	LastError string `json:"lastError,omitempty"`
}
