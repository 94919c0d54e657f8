package pn532

// Command codes, PN532 User Manual clause 7 (table 12). The response code
// is the command code plus one.
const (
	CmdDiagnose            = 0x00
	CmdGetFirmwareVersion  = 0x02
	CmdSAMConfiguration    = 0x14
	CmdRFConfiguration     = 0x32
	CmdInDataExchange      = 0x40
	CmdInPSL               = 0x4E
	CmdInListPassiveTarget = 0x4A
	CmdInRelease           = 0x52
)
