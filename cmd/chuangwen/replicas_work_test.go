package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/blob"
	"chuangwen/internal/photo"
	"chuangwen/internal/store/storetest"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestTwoReplicasShareTheBackgroundWork: two serve processes on one
// PostgreSQL database, each running the whole of serve's background work
// (the photo worker, the weekly notices, the deadline watch, the
// sealer). Photos queued before they start, and photo reports that
// arrive at both while they run: each photo's derived versions
// are made once, by one replica or the other (their logs name each photo
// they derived), and the week's supervision notices, due when both start,
// are issued once per unit: the notices the two replicas say they issued
// add up to the rows, and neither logged an error for its turn.
func TestTwoReplicasShareTheBackgroundWork(t *testing.T) {
	storetest.Long(t)
	t.Parallel()
	pg, db, city := replicaCity(t)
	ctx := context.Background()
	// Cases dispatched to each unit ten days before the city's clock:
	// both units have something due, so each gets a weekly notice.
	for i, unit := range []int64{city.UnitA.ID, city.UnitB.ID, city.UnitA.ID} {
		c, err := city.Flow.Report(ctx, city.Acceptor, workflow.NewCase{Source: workflow.SourceCitizen, CategoryID: city.Cat4h.ID,
			Description: fmt.Sprintf("双副本后台 %d：路边暴露垃圾", i), RegionID: city.Community1.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []workflow.ActInput{{Action: workflow.Accept}, {Action: workflow.Dispatch, LeadUnitID: unit}} {
			if _, err := city.Flow.Act(ctx, city.Acceptor, c.ID, in); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The notices fall due on Monday at midnight: whatever the day the
	// test runs, this week's are due when the replicas start.
	if _, err := db.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('report.notices', ?)`,
		`{"weekday":1,"hour":0,"due_days":2,"issuer":"创建全国文明城市工作领导小组办公室"}`); err != nil {
		t.Fatal(err)
	}

	data := t.TempDir() // the photos' folder both replicas share
	// Twenty-four photos queued before the replicas start: both workers
	// take from the same queue at once.
	const queued = 24
	flow := workflow.NewService(db, &photo.Store{Blobs: blob.Local{Dir: filepath.Join(data, "photos")}}, testcity.Shanghai, nil)
	flow.Now = city.Clock.Now
	for i := range queued / 4 {
		var ps []photo.File
		for j := range 4 {
			p, err := flow.Photos.Save(bytes.NewReader(noiseJPEG(t, uint64(1000+4*i+j))))
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		if _, err := flow.Report(ctx, city.Acceptor, workflow.NewCase{Source: workflow.SourceCitizen, CategoryID: city.Cat4h.ID,
			Description: fmt.Sprintf("双副本排队照片 %d：路边垃圾", i), RegionID: city.Community1.ID, Photos: ps}); err != nil {
			t.Fatal(err)
		}
	}
	// Both start together, so that both find the notices due at once.
	names := []string{"a", "b"}
	var urls []string
	var logs []*syncBuffer
	for _, name := range names {
		_, url, log := launchServe(t, name, "--db", pg, "--data", data, "--log-level", "debug",
			"--public-reports-per-hour", "0", "--public-reads-per-minute", "0", "--watch-interval", "1s")
		urls, logs = append(urls, url), append(logs, log)
	}
	for i, name := range names {
		waitServe(t, name, urls[i], logs[i])
	}

	// Then twelve photo reports, six through each replica.
	const uploads = 12
	hc := &http.Client{Timeout: 30 * time.Second}
	for i := range uploads {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, v := range map[string]string{"category_id": strconv.FormatInt(city.Cat4h.ID, 10), "description": fmt.Sprintf("双副本照片 %d：人行道堆放杂物", i),
			"lat": "25.0", "lon": "102.7", "device_id": "replicas-" + strconv.Itoa(i)} {
			_ = mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("photos", "photo.jpg")
		fw.Write(noiseJPEG(t, uint64(i)))
		mw.Close()
		req, _ := http.NewRequest("POST", urls[i%2]+"/api/v1/public/reports", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Idempotency-Key", fmt.Sprintf("replicas-photo-%d", i))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
			t.Fatalf("upload %d through replica %d: %d", i, i%2, resp.StatusCode)
		}
	}

	// Every photo derived, its job gone.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var photos, pending, jobs int
		if err := db.Reader().QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE derived_at = 0 OR large_path = ''), (SELECT count(*) FROM photo_jobs) FROM photos`).Scan(&photos, &pending, &jobs); err != nil {
			t.Fatal(err)
		}
		if photos == queued+uploads && pending == 0 && jobs == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d photos, %d not derived, %d jobs left", photos, pending, jobs)
		}
	}
	// The replicas' logs name each photo they derived (a line is written
	// after its commit: wait for the last ones to arrive).
	derivedLine := regexp.MustCompile(`msg="photo derived" photo=(\d+) `)
	var derivedBy map[string][]int // photo id: the replicas that derived it
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		derivedBy = map[string][]int{}
		lines := 0
		for r, log := range logs {
			for _, m := range derivedLine.FindAllStringSubmatch(log.String(), -1) {
				derivedBy[m[1]] = append(derivedBy[m[1]], r)
				lines++
			}
		}
		if lines >= queued+uploads || time.Now().After(deadline) {
			break
		}
	}
	shares := [2]int{}
	for id, rs := range derivedBy {
		if len(rs) != 1 {
			t.Errorf("photo %s derived %d times (by replicas %v)", id, len(rs), rs)
		}
		shares[rs[0]]++
	}
	if len(derivedBy) != queued+uploads {
		t.Errorf("the replicas' logs name %d derived photos, want %d", len(derivedBy), queued+uploads)
	}
	t.Logf("photos derived by replica a and b: %v", shares)

	// The week's notices: one per unit with something due (the database
	// refuses a second: notices_weekly), and what the replicas logged
	// as issued adds up to the rows, so that neither took the other's
	// notice for its own; neither logged a failure of its turn (the
	// notices' log is at info level) or any error.
	var notices, units int
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if err := db.Reader().QueryRow(ctx, `SELECT count(*), count(DISTINCT unit_id) FROM notices WHERE kind = 'weekly'`).Scan(&notices, &units); err != nil {
			t.Fatal(err)
		}
		if units >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("weekly notices for %d units, want both", units)
		}
	}
	if notices != units {
		t.Errorf("%d weekly notices for %d units", notices, units)
	}
	issuedLine := regexp.MustCompile(`weekly notices \S+: (\d+) issued`)
	noticeLine := regexp.MustCompile(`msg="weekly notices [^"]*"`)
	logged, issuedBy := 0, [2]int{}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		logged, issuedBy = 0, [2]int{}
		for r, log := range logs {
			for _, m := range issuedLine.FindAllStringSubmatch(log.String(), -1) {
				n, _ := strconv.Atoi(m[1])
				logged += n
				issuedBy[r] += n
			}
		}
		if logged >= notices || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("weekly notices issued by replica a and b: %v", issuedBy)
	if logged != notices {
		t.Errorf("the replicas logged %d notices issued, %d are stored", logged, notices)
	}
	for r, log := range logs {
		text := log.String()
		for _, m := range noticeLine.FindAllString(text, -1) {
			if !issuedLine.MatchString(m) {
				t.Errorf("replica %s: %s", names[r], m)
			}
		}
		for _, line := range strings.Split(text, "\n") {
			if strings.Contains(line, "level=ERROR") {
				t.Errorf("replica %s logged an error: %s", names[r], line)
			}
		}
	}
	if res, err := runCmd(t, "audit", "verify", "--db", pg, "--data", data); err != nil || !strings.HasPrefix(res, "OK:") {
		t.Errorf("audit verify: %v %s", err, res)
	}
}

// noiseJPEG is a small photo of noise, different for each seed.
func noiseJPEG(t *testing.T, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 42))
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			img.Set(x, y, color.RGBA{uint8(rng.IntN(256)), uint8(x / 3), uint8(y / 2), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
