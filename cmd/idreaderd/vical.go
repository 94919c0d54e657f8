package main

import "github.com/idreader/idreader/trust/fetch"

// vicalFunc verifies VICAL sources. None is wired yet: a configured VICAL
// source then reports "no VICAL verifier" in its status and gives no
// anchors.
var vicalFunc fetch.VICALFunc
