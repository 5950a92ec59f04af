package open311_test

import (
	"errors"
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"chuangwen/internal/open311"
)

// FuzzParseNewRequest feeds raw POST bodies through url.ParseQuery and
// ParseNewRequest: it must never panic, must refuse only with a 400 or 403
// *Error, and whatever it accepts must hold the invariants the Backend
// relies on.
func FuzzParseNewRequest(f *testing.F) {
	for _, s := range []string{
		"api_key=k&service_code=S&lat=25.02&long=102.71",
		"api_key=k&service_code=S&address_string=%E5%B9%B8%E7%A6%8F%E8%B7%AF&description=a%0Ab",
		"api_key=k&service_code=S&address_id=1&attribute[a]=1&attribute[b][]=2&attribute[b][]=3",
		"api_key=k&service_code=S&lat=1e2&long=-0&coord=BD09",
		"api_key=k&service_code=S&lat=NaN&long=Inf",
		"api_key=k&service_code=S&lat=90&long=180.0000001",
		"api_key=k&service_code=S&address_id=1&attribute[a]=1&attribute[a][]=2",
		"api_key=k&service_code=S&address_id=1&attribute[a]]=1&attribute[]=2",
		"api_key=k&service_code=S&address_id=1&media_url=https://x.example/1.jpg&email=a@b",
		"api_key=%20&service_code=S",
		"service_code=S&service_code=T&api_key=k",
		"api_key=k&service_code=S&address_string=%00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return // the handler answers 400 before parsing
		}
		in, err := open311.ParseNewRequest(form)
		if err != nil {
			var e *open311.Error
			if !errors.As(err, &e) || (e.Status != 400 && e.Status != 403) || e.Key == "" {
				t.Fatalf("refused with %#v", err)
			}
			return
		}
		again, err := open311.ParseNewRequest(form)
		if err != nil || !reflect.DeepEqual(in, again) {
			t.Fatalf("not deterministic: %+v / %+v, %v", in, again, err)
		}
		if in.APIKey == "" || in.ServiceCode == "" {
			t.Fatalf("accepted without api_key or service_code: %+v", in)
		}
		if (in.Lat == nil) != (in.Long == nil) {
			t.Fatalf("only one of lat/long: %+v", in)
		}
		if in.Lat != nil {
			lat, long := *in.Lat, *in.Long
			if math.IsNaN(lat) || math.IsNaN(long) || math.Abs(lat) > 90 || math.Abs(long) > 180 {
				t.Fatalf("lat/long %v,%v out of range", lat, long)
			}
		}
		if in.Lat == nil && in.AddressString == "" && in.AddressID == "" {
			t.Fatalf("accepted without a location: %+v", in)
		}
		if n := utf8.RuneCountInString(in.Description); n > open311.MaxDescription {
			t.Fatalf("description of %d characters", n)
		}
		switch in.Coord {
		case "", "wgs84", "gcj02", "bd09":
		default:
			t.Fatalf("coord %q", in.Coord)
		}
		for _, s := range []string{in.APIKey, in.JurisdictionID, in.ServiceCode, in.AddressString, in.AddressID,
			in.Email, in.DeviceID, in.AccountID, in.FirstName, in.LastName, in.Phone, in.Description} {
			checkText(t, s)
		}
		for code, vals := range in.Attributes {
			if strings.TrimSpace(code) == "" || strings.ContainsAny(code, "[]") || len(vals) == 0 {
				t.Fatalf("attribute %q = %q", code, vals)
			}
			checkText(t, code)
			for _, v := range vals {
				if v == "" {
					t.Fatalf("attribute %q has an empty value", code)
				}
				checkText(t, v)
			}
		}
	})
}

// checkText: trimmed UTF-8 without control characters but tab and line breaks.
func checkText(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		t.Fatalf("text %q is not valid or not trimmed", s)
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			t.Fatalf("text %q has control character %U", s, r)
		}
	}
}
