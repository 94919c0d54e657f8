package mdoc

// Doc types and name spaces: this package is their only home.
const (
	// DocTypeMDL is the mobile driving licence (ISO/IEC 18013-5 clause 7.1).
	DocTypeMDL = "org.iso.18013.5.1.mDL"
	// NameSpaceMDL is the mDL name space of its data elements (ISO/IEC
	// 18013-5 clause 7.2.1, table 5).
	NameSpaceMDL = "org.iso.18013.5.1"

	// DocTypeMyNumberCard is the Japanese My Number card as Apple Wallet
	// presents it (an ISO/IEC 23220 profile): common elements in
	// [NameSpace23220], Japanese ones in [NameSpace23220JP].
	DocTypeMyNumberCard = "org.iso.23220.1.jp.mnc"
	// NameSpace23220 is the ISO/IEC 23220-1 common name space.
	NameSpace23220 = "org.iso.23220.1"
	// NameSpace23220JP is the Japanese name space of the My Number card.
	NameSpace23220JP = "org.iso.23220.1.jp"
)
