package open311_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/open311"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// shanghai is the office's zone; a fixed +08:00 zone stands in where the
// zone database is missing (China has no daylight saving time).
func shanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

var testNow = time.Date(2026, 7, 14, 9, 30, 0, 0, shanghai())

const prefix = "/open311/v2/"

func testOptions() open311.Options {
	return open311.Options{
		Jurisdiction: "yunchuan.gov.cn",
		Discovery: open311.Discovery{
			Changeset:  "2026-07-01 00:00",
			Contact:    "云川市文明办 0871-12345",
			KeyService: "向市文明办申请 api_key",
			Endpoints:  []open311.Endpoint{{URL: "https://wenming.yunchuan.gov.cn/open311/v2"}},
		},
		Now:      func() time.Time { return testNow },
		Location: shanghai(),
	}
}

func newHandler(b *memBackend, mod func(*open311.Options)) http.Handler {
	o := testOptions()
	o.NewUploads = b.newUploads
	if mod != nil {
		mod(&o)
	}
	return open311.NewHandler(b, prefix, o)
}

type goldenCase struct {
	name   string // file name; {fmt} becomes xml and json in turn
	method string
	target string // below the prefix; {fmt} as in name
	header []string
	body   string
	status int
}

const formCT = "application/x-www-form-urlencoded; charset=utf-8"

// multipartBody builds a multipart form with a fixed boundary; a field
// named "@name" is written as a file part.
func multipartBody(fields ...string) (contentType, body string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.SetBoundary("open311-test-boundary"); err != nil {
		panic(err)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		if name, ok := strings.CutPrefix(fields[i], "@"); ok {
			fw, _ := mw.CreateFormFile(name, "photo.jpg")
			_, _ = fw.Write([]byte(fields[i+1]))
			continue
		}
		_ = mw.WriteField(fields[i], fields[i+1])
	}
	_ = mw.Close()
	return mw.FormDataContentType(), buf.String()
}

func goldenCases() []goldenCase {
	post := func(name, body string, status int) goldenCase {
		return goldenCase{name: name, method: "POST", target: "requests.{fmt}",
			header: []string{"Content-Type", formCT}, body: body, status: status}
	}
	get := func(name, target string, status int, header ...string) goldenCase {
		return goldenCase{name: name, method: "GET", target: target, header: header, status: status}
	}
	mpCT, mpBody := multipartBody("api_key", "key-123", "service_code", "GRAFFITI",
		"address_string", "明湖路3号", "attribute[surface]", "wall",
		"attribute[colour][]", "red", "attribute[colour][]", "black")
	fileCT, fileBody := multipartBody("api_key", "key-123", "service_code", "GARBAGE",
		"address_string", "明湖路3号", "@photo1", "\xff\xd8\xff", "@photo2", "\xff\xd8\xff\xe0")
	badFileCT, badFileBody := multipartBody("api_key", "key-123", "service_code", "GARBAGE",
		"address_string", "明湖路3号", "@photo1", "GIF89a")
	updateFileCT, updateFileBody := multipartBody("api_key", "key-123", "service_request_id", "2026-000001",
		"update_id", "fms-78", "status", "OPEN", "@photo1", "\xff\xd8\xff")
	// FixMyStreet's description: title, detail and link, CR LF breaks.
	crlf := strings.Repeat("字字字\r\n", 1000) // 5,000 characters as sent, 4,000 as counted
	// Every open report of a body in one list: 1,200 ids, three known.
	longIDs := make([]string, 0, 1200)
	for i := range 1197 {
		longIDs = append(longIDs, fmt.Sprintf("2025-%06d", i))
	}
	longIDs = append(longIDs, "2026-000003", "2026-000001", "2026-000002")
	update := func(name, body string, status int) goldenCase {
		return goldenCase{name: name, method: "POST", target: "servicerequestupdates.{fmt}",
			header: []string{"Content-Type", formCT}, body: body, status: status}
	}
	fmsUpdate := "api_key=key-123&jurisdiction_id=yunchuan.gov.cn&service_request_id=2026-000001&update_id=fms-77" +
		"&updated_datetime=2026-07-14T09:00:00%2B08:00&status=OPEN&description=%E8%BF%98%E6%B2%A1%E6%B8%85%E7%90%86" +
		"&first_name=Test&last_name=User&email=t%40example.org&media_url=https%3A%2F%2Ffms.example%2Fc%2F77.jpg"
	full := "api_key=key-123&jurisdiction_id=yunchuan.gov.cn&service_code=GARBAGE&lat=25.0213&long=102.7101" +
		"&address_string=%E5%B9%B8%E7%A6%8F%E8%B7%AF12%E5%8F%B7&email=a%40example.org&device_id=tt222111" +
		"&account_id=123456&first_name=%E5%B0%8F%E6%98%8E&last_name=%E6%9D%8E&phone=13800000000" +
		"&description=%E8%B7%AF%E5%8F%A3%E5%A0%86%E6%94%BE%E5%BB%BA%E7%AD%91%E5%9E%83%E5%9C%BE" +
		"&media_url=https%3A%2F%2Fexample.org%2Fp%2F9.jpg&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001"
	base := "api_key=key-123&service_code=GARBAGE&address_string=x"
	return []goldenCase{
		// Every endpoint.
		get("discovery.{fmt}", "discovery.{fmt}", 200),
		get("services.{fmt}", "services.{fmt}", 200),
		get("services_en.{fmt}", "services.{fmt}?locale=en", 200),
		get("services_accept_language.{fmt}", "services.{fmt}?jurisdiction_id=YUNCHUAN.gov.cn", 200, "Accept-Language", "en-US,en;q=0.8"),
		get("definition.{fmt}", "services/GRAFFITI.{fmt}", 200),
		get("definition_empty.{fmt}", "services/GARBAGE.{fmt}", 200),
		get("requests.{fmt}", "requests.{fmt}", 200),
		get("requests_extensions.{fmt}", "requests.{fmt}?extensions=true", 200),
		get("requests_ids.{fmt}", "requests.{fmt}?service_request_id=2026-000003,2026-000001,nope&status=closed", 200),
		get("request.{fmt}", "requests/2026-000001.{fmt}", 200),
		get("request_extensions.{fmt}", "requests/2026-000001.{fmt}?extensions=true", 200),
		get("request_closed_extensions.{fmt}", "requests/2026-000002.{fmt}?extensions=true", 200),
		get("token.{fmt}", "tokens/tok-9.{fmt}", 200),
		get("token_pending.{fmt}", "tokens/tok-pending.{fmt}", 200),
		post("post_realtime.{fmt}", full, 200),
		post("post_batch.{fmt}", "api_key=key-123&service_code=PARKING&address_id=A-778&account_id=u-42", 200),
		{name: "post_multipart.{fmt}", method: "POST", target: "requests.{fmt}",
			header: []string{"Content-Type", mpCT}, body: mpBody, status: 200},
		{name: "post_files.{fmt}", method: "POST", target: "requests.{fmt}",
			header: []string{"Content-Type", fileCT}, body: fileBody, status: 200},
		post("post_description_crlf_4000.{fmt}", base+"&description="+url.QueryEscape(crlf), 200),
		post("post_media_urls.{fmt}", base+"&media_url=https%3A%2F%2Ffms.example%2Fp%2F1.jpg&media_url=https%3A%2F%2Ffms.example%2Fp%2F2.jpg", 200),
		post("post_unknown_attributes.{fmt}", base+"&attribute[uprn]=100023&attribute[title]=%E6%A0%87%E9%A2%98&attribute[fixmystreet_id]=4711", 200),
		get("requests_extended_statuses.{fmt}", "requests.{fmt}?extended_statuses=true", 200),
		post("requests_ids_post.{fmt}", "jurisdiction_id=yunchuan.gov.cn&service_request_id="+strings.Join(longIDs, ","), 200),
		get("updates.{fmt}", "servicerequestupdates.{fmt}?start_date=2026-07-09T00:00:00%2B08:00&end_date=2026-07-14T09:30:00%2B08:00", 200),
		get("updates_default.{fmt}", "servicerequestupdates.{fmt}", 200),
		get("updates_empty.{fmt}", "servicerequestupdates.{fmt}?start_date=2026-07-14T09:00:00Z&end_date=2026-07-14T10:00:00Z", 200),
		update("post_update.{fmt}", fmsUpdate, 200),
		{name: "post_update_file.{fmt}", method: "POST", target: "servicerequestupdates.{fmt}",
			header: []string{"Content-Type", updateFileCT}, body: updateFileBody, status: 200},

		// Errors the specification lists, and the protocol's own.
		get("error_unknown_path.{fmt}", "nothing.{fmt}", 404),
		get("error_unknown_format", "services.html", 404),
		get("error_no_format", "services", 404),
		{name: "error_method.{fmt}", method: "DELETE", target: "services.{fmt}", status: 405},
		{name: "error_method_requests.{fmt}", method: "PUT", target: "requests.{fmt}", status: 405},
		get("error_jurisdiction.{fmt}", "services.{fmt}?jurisdiction_id=other.gov.cn", 404),
		get("error_service_code.{fmt}", "services/NOPE.{fmt}", 404),
		get("error_service_code_empty.{fmt}", "services/.{fmt}", 400),
		get("error_request_id.{fmt}", "requests/NOPE.{fmt}", 404),
		get("error_token.{fmt}", "tokens/NOPE.{fmt}", 404),
		get("error_bad_date.{fmt}", "requests.{fmt}?start_date=yesterday", 400),
		get("error_date_span.{fmt}", "requests.{fmt}?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", 400),
		get("error_date_order.{fmt}", "requests.{fmt}?start_date=2026-07-01&end_date=2026-06-01", 400),
		get("error_page_size.{fmt}", "requests.{fmt}?page_size=1001", 400),
		get("error_status.{fmt}", "requests.{fmt}?status=pending", 400),
		get("error_bad_query.{fmt}", "requests.{fmt}?status=open%zz", 400),
		post("error_post_no_api_key.{fmt}", "service_code=GARBAGE&address_string=x", 403),
		post("error_post_bad_api_key.{fmt}", "api_key=wrong&service_code=GARBAGE&address_string=x", 403),
		post("error_post_jurisdiction.{fmt}", base+"&jurisdiction_id=other.gov.cn", 404),
		post("error_post_no_service_code.{fmt}", "api_key=key-123&address_string=x", 400),
		post("error_post_unknown_service_code.{fmt}", "api_key=key-123&service_code=NOPE&address_string=x", 404),
		post("error_post_no_location.{fmt}", "api_key=key-123&service_code=GARBAGE&lat=&address_string=", 400),
		post("error_post_lat_only.{fmt}", "api_key=key-123&service_code=GARBAGE&lat=25.02", 400),
		post("error_post_lat_not_number.{fmt}", "api_key=key-123&service_code=GARBAGE&lat=north&long=102.7", 400),
		post("error_post_long_range.{fmt}", "api_key=key-123&service_code=GARBAGE&lat=25&long=182", 400),
		post("error_post_description_long.{fmt}", base+"&description="+strings.Repeat("字", 4001), 400),
		post("error_post_duplicate.{fmt}", base+"&service_code=PARKING", 400),
		post("error_post_bad_attribute.{fmt}", base+"&attribute[colour]]=red", 400),
		post("error_post_required_attribute.{fmt}", "api_key=key-123&service_code=GRAFFITI&address_string=x", 400),
		post("error_post_bad_media_url.{fmt}", base+"&media_url=javascript:alert(1)", 400),
		post("error_post_bad_coord.{fmt}", base+"&lat=25&long=102&coord=utm", 400),
		post("error_post_backend.{fmt}", "api_key=key-123&service_code=BROKEN&address_string=x", 500),
		post("error_post_too_large.{fmt}", base+"&description="+strings.Repeat("a", 1<<20), 413),
		{name: "error_post_media_type.{fmt}", method: "POST", target: "requests.{fmt}",
			header: []string{"Content-Type", "application/json"}, body: `{"service_code":"GARBAGE"}`, status: 415},
		{name: "error_post_file_type.{fmt}", method: "POST", target: "requests.{fmt}",
			header: []string{"Content-Type", badFileCT}, body: badFileBody, status: 415},
		post("error_post_description_crlf_4001.{fmt}", base+"&description="+url.QueryEscape(crlf+"字"), 400),
		post("error_post_media_urls_many.{fmt}", base+strings.Repeat("&media_url=https%3A%2F%2Ffms.example%2Fp%2F1.jpg", 1)+
			func() string {
				var b strings.Builder
				for i := range 21 {
					fmt.Fprintf(&b, "&media_url=https%%3A%%2F%%2Ffms.example%%2Fp%%2F%d.jpg", i+2)
				}
				return b.String()
			}(), 400),
		get("error_updates_span.{fmt}", "servicerequestupdates.{fmt}?start_date=2026-01-01&end_date=2026-07-01", 400),
		update("error_post_update_no_update_id.{fmt}", "api_key=key-123&service_request_id=2026-000001&description=x", 400),
		update("error_post_update_no_api_key.{fmt}", "service_request_id=2026-000001&update_id=1&description=x", 403),
		update("error_post_update_unknown_request.{fmt}", "api_key=key-123&service_request_id=2026-999999&update_id=1&description=x", 404),
		update("error_post_update_empty.{fmt}", "api_key=key-123&service_request_id=2026-000001&update_id=1&status=OPEN", 400),
		update("error_post_update_status.{fmt}", "api_key=key-123&service_request_id=2026-000001&update_id=1&description=x&status=%3Cb%3E", 400),
	}
}

// expand turns each case into its .xml and .json variants.
func expand(cases []goldenCase) []goldenCase {
	var out []goldenCase
	for _, c := range cases {
		if !strings.Contains(c.name, "{fmt}") {
			out = append(out, c)
			continue
		}
		for _, f := range []string{"xml", "json"} {
			d := c
			d.name = strings.ReplaceAll(c.name, "{fmt}", f)
			d.target = strings.ReplaceAll(c.target, "{fmt}", f)
			out = append(out, d)
		}
	}
	return out
}

func TestGolden(t *testing.T) {
	b := newBackend(testNow)
	mux := http.NewServeMux()
	mux.Handle(prefix, newHandler(b, nil))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	seen := map[string]bool{}
	for _, c := range expand(goldenCases()) {
		t.Run(c.name, func(t *testing.T) {
			if seen[c.name] {
				t.Fatalf("duplicate golden name %s", c.name)
			}
			seen[c.name] = true
			req, err := http.NewRequest(c.method, srv.URL+prefix+c.target, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(c.header); i += 2 {
				req.Header.Set(c.header[i], c.header[i+1])
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d; body:\n%s", resp.StatusCode, c.status, body)
			}
			checkWire(t, c, resp, body)
			compareGolden(t, c.name, render(c, resp, body))
		})
	}
}

// checkWire checks what every answer must be, independent of the golden
// file: the content type of its format, a well-formed body without a
// namespace, and an error list whose code is the status.
func checkWire(t *testing.T, c goldenCase, resp *http.Response, body []byte) {
	t.Helper()
	isJSON := strings.HasSuffix(strings.SplitN(c.target, "?", 2)[0], ".json")
	wantCT := "text/xml; charset=utf-8"
	if isJSON {
		wantCT = "application/json; charset=utf-8"
	}
	if got := resp.Header.Get("Content-Type"); got != wantCT {
		t.Errorf("Content-Type %q, want %q", got, wantCT)
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Accept-Language") {
		t.Errorf("Vary %q lacks Accept-Language", resp.Header.Get("Vary"))
	}
	if resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
	type errItem struct {
		Code        json.Number `json:"code" xml:"code"`
		Description string      `json:"description" xml:"description"`
	}
	var errs []errItem
	if isJSON {
		if !json.Valid(body) {
			t.Fatalf("invalid JSON:\n%s", body)
		}
		if resp.StatusCode >= 400 {
			if err := json.Unmarshal(body, &errs); err != nil {
				t.Fatalf("error body is not a list: %v", err)
			}
		}
	} else {
		if !bytes.HasPrefix(body, []byte(`<?xml version="1.0" encoding="utf-8"?>`+"\n<")) {
			t.Errorf("XML does not start with the declaration:\n%s", body)
		}
		if bytes.Contains(body, []byte("xmlns")) {
			t.Error("XML has a namespace")
		}
		dec := xml.NewDecoder(bytes.NewReader(body))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("malformed XML: %v\n%s", err, body)
			}
		}
		if resp.StatusCode >= 400 {
			var doc struct {
				XMLName xml.Name  `xml:"errors"`
				Items   []errItem `xml:"error"`
			}
			if err := xml.Unmarshal(body, &doc); err != nil {
				t.Fatalf("error body: %v", err)
			}
			errs = doc.Items
		}
	}
	if resp.StatusCode >= 400 {
		if len(errs) != 1 || errs[0].Code.String() != fmt.Sprint(resp.StatusCode) || errs[0].Description == "" {
			t.Errorf("error body %+v, want one error with code %d and a description", errs, resp.StatusCode)
		}
	}
}

// render writes a request and its answer as the golden file holds them.
func render(c goldenCase, resp *http.Response, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, ">>> request\n%s %s%s\n", c.method, prefix, c.target)
	for i := 0; i+1 < len(c.header); i += 2 {
		fmt.Fprintf(&b, "%s: %s\n", c.header[i], c.header[i+1])
	}
	if c.body != "" {
		b.WriteString("\n")
		if len(c.body) > 2000 {
			fmt.Fprintf(&b, "(%d bytes, beginning %q)\n", len(c.body), c.body[:80])
		} else {
			b.WriteString(c.body)
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "<<< response\n%d %s\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	for _, h := range []string{"Content-Type", "Allow"} {
		if v := resp.Header.Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", h, v)
		}
	}
	b.WriteString("\n")
	b.Write(body)
	return b.String()
}

func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s is missing; run go test ./internal/open311/ -run TestGolden -update", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestGoldenFilesUsed keeps testdata/golden free of files no case writes.
func TestGoldenFilesUsed(t *testing.T) {
	want := map[string]bool{}
	for _, c := range expand(goldenCases()) {
		want[c.name+".golden"] = true
	}
	files, err := os.ReadDir(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !want[f.Name()] {
			t.Errorf("testdata/golden/%s belongs to no case", f.Name())
		}
	}
}
