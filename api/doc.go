// Package api is the daemon's local HTTP JSON API for the point of sale:
// start a check with a profile and wait for its result, read the last
// result, stream events, cancel the waiting check, list readers, plus
// /healthz and Prometheus /metrics. It consumes a daemon.Service and may
// mount the kiosk display (api/display) at "/".
//
// # Routes
//
//	POST   /v1/checks          {"profile": NAME, "timeout": "30s", "reader": NAME?}
//	                           200 CheckResult JSON (verify.Report + id, reader, profile,
//	                               decision, reasons, started, finished)
//	                           400 bad_request (bad JSON, unknown field, bad timeout)
//	                           404 unknown_profile / unknown_reader
//	                           409 busy (a check already waits on that reader)
//	                           410 cancelled (DELETE /v1/checks/current ended it)
//	                           413 too_large, 415 unsupported_media_type
//	                           504 timeout (no tap within the timeout)
//	                           500 check_failed (any other error of the Service)
//	GET    /v1/results/last    200 CheckResult, 404 no_result
//	GET    /v1/events          200 text/event-stream of daemon.Event JSON
//	                               (never Event.Personal), ": heartbeat" comments
//	DELETE /v1/checks/current  204, 404 no_check
//	GET    /v1/readers         200 {"readers": [{"name", "up", "state"}]}
//	GET    /healthz            200 / 503 {"status": "ok"|"down", "readers": [...],
//	                           "build": {"version", "commit", "goversion"},
//	                           "trust": [{"name", "kind", "ageSeconds", "stale", ...}], "trustStale"}
//	                           (daemon.ReaderStatus; "reason" says why a reader is down; trust only
//	                           with Options.Trust, and a stale source does not make it 503)
//	GET    /metrics            Prometheus text format (when Options.Metrics is set)
//	/                          the kiosk display (when Options.Display is set)
//
// Every error is {"error": {"code": CODE, "detail": TEXT}}; 403 is
// forbidden (see Who may call); 405 carries an
// Allow header, 401 a WWW-Authenticate: Bearer header. A client that goes
// away while its check waits cancels the check (the Service sees its
// context end); nothing is written back.
//
// # Who may call
//
// Without a token the API may only listen on loopback or a Unix socket
// ([ListenTCP] refuses anything else) and serves local clients only. With a
// token, every route except /healthz requires "Authorization: Bearer TOKEN"
// on every listener, loopback and Unix socket included; tokens are compared
// in constant time. The display at "/" is the one exception: it is served to
// loopback and Unix-socket clients without the token (the kiosk browser on
// the same box cannot send one) and to other clients only with it.
//
// A web browser on the box is a loopback client too, so trust by locality
// (no token; the display without the token) also requires a request that
// is not another site's web page: a Host that is a loopback name
// (127.0.0.1, ::1, localhost; a site rebound to 127.0.0.1 by DNS sends
// its own name) and, when a browser sends them, an Origin equal to the
// Host and Sec-Fetch-Site same-origin or none. Other requests get 403
// forbidden. Unix-socket clients are exempt (no browser reaches them);
// with a token, the token decides.
//
// # Personal data
//
// A CheckResult holds what the profile disclosed. POST /v1/checks returns it
// only to the request that asked. GET /v1/results/last returns it to the
// same class of caller, an authorized one (the token, or a local client when
// no token is configured): anyone who may start a check may read the last
// result, nobody else. /v1/events streams daemon.Event, which never carries
// Personal; metrics carry codes only.
package api
