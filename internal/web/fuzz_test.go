package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/blob"
	"chuangwen/internal/testcity"
)

const fuzzBoundary = "cwFuzzBoundary7d3a"

// fuzzBody builds a multipart report body with the fuzz boundary.
func fuzzBody(fields map[string]string, photo []byte) []byte {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.SetBoundary(fuzzBoundary)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if photo != nil {
		w, _ := mw.CreateFormFile("photos", "p.jpg")
		w.Write(photo)
	}
	mw.Close()
	return b.Bytes()
}

func smallJPEG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 24, 16))
	for x := 0; x < 24; x++ {
		img.Set(x, x%16, color.RGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, nil)
	return b.Bytes()
}

// FuzzPublicReport throws arbitrary multipart bodies at the public
// upload handler. Whatever comes in: never a 5xx, always a JSON error
// body for a refusal, and a refusal stores nothing — no case and no
// photo file left behind.
func FuzzPublicReport(f *testing.F) {
	fx := newFixture(f, testcity.SQLite(f))
	dir := fx.flow.Photos.Blobs.(blob.Local).Dir
	ok := map[string]string{"category_id": strconv.FormatInt(fx.category.ID, 10), "description": "消防通道被占用", "lat": "25.0", "lon": "102.7"}
	f.Add(fuzzBody(ok, smallJPEG()))
	f.Add(fuzzBody(ok, []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")))
	f.Add(fuzzBody(ok, []byte("not an image at all")))
	f.Add(fuzzBody(map[string]string{"category_id": strconv.FormatInt(fx.category.ID, 10), "description": "x", "lat": "abc", "lon": "102.7"}, smallJPEG()))
	f.Add(fuzzBody(map[string]string{"category_id": "99999", "description": "x", "lat": "25", "lon": "102.7", "coord": "bd09"}, smallJPEG()))
	f.Add(fuzzBody(map[string]string{"category_id": strconv.FormatInt(fx.category.ID, 10), "description": strings.Repeat("长", 501), "lat": "25", "lon": "102.7"}, smallJPEG()))
	f.Add(fuzzBody(ok, nil))
	f.Add([]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"a.jpg\"\r\n\r\n\xff\xd8\xff"))
	hc := &http.Client{Timeout: 10 * time.Second}
	count := func() (cases, photos int) {
		ctx := context.Background()
		if err := fx.db.Reader().QueryRow(ctx, `SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM photos)`).Scan(&cases, &photos); err != nil {
			f.Fatal(err)
		}
		return
	}
	files := func() int {
		n := 0
		_ = filepath.WalkDir(filepath.Join(dir, "orig"), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		casesBefore, photosBefore := count()
		req, err := http.NewRequest("POST", fx.url+"/api/v1/public/reports", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		resp, err := hc.Do(req)
		if err != nil {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%v\n%s", err, buf[:n])
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		casesAfter, photosAfter := count()
		switch {
		case resp.StatusCode == 201:
			if casesAfter != casesBefore+1 || photosAfter <= photosBefore {
				t.Fatalf("201 but cases %d→%d photos %d→%d", casesBefore, casesAfter, photosBefore, photosAfter)
			}
		default:
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("status %d without a JSON error: %s", resp.StatusCode, b)
			}
			if casesAfter != casesBefore || photosAfter != photosBefore {
				t.Fatalf("refused (%d) but stored: cases %d→%d photos %d→%d", resp.StatusCode, casesBefore, casesAfter, photosBefore, photosAfter)
			}
		}
		// Every original on disk belongs to a photo row: nothing orphaned.
		if n := files(); n != photosAfter {
			t.Fatalf("%d original files for %d photo rows (status %d)", n, photosAfter, resp.StatusCode)
		}
	})
}
