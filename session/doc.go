// Package session is the session layer of ISO/IEC 18013-5 clause 9.1.1: the
// SessionTranscript, ephemeral key agreement on the curve of EDeviceKey,
// SKReader/SKDevice derivation, AES-256-GCM with per-direction counters, the
// SessionEstablishment and SessionData messages, and reader authentication
// (clause 9.1.4).
//
// [Reader] is the verifier's side, [Device] the mdoc's side (used by the
// simulated wallet). Both are pure: randomness comes in as an io.Reader, and
// every transcript item is built from bytes exactly as they were received.
package session
