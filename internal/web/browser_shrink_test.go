package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chuangwen/internal/testcity"
)

// TestBrowserPhotoShrunk: a phone photo bigger than the server takes
// (here 3000 × 2000, over the 1 MB limit the test server sets) is shrunk
// in the browser to the largest size the system derives (1280 px on its
// longest side) and goes up as such; the report is filed.
func TestBrowserPhotoShrunk(t *testing.T) {
	t.Parallel()
	chromium(t)
	f := newFixture(t, testcity.SQLite(t))
	img := image.NewRGBA(image.Rect(0, 0, 3000, 2000))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < 2000; y++ {
		for x := 0; x < 3000; x++ {
			n := uint8(rng.IntN(48))
			img.Set(x, y, color.RGBA{uint8(x/12) + n, uint8(y/8) + n, 120 + n, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() <= 1<<20 {
		t.Fatalf("the test photo is only %d bytes: not over the limit", buf.Len())
	}
	photo := filepath.Join(t.TempDir(), "big.jpg")
	if err := os.WriteFile(photo, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := startBrowser(t)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(f.url+"/report"),
		chromedp.WaitVisible(chromedp.ID("map")),
		chromedp.WaitReady(chromedp.CSS(fmt.Sprintf(`#category option[value="%d"]`, f.category.ID))),
		chromedp.SetValue(chromedp.ID("category"), fmt.Sprint(f.category.ID)),
		chromedp.SendKeys(chromedp.ID("description"), "人行道护栏倒伏，影响行人通行"),
		chromedp.SetUploadFiles(chromedp.ID("photos"), []string{photo}, chromedp.NodeReady),
		chromedp.ScrollIntoView(chromedp.ID("map")))
	if err != nil {
		t.Fatal(err)
	}
	// a pin tapped on the offline map, once its cells are drawn
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.querySelectorAll('#map path.cw-cell').length === 9`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("map")), chromedp.ScrollIntoView(chromedp.ID("submit")), chromedp.Click(chromedp.ID("submit"))); err != nil {
		t.Fatal(err)
	}
	var receipt string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && receipt == ""; time.Sleep(200 * time.Millisecond) {
		receipt, _ = chromedp.Run(tctx, chromedp.Text(chromedp.ID("receipt"), chromedp.NodeReady))
		receipt = strings.TrimSpace(receipt)
	}
	if receipt == "" {
		errText, _ := chromedp.Run(tctx, chromedp.Text(chromedp.ID("error"), chromedp.NodeReady))
		t.Fatalf("no receipt (error shown: %q)", errText)
	}
	var path string
	var size int64
	if err := f.db.Reader().QueryRow(context.Background(), `SELECT p.path, p.size FROM photos p JOIN receipts r ON r.case_id = p.case_id WHERE r.code = ?`,
		strings.ReplaceAll(receipt, "-", "")).Scan(&path, &size); err != nil {
		t.Fatal(err)
	}
	rc, _, err := f.flow.Photos.Blobs.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	cfg, _, err := image.DecodeConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	if max(cfg.Width, cfg.Height) != 1280 || size >= int64(buf.Len()) {
		t.Errorf("stored photo %d × %d, %d bytes (sent %d): want 1280 on the long side, smaller", cfg.Width, cfg.Height, size, buf.Len())
	}
	t.Logf("%d bytes shrunk to %d (%d × %d)", buf.Len(), size, cfg.Width, cfg.Height)
}
