package display

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/daemon/daemontest"
)

var updateScreenshots = flag.Bool("update-screenshots", false,
	"write the kiosk screenshots to docs/screenshots (otherwise a temporary directory)")

// screenshotDir is where the screenshots go: the repository's
// docs/screenshots with -update-screenshots, else a temporary directory.
func screenshotDir(t *testing.T) string {
	if !*updateScreenshots {
		return t.TempDir()
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// expectedFamily is the font the page names first (style.css, index.html)
// and the package recommends (Debian fonts-noto-cjk).
const expectedFamily = "Noto Sans CJK JP"

// missingGlyphsJS returns, for the text of the elements matching a
// selector, the characters that render as the missing-glyph box. Each
// character is drawn on a canvas in the element's computed font and its
// pixels compared with two code points no font covers (U+0378, unassigned;
// U+10FFFD, private use plane 16): where no font has a glyph, Chromium
// draws the same .notdef box for any code point, so a character whose
// drawing equals that box's is missing. The two references must draw
// alike (else the detector cannot work here and says so).
const missingGlyphsJS = `(function (selector, extra) {
  const els = Array.from(document.querySelectorAll(selector));
  const canvas = document.createElement("canvas");
  canvas.width = 96; canvas.height = 96;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  function draw(ch, font) {
    ctx.clearRect(0, 0, 96, 96);
    ctx.font = font;
    ctx.fillStyle = "#000";
    ctx.textBaseline = "middle";
    ctx.fillText(ch, 8, 48);
    return Array.from(ctx.getImageData(0, 0, 96, 96).data).join(",");
  }
  const out = { texts: [], missing: [], referencesAgree: true, inked: 0 };
  const items = els.map((e) => [e.textContent, getComputedStyle(e)]);
  if (extra) items.push([extra, getComputedStyle(els[0] || document.body)]);
  for (const [text, cs] of items) {
    const font = cs.fontWeight + " 64px " + cs.fontFamily;
    const refA = draw("\u0378", font), refB = draw("\u{10FFFD}", font);
    if (refA !== refB) out.referencesAgree = false;
    out.texts.push(text);
    for (const ch of Array.from(text)) {
      if (ch.trim() === "" || ch === "…") continue;
      const px = draw(ch, font);
      if (px === refA || px === refB) out.missing.push(ch);
      else out.inked++;
    }
  }
  return JSON.stringify(out);
})`

type glyphReport struct {
	Texts           []string `json:"texts"`
	Missing         []string `json:"missing"`
	ReferencesAgree bool     `json:"referencesAgree"`
	Inked           int      `json:"inked"`
}

func evalJSON(t *testing.T, c *cdp, session, expr string, out any) {
	t.Helper()
	var r struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails json.RawMessage `json:"exceptionDetails"`
	}
	if err := c.call(session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.ExceptionDetails) > 0 {
		t.Fatalf("evaluating %.60q: %s", expr, r.ExceptionDetails)
	}
	if err := json.Unmarshal([]byte(r.Result.Value), out); err != nil {
		t.Fatalf("result %q: %v", r.Result.Value, err)
	}
}

func missingGlyphs(t *testing.T, c *cdp, session, selector, extra string) glyphReport {
	t.Helper()
	var g glyphReport
	sel, _ := json.Marshal(selector)
	ex, _ := json.Marshal(extra)
	evalJSON(t, c, session, fmt.Sprintf("%s(%s, %s)", missingGlyphsJS, sel, ex), &g)
	return g
}

// platformFonts asks the renderer which fonts drew the text under the
// first element matching selector (DevTools CSS.getPlatformFontsForNode).
func platformFonts(t *testing.T, c *cdp, session, selector string) map[string]int {
	t.Helper()
	var doc struct {
		Root struct {
			NodeID int `json:"nodeId"`
		} `json:"root"`
	}
	if err := c.call(session, "DOM.getDocument", map[string]any{"depth": 0}, &doc); err != nil {
		t.Fatal(err)
	}
	var q struct {
		NodeID int `json:"nodeId"`
	}
	if err := c.call(session, "DOM.querySelector", map[string]any{"nodeId": doc.Root.NodeID, "selector": selector}, &q); err != nil || q.NodeID == 0 {
		t.Fatalf("querySelector %s: %v", selector, err)
	}
	var pf struct {
		Fonts []struct {
			FamilyName string `json:"familyName"`
			GlyphCount int    `json:"glyphCount"`
		} `json:"fonts"`
	}
	if err := c.call(session, "CSS.getPlatformFontsForNode", map[string]any{"nodeId": q.NodeID}, &pf); err != nil {
		t.Fatal(err)
	}
	fonts := map[string]int{}
	for _, f := range pf.Fonts {
		fonts[f.FamilyName] += f.GlyphCount
	}
	return fonts
}

// checkJapanese fails the test when a Japanese line of the page renders
// as missing glyphs or in another font than the one the page expects.
func checkJapanese(t *testing.T, c *cdp, session, state string) {
	t.Helper()
	g := missingGlyphs(t, c, session, `[lang="ja"]:not([hidden]):not(:empty)`, "")
	if !g.ReferencesAgree {
		t.Fatalf("%s: the missing-glyph references draw differently; the check cannot work in this browser", state)
	}
	if len(g.Missing) > 0 || g.Inked == 0 {
		t.Errorf("%s: Japanese text %q renders %d characters as missing glyphs (%q): install fonts-noto-cjk",
			state, g.Texts, len(g.Missing), g.Missing)
	}
	fonts := platformFonts(t, c, session, "#title-ja")
	for fam, n := range fonts {
		if fam != expectedFamily && n > 0 {
			t.Errorf("%s: #title-ja drew %d glyphs with %q, want only %q (fonts-noto-cjk): %v", state, n, fam, expectedFamily, fonts)
		}
	}
	if fonts[expectedFamily] == 0 {
		t.Errorf("%s: #title-ja not drawn with %q: %v", state, expectedFamily, fonts)
	}
}

// checkIcon fails when the state's icon is not the one SVG shown, or when
// the icon holds text (an emoji would depend on the installed fonts).
func checkIcon(t *testing.T, c *cdp, session, state string) {
	t.Helper()
	var r struct {
		Shown []string `json:"shown"`
		W, H  float64
		Text  string `json:"text"`
	}
	evalJSON(t, c, session, `JSON.stringify((() => {
  const shown = Array.from(document.querySelectorAll("#icon svg")).filter((s) => getComputedStyle(s).display !== "none");
  const b = shown.length ? shown[0].getBoundingClientRect() : { width: 0, height: 0 };
  return { shown: shown.map((s) => s.getAttribute("class")), W: b.width, H: b.height,
           text: document.getElementById("icon").textContent.trim() };
})())`, &r)
	if len(r.Shown) != 1 || r.Shown[0] != "icon icon-"+state || r.W < 32 || r.H < 32 || r.Text != "" {
		t.Errorf("%s: icon %+v, want one SVG icon-%s at least 32 px", state, r, state)
	}
}

// screenshot saves the page as PNG and checks it has the viewport's size
// and is not blank.
func screenshot(t *testing.T, c *cdp, session, path string, w, h int) {
	t.Helper()
	var r struct {
		Data string `json:"data"`
	}
	if err := c.call(session, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if got := img.Bounds().Size(); got.X != w || got.Y != h {
		t.Errorf("screenshot %s is %v, want %dx%d", path, got, w, h)
	}
	colors := map[color.RGBA]bool{}
	for y := 0; y < h && len(colors) < 3; y += 7 {
		for x := 0; x < w; x += 7 {
			r, g, b, a := img.At(x, y).RGBA()
			colors[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}] = true
		}
	}
	if len(colors) < 3 {
		t.Errorf("screenshot %s looks blank", path)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// portraitJPEG is a drawn head-and-shoulders silhouette, a stand-in for
// the portrait of a document (no real person).
func portraitJPEG(t *testing.T) []byte {
	t.Helper()
	const w, h = 240, 300
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	bg, fg := color.RGBA{0xdd, 0xe3, 0xea, 0xff}, color.RGBA{0x6b, 0x7a, 0x8c, 0xff}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := float64(x-w/2), float64(y-115)
			head := dx*dx/(58*58)+dy*dy/(72*72) <= 1
			sx, sy := float64(x-w/2), float64(y-330)
			shoulders := sx*sx/(115*115)+sy*sy/(120*120) <= 1
			if head || shoulders {
				img.Set(x, y, fg)
			} else {
				img.Set(x, y, bg)
			}
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestChromiumScreenshots walks the page through every state at the two
// kiosk screen sizes (the Raspberry Pi 7" display, a 10" tablet-sized
// one), takes a screenshot of each, and fails when a Japanese line renders
// as missing glyphs (or not in Noto Sans CJK JP) or an icon is not its
// SVG. `go test ./api/display -run Screenshots -update-screenshots`
// refreshes docs/screenshots.
func TestChromiumScreenshots(t *testing.T) {
	dir := screenshotDir(t)
	portrait := portraitJPEG(t)
	for _, size := range [][2]int{{800, 480}, {1280, 800}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			f := daemontest.New([]string{"counter-1"}, nil)
			srv := httptest.NewServer(New(Options{Service: f, ClearAfter: time.Hour}))
			t.Cleanup(srv.Close)
			c, session := startChromium(t, srv.URL+"/")
			for _, m := range []string{"DOM.enable", "CSS.enable", "Page.enable"} {
				if err := c.call(session, m, map[string]any{}, nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.call(session, "Emulation.setDeviceMetricsOverride", map[string]any{
				"width": w, "height": h, "deviceScaleFactor": 1, "mobile": false,
			}, nil); err != nil {
				t.Fatal(err)
			}
			waitView(t, c, session, "ready", func(v pageView) bool { return v.State == StateReady })
			waitFor(t, "the page's subscription", func() bool { return f.Subscribers() == 1 })

			// The detector itself: code points no font has must be found
			// missing, and a Japanese phrase must not.
			if g := missingGlyphs(t, c, session, "#title-ja", "\uE000\U0010FFFD"); !slices.Contains(g.Missing, "\uE000") || !slices.Contains(g.Missing, "\U0010FFFD") {
				t.Fatalf("the missing-glyph detector does not flag U+E000 and U+10FFFD: %+v", g)
			}

			steps := []struct {
				state string
				emit  func()
				ready func(pageView) bool
			}{
				{StateReady, func() {}, func(v pageView) bool { return v.State == StateReady }},
				{StateReading, func() {
					f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventReading, Profile: "age-20"})
				}, func(v pageView) bool { return v.State == StateReading }},
				{StateAccept, func() {
					f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "accept", Profile: "identity",
						Personal: &daemon.Personal{Name: "YAMADA Hanako", Portrait: portrait}})
				}, func(v pageView) bool { return v.State == StateAccept && v.Portrait }},
				{StateReject, func() {
					f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "reject", Profile: "age-20",
						Reasons: []string{"age_not_met", "document_expired"}})
				}, func(v pageView) bool { return v.State == StateReject && strings.Contains(v.Reasons, "年齢") }},
				{StateDown, func() {
					f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventReaderDown})
				}, func(v pageView) bool { return v.State == StateDown }},
			}
			for _, st := range steps {
				st.emit()
				waitView(t, c, session, st.state, st.ready)
				// Fonts load asynchronously; wait for them before judging.
				var ok bool
				evalJSON(t, c, session, `document.fonts.ready.then(() => "true")`, &ok)
				checkJapanese(t, c, session, st.state)
				checkIcon(t, c, session, st.state)
				screenshot(t, c, session, filepath.Join(dir, fmt.Sprintf("%s-%dx%d.png", st.state, w, h)), w, h)
			}
		})
	}
}
