package credential

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
)

// Portrait size and JPEG quality of the sample portrait.
const (
	portraitWidth   = 96
	portraitHeight  = 120
	portraitQuality = 80
)

// Portrait draws the sample portrait, a plain cartoon face (nobody's
// likeness), and encodes it as a baseline JPEG. The output is the same on
// every call: the drawing is fixed and image/jpeg is deterministic.
func Portrait() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, portraitWidth, portraitHeight))
	var (
		background = color.RGBA{0xd8, 0xe4, 0xf0, 0xff}
		skin       = color.RGBA{0xe8, 0xc0, 0x9c, 0xff}
		hair       = color.RGBA{0x4a, 0x32, 0x22, 0xff}
		shirt      = color.RGBA{0x2c, 0x4a, 0x7a, 0xff}
		eye        = color.RGBA{0x20, 0x20, 0x28, 0xff}
		mouth      = color.RGBA{0xa0, 0x40, 0x40, 0xff}
	)
	cx, cy := portraitWidth/2, 52
	for y := range portraitHeight {
		for x := range portraitWidth {
			c := background
			switch {
			case inEllipse(x, y, cx, portraitHeight+10, 46, 34): // shoulders
				c = shirt
			case inEllipse(x, y, cx, 86, 9, 12): // neck
				c = skin
			case inEllipse(x, y, cx, cy-6, 30, 34) && y < cy-12: // hair
				c = hair
			case inEllipse(x, y, cx, cy, 26, 34): // face
				c = skin
				switch {
				case inEllipse(x, y, cx-10, cy-4, 4, 3), inEllipse(x, y, cx+10, cy-4, 4, 3):
					c = eye
				case inEllipse(x, y, cx, cy+18, 10, 3) && y >= cy+18:
					c = mouth
				case x == cx && y >= cy && y < cy+9: // nose
					c = color.RGBA{0xc8, 0x98, 0x78, 0xff}
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: portraitQuality}); err != nil {
		return nil, fmt.Errorf("encoding portrait: %w", err)
	}
	return buf.Bytes(), nil
}

// inEllipse reports whether (x, y) lies in the ellipse centred on (cx, cy)
// with radii rx, ry.
func inEllipse(x, y, cx, cy, rx, ry int) bool {
	dx, dy := x-cx, y-cy
	return dx*dx*ry*ry+dy*dy*rx*rx <= rx*rx*ry*ry
}
