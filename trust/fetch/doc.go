// Package fetch keeps the daemon's trust current, offline first: IACA
// folders, VICALs, CRLs and MSO status lists, each a [Source] with a
// refresh interval and a maximum age.
//
// Every fetched copy is verified before it is used (a CRL against the IACA
// that issued it, a status list token by its signature and x5chain, a
// VICAL by the verifier the wiring supplies) and then written atomically
// (temporary file, then rename) to a cache directory. A fetch that fails or
// returns something invalid or older changes nothing: the last good copy
// stays in force. At start the [Manager] builds its first [Snapshot] from
// the folders and the cache alone, with no network, so the daemon decides
// from what it had.
//
// A Snapshot is immutable: a trust store with per-anchor metadata and a
// revocation set. Each refresh that changes something builds a new one and
// hands it to Options.OnSwap, so a tap in progress finishes with the
// snapshot it started with. Past its maximum age a source is stale: its
// CRLs and lists no longer prove "not revoked" (the profile's hard or soft
// rule applies), and [Manager.Status] reports it for /healthz and the
// metrics ([Manager.Collector]).
//
// This is an edge package: it does HTTP (through the injected http.Client)
// and file I/O, with an injected clock. It never logs; failures are kept
// in the source status.
package fetch
