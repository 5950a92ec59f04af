package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math"
	mrand "math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"chuangwen/internal/blob"
	"chuangwen/internal/store"
)

// The intake benchmarks drive a running server over loopback HTTP, as a
// hotline system or a phone would: a small load generator with a fixed
// number of clients, each sending its next request as soon as the last
// was answered (closed loop).

// LoadResult is what one load run measured.
type LoadResult struct {
	Requests, Errors int
	Elapsed          time.Duration
	P50, P95, P99    time.Duration
	Max              time.Duration
	FirstError       string
}

// PerSecond is the sustained rate of successful requests.
func (r LoadResult) PerSecond() float64 {
	return float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
}

func percentiles(ds []time.Duration, r *LoadResult) {
	if len(ds) == 0 {
		return
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	q := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	r.P50, r.P95, r.P99, r.Max = q(0.50), q(0.95), q(0.99), ds[len(ds)-1]
}

// load runs clients concurrent loops of do until duration has passed or
// total requests were sent (whichever is set), and times each request.
func load(ctx context.Context, clients int, duration time.Duration, total int, do func(worker, i int) error) LoadResult {
	var mu sync.Mutex
	var ds []time.Duration
	var res LoadResult
	var sent atomic.Int64
	deadline := time.Now().Add(duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			var errs int
			var first string
			for ctx.Err() == nil {
				i := int(sent.Add(1))
				if total > 0 && i > total || total == 0 && time.Now().After(deadline) {
					break
				}
				t := time.Now()
				err := do(w, i)
				local = append(local, time.Since(t))
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
				}
			}
			mu.Lock()
			ds = append(ds, local...)
			res.Errors += errs
			if res.FirstError == "" {
				res.FirstError = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Requests = len(ds)
	percentiles(ds, &res)
	return res
}

func newHTTPClient(conns int) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true}}
}

func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Open311Load files reports without photos through Open311 POST
// requests.json for the given duration.
func Open311Load(ctx context.Context, base, apiKey, serviceCode string, center [2]float64, clients int, duration time.Duration) LoadResult {
	hc := newHTTPClient(clients)
	return load(ctx, clients, duration, 0, func(w, i int) error {
		rng := mrand.New(mrand.NewPCG(uint64(w), uint64(i)))
		form := url.Values{
			"api_key":      {apiKey},
			"service_code": {serviceCode},
			"lat":          {strconv.FormatFloat(center[0]+(rng.Float64()-0.5)*0.01, 'f', 6, 64)},
			"long":         {strconv.FormatFloat(center[1]+(rng.Float64()-0.5)*0.01, 'f', 6, 64)},
			"description":  {fmt.Sprintf("压测上报 %d-%d：人行道上堆放杂物，影响通行", w, i)},
			"phone":        {"13800000000"},
		}
		req, err := http.NewRequestWithContext(ctx, "POST", base+"/open311/v2/requests.json", bytes.NewBufferString(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Idempotency-Key", randomKey())
		return send(hc, req)
	})
}

func send(hc *http.Client, req *http.Request) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%d %.200s", resp.StatusCode, b)
	}
	return nil
}

// UploadLoad sends total public reports, each with one photo, from
// clients concurrent uploaders in a closed loop (each sends its next
// upload as soon as the last was acknowledged: the server never rests),
// and times the acknowledgement (the 201).
func UploadLoad(ctx context.Context, base string, categoryID int64, center [2]float64, photo []byte, clients, total int) LoadResult {
	return load(ctx, clients, 0, total, uploader(ctx, base, categoryID, center, photo, newHTTPClient(clients)))
}

// UploadBursts sends rounds of clients simultaneous uploads: a round
// starts when the previous one is fully acknowledged and the server has
// had a pause (as when a crowd reports one incident at once).
func UploadBursts(ctx context.Context, base string, categoryID int64, center [2]float64, photo []byte, clients, rounds int, pause time.Duration) LoadResult {
	hc := newHTTPClient(clients)
	build := uploadRequest(ctx, base, categoryID, center, photo)
	var reqs []*http.Request
	return bursts(clients, rounds, pause, func(round int) error {
		// The round's requests are built first and released together, so
		// the timings are the server's and the network's, not the
		// generator's body building.
		reqs = make([]*http.Request, clients)
		for w := range clients {
			var err error
			if reqs[w], err = build(w, round*clients+w+1); err != nil {
				return err
			}
		}
		return nil
	}, func(round, w int) error { return send(hc, reqs[w]) })
}

// bursts runs rounds of n simultaneous calls of do (released together
// once prepare has readied the round), pausing between rounds, and times
// each call.
func bursts(n, rounds int, pause time.Duration, prepare func(round int) error, do func(round, w int) error) LoadResult {
	var all LoadResult
	var ds []time.Duration
	start := time.Now()
	var idle time.Duration
	for round := range rounds {
		if err := prepare(round); err != nil {
			all.Errors++
			all.FirstError = err.Error()
			return all
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		startGun := make(chan struct{})
		for w := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-startGun
				t := time.Now()
				err := do(round, w)
				d := time.Since(t)
				mu.Lock()
				defer mu.Unlock()
				ds = append(ds, d)
				if err != nil {
					all.Errors++
					if all.FirstError == "" {
						all.FirstError = err.Error()
					}
				}
			}()
		}
		close(startGun)
		wg.Wait()
		time.Sleep(pause)
		idle += pause
	}
	all.Elapsed = time.Since(start) - idle
	all.Requests = len(ds)
	percentiles(ds, &all)
	return all
}

// DiskFloor measures the disk's own floor for the upload bursts: rounds of
// writers simultaneous durable writes of photo into dir (the photo
// store's own way: a temporary file, fdatasync, rename, the directory's
// fsync), with the same pause between rounds, and no HTTP, hashing or
// database. An upload's acknowledgement cannot come sooner than its
// file is durable, and in a burst the last of the files waits for the
// others: the uploads' p99 against this p99 says what the rest costs.
func DiskFloor(ctx context.Context, dir string, photo []byte, writers, rounds int, pause time.Duration) LoadResult {
	store := blob.Local{Dir: dir}
	return bursts(writers, rounds, pause, func(int) error { return nil }, func(round, w int) error {
		return store.Put(ctx, fmt.Sprintf("floor/%d-%d.jpg", round, w), bytes.NewReader(photo), int64(len(photo)), "image/jpeg")
	})
}

// ReceiveFloor measures the floor of an upload burst that includes its
// transfer: the same rounds of the same multipart requests as
// UploadBursts, against a bare HTTP server on loopback that only
// receives each body and stores its photo durably in dir (the photo
// store's way), with no checks, hashing, image header reading or
// database. What the product's acknowledgement adds to this is its own
// cost.
func ReceiveFloor(ctx context.Context, dir string, categoryID int64, center [2]float64, photo []byte, clients, rounds int, pause time.Duration) (LoadResult, error) {
	store := blob.Local{Dir: dir}
	var n atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if part.FileName() == "" {
				_, _ = io.Copy(io.Discard, part)
				continue
			}
			if err := store.Put(r.Context(), fmt.Sprintf("recv/%d.jpg", n.Add(1)), part, -1, "image/jpeg"); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		w.WriteHeader(http.StatusCreated)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return LoadResult{}, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	return UploadBursts(ctx, "http://"+ln.Addr().String(), categoryID, center, photo, clients, rounds, pause), nil
}

func uploader(ctx context.Context, base string, categoryID int64, center [2]float64, photo []byte, hc *http.Client) func(w, i int) error {
	build := uploadRequest(ctx, base, categoryID, center, photo)
	return func(w, i int) error {
		req, err := build(w, i)
		if err != nil {
			return err
		}
		return send(hc, req)
	}
}

// uploadRequest builds the i-th public report with its photo.
func uploadRequest(ctx context.Context, base string, categoryID int64, center [2]float64, photo []byte) func(w, i int) (*http.Request, error) {
	return func(w, i int) (*http.Request, error) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		rng := mrand.New(mrand.NewPCG(uint64(w), uint64(i)))
		fields := map[string]string{
			"category_id": strconv.FormatInt(categoryID, 10),
			"description": fmt.Sprintf("压测随手拍 %d-%d：消防通道被占用", w, i),
			"lat":         strconv.FormatFloat(center[0]+(rng.Float64()-0.5)*0.01, 'f', 6, 64),
			"lon":         strconv.FormatFloat(center[1]+(rng.Float64()-0.5)*0.01, 'f', 6, 64),
			"device_id":   fmt.Sprintf("bench-%d", w),
		}
		for k, v := range fields {
			_ = mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("photos", "photo.jpg")
		fw.Write(VaryJPEG(photo, uint64(w)<<32|uint64(i)))
		mw.Close()
		req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/public/reports", bytes.NewReader(body.Bytes()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Idempotency-Key", randomKey())
		return req, nil
	}
}

// VaryJPEG makes every upload a different photo: a comment segment
// holding n right after the start marker (the picture, and its end
// marker, stay whole).
func VaryJPEG(photo []byte, n uint64) []byte {
	out := make([]byte, 0, len(photo)+12)
	out = append(out, photo[:2]...)
	out = append(out, 0xFF, 0xFE, 0x00, 0x0A)
	out = binary.BigEndian.AppendUint64(out, n)
	return append(out, photo[2:]...)
}

// PhonePhoto makes a JPEG of about the given size: a 4000 × 3000 scene of
// gradients and texture, the size of a 12-megapixel phone photo, encoded
// at the quality that lands nearest to wantBytes.
func PhonePhoto(wantBytes int) []byte {
	const w, h = 4000, 3000
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	rng := mrand.New(mrand.NewPCG(7, 11))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := 90 + 60*math.Sin(float64(x)/170) + 40*math.Cos(float64(y)/90) + float64(rng.IntN(24))
			img.Y[y*img.YStride+x] = uint8(max(0, min(255, v)))
		}
	}
	for y := 0; y < h/2; y++ {
		for x := 0; x < w/2; x++ {
			img.Cb[y*img.CStride+x] = uint8(110 + (x*y)%40)
			img.Cr[y*img.CStride+x] = uint8(120 + (x+y)%30)
		}
	}
	var best []byte
	for _, q := range []int{95, 90, 85, 80, 75, 70, 60, 50} {
		var buf bytes.Buffer
		_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: q})
		if best == nil || abs(buf.Len()-wantBytes) < abs(len(best)-wantBytes) {
			best = buf.Bytes()
		}
		if buf.Len() < wantBytes {
			break
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// RawInserts measures durable single-row commits per second with the
// given number of concurrent writers for a duration: the ceiling any
// intake path on this database is compared with.
func RawInserts(ctx context.Context, db *store.DB, writers int, duration time.Duration) (float64, error) {
	if _, err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_raw_intake (id BIGINT PRIMARY KEY, at BIGINT NOT NULL, payload TEXT NOT NULL)`); err != nil {
		return 0, err
	}
	defer db.Exec(ctx, `DROP TABLE bench_raw_intake`)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	res := load(ctx, writers, duration, 0, func(w, i int) error {
		err := db.WithTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO bench_raw_intake (id, at, payload) VALUES (?, ?, ?)`, next.Add(1), time.Now().UnixMilli(), "人行道上堆放杂物，影响通行：一条上报的大小")
			return err
		})
		if err != nil {
			once.Do(func() { firstErr = err })
		}
		return err
	})
	return res.PerSecond(), firstErr
}
