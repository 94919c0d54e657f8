// Package apdulog is the readable hex format of APDU transcripts, shared by
// the golden tests of reader/readertest and by `idreader read --record` /
// `idreader replay`, which must not link the testing package:
//
//	# a comment
//	> 00a4040007a0000002480400 00
//	< 9000
//	> 80ee0000
//	! removed
//
// Each exchange is a '>' line (the command) and then either a '<' line (the
// response) or a '!' line (the error the target returned: removed,
// no-reader, service-unavailable, timeout, or any other text). Hex may be
// split by spaces; '#' starts a comment line.
//
// [Recorder] wraps a transceiver and keeps what crossed it; [Player] replays
// a transcript strictly in order.
package apdulog
