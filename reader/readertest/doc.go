// Package readertest holds fakes of the reader contract for tests: a
// scripted Target ([Script]) with ordered command/response expectations and
// programmable removal and errors, a Reader that hands out queued targets
// ([Reader]), and strict, ordered recording and playback of APDU transcripts
// ([Record], [Playback], [Golden]) in a readable hex format:
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
package readertest
