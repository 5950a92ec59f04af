package demo

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
)

// Demo photos are generated, not shipped: a 320×240 JPEG with a colour
// gradient and a simple shape. "Before" pictures show a dark heap on a
// dusty ground, "after" pictures a clean pavement with a green verge.

const imgW, imgH = 320, 240

type photoSet struct {
	before [][]byte
	after  [][]byte
}

func makePhotos() (photoSet, error) {
	var ps photoSet
	beforeTones := []color.RGBA{{150, 130, 100, 255}, {120, 120, 125, 255}, {160, 140, 110, 255}}
	for i, tone := range beforeTones {
		b, err := encode(beforeImage(tone, i))
		if err != nil {
			return ps, err
		}
		ps.before = append(ps.before, b)
	}
	for i, tone := range []color.RGBA{{200, 205, 210, 255}, {190, 200, 195, 255}} {
		b, err := encode(afterImage(tone, i))
		if err != nil {
			return ps, err
		}
		ps.after = append(ps.after, b)
	}
	return ps, nil
}

func encode(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 88}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// texture is a small deterministic noise so the pictures look less flat
// (and compress like photos rather than like a test card).
func texture(x, y, seed int) int {
	h := uint32(x*374761393 + y*668265263 + seed*2246822519)
	h = (h ^ (h >> 13)) * 1274126177
	return int(h>>24)%17 - 8
}

func clamp(v int) uint8 {
	return uint8(max(0, min(255, v)))
}

func beforeImage(tone color.RGBA, variant int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, imgW, imgH))
	cx, cy := 110+variant*50, 160-variant*10
	for y := 0; y < imgH; y++ {
		for x := 0; x < imgW; x++ {
			var c color.RGBA
			if y < 80 { // sky with a vertical gradient
				c = color.RGBA{clamp(170 + y/2), clamp(190 + y/3), 225, 255}
			} else { // ground, darker towards the bottom
				d := (y - 80) / 3
				n := texture(x, y, variant)
				c = color.RGBA{clamp(int(tone.R) - d + n), clamp(int(tone.G) - d + n), clamp(int(tone.B) - d + n), 255}
			}
			// A heap: an ellipse of dark, mottled rubbish.
			dx, dy := float64(x-cx)/70, float64(y-cy)/38
			if dx*dx+dy*dy < 1 {
				n := texture(x, y, variant+7) * 3
				c = color.RGBA{clamp(70 + n), clamp(60 + n), clamp(50 + n/2), 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func afterImage(tone color.RGBA, variant int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, imgW, imgH))
	for y := 0; y < imgH; y++ {
		for x := 0; x < imgW; x++ {
			var c color.RGBA
			switch {
			case y < 80:
				c = color.RGBA{clamp(150 + y/2), clamp(185 + y/3), 235, 255}
			case x < 60+variant*20: // green verge
				n := texture(x, y, variant+3)
				c = color.RGBA{clamp(70 + n), clamp(140 + 2*n), clamp(70 + n), 255}
			default: // clean pavement tiles with joints
				n := texture(x, y, variant) / 2
				c = color.RGBA{clamp(int(tone.R) + n), clamp(int(tone.G) + n), clamp(int(tone.B) + n), 255}
				if (x-60)%40 == 0 || (y-80)%30 == 0 {
					c = color.RGBA{150, 150, 150, 255}
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}
