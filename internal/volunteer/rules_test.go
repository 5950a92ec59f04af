package volunteer_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/volunteer"
)

// ---- stars and settings ----

func TestStars(t *testing.T) {
	t.Parallel()
	st := volunteer.DefaultSettings()
	if err := st.Check(); err != nil {
		t.Fatalf("defaults do not check: %v", err)
	}
	h := func(hours, minutes int64) int64 { return hours*60 + minutes }
	for _, c := range []struct {
		minutes     int64
		stars, next int
	}{
		{0, 0, 100},
		{h(99, 59), 0, 100},
		{h(100, 0), 1, 300},
		{h(100, 1), 1, 300},
		{h(299, 59), 1, 300},
		{h(300, 0), 2, 600},
		{h(599, 59), 2, 600},
		{h(600, 0), 3, 1000},
		{h(999, 59), 3, 1000},
		{h(1000, 0), 4, 1500},
		{h(1499, 59), 4, 1500},
		{h(1500, 0), 5, 0},
		{h(100000, 0), 5, 0},
	} {
		if got := st.Stars(c.minutes); got != c.stars {
			t.Errorf("Stars(%dh%02dm) = %d, want %d", c.minutes/60, c.minutes%60, got, c.stars)
		}
		if got := st.NextStar(c.minutes); got != c.next {
			t.Errorf("NextStar(%dh%02dm) = %d, want %d", c.minutes/60, c.minutes%60, got, c.next)
		}
	}
	// another scale
	st.StarHours = []int{1, 2, 3, 4, 5}
	if got := st.Stars(179); got != 2 {
		t.Errorf("Stars(2h59m) on 1..5 = %d, want 2", got)
	}
	if got := st.NextStar(179); got != 3 {
		t.Errorf("NextStar(2h59m) on 1..5 = %d, want 3", got)
	}
}

func TestSettingsCheck(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		edit func(*volunteer.Settings)
		key  string
	}{
		{"four stars", func(s *volunteer.Settings) { s.StarHours = []int{100, 300, 600, 1000} }, "volunteer.stars_bad"},
		{"six stars", func(s *volunteer.Settings) { s.StarHours = []int{100, 300, 600, 1000, 1500, 2000} }, "volunteer.stars_bad"},
		{"no stars", func(s *volunteer.Settings) { s.StarHours = nil }, "volunteer.stars_bad"},
		{"zero hours", func(s *volunteer.Settings) { s.StarHours = []int{0, 300, 600, 1000, 1500} }, "volunteer.stars_bad"},
		{"negative hours", func(s *volunteer.Settings) { s.StarHours = []int{-1, 300, 600, 1000, 1500} }, "volunteer.stars_bad"},
		{"repeated level", func(s *volunteer.Settings) { s.StarHours = []int{100, 300, 300, 1000, 1500} }, "volunteer.stars_bad"},
		{"decreasing", func(s *volunteer.Settings) { s.StarHours = []int{100, 300, 600, 1500, 1000} }, "volunteer.stars_bad"},
		{"early negative", func(s *volunteer.Settings) { s.CheckinEarlyMin = -1 }, "volunteer.window_bad"},
		{"early over a day", func(s *volunteer.Settings) { s.CheckinEarlyMin = 24*60 + 1 }, "volunteer.window_bad"},
		{"late negative", func(s *volunteer.Settings) { s.CheckoutLateMin = -1 }, "volunteer.window_bad"},
		{"late over a day", func(s *volunteer.Settings) { s.CheckoutLateMin = 24*60 + 1 }, "volunteer.window_bad"},
		{"radius 9", func(s *volunteer.Settings) { s.RadiusM = 9 }, "volunteer.radius_bad"},
		{"radius 10001", func(s *volunteer.Settings) { s.RadiusM = 10001 }, "volunteer.radius_bad"},
	} {
		st := volunteer.DefaultSettings()
		c.edit(&st)
		wantErr(t, st.Check(), apperr.Invalid, c.key, c.name)
	}
	// the edges that pass
	for _, edit := range []func(*volunteer.Settings){
		func(s *volunteer.Settings) { s.CheckinEarlyMin, s.CheckoutLateMin = 0, 0 },
		func(s *volunteer.Settings) { s.CheckinEarlyMin, s.CheckoutLateMin = 24*60, 24*60 },
		func(s *volunteer.Settings) { s.RadiusM = 10 },
		func(s *volunteer.Settings) { s.RadiusM = 10000 },
		func(s *volunteer.Settings) { s.StarHours = []int{1, 2, 3, 4, 5} },
	} {
		st := volunteer.DefaultSettings()
		edit(&st)
		if err := st.Check(); err != nil {
			t.Errorf("Check(%+v) = %v, want nil", st, err)
		}
	}
}

func TestServedMinutes(t *testing.T) {
	t.Parallel()
	at := func(hh, mm, ss int) time.Time { return time.Date(2026, 11, 16, hh, mm, ss, 0, time.UTC) }
	starts, ends := at(10, 0, 0), at(12, 0, 0)
	for _, c := range []struct {
		name    string
		in, out time.Time
		want    int
	}{
		{"inside", at(10, 15, 0), at(11, 45, 0), 90},
		{"in before the start", at(9, 30, 0), at(11, 0, 0), 60},
		{"out after the end", at(11, 0, 0), at(13, 0, 0), 60},
		{"both outside", at(9, 0, 0), at(13, 0, 0), 120},
		{"out before in", at(11, 0, 0), at(10, 30, 0), 0},
		{"out equals in", at(11, 0, 0), at(11, 0, 0), 0},
		{"all before the start", at(9, 0, 0), at(9, 50, 0), 0},
		{"all after the end", at(12, 10, 0), at(12, 50, 0), 0},
		{"out before the start", at(9, 0, 0), at(10, 0, 0), 0},
		{"whole minutes only", at(10, 0, 0), at(10, 1, 59), 1},
		{"under a minute", at(10, 0, 0), at(10, 0, 59), 0},
	} {
		if got := volunteer.ServedMinutes(c.in, c.out, starts, ends); got != c.want {
			t.Errorf("%s: ServedMinutes = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestNodeKindFor(t *testing.T) {
	t.Parallel()
	for level, want := range map[string]string{"district": volunteer.NodeCentre, "street": volunteer.NodeInstitute, "community": volunteer.NodeStation, "city": "", "": ""} {
		if got := volunteer.NodeKindFor(level); got != want {
			t.Errorf("NodeKindFor(%q) = %q, want %q", level, got, want)
		}
	}
}

// ---- identity numbers, phones, masks ----

// withCheck completes 17 digits with their check character.
func withCheck(first17 string) string { return first17 + string(volunteer.IDCheckChar(first17)) }

// xNumber is a valid identity number whose check character is X.
func xNumber(t *testing.T) string {
	t.Helper()
	for n := range 1000 {
		first := "33010219850304" + string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
		if volunteer.IDCheckChar(first) == 'X' {
			return first + "X"
		}
	}
	t.Fatal("no number with check character X")
	return ""
}

func TestNormalizeIDNumber(t *testing.T) {
	t.Parallel()
	// GB 11643's own example, and one computed here
	for _, v := range []string{"11010519491231002X", "440524188001010014", withCheck("33010219900101123")} {
		got, err := volunteer.NormalizeIDNumber(v)
		if err != nil || got != v {
			t.Errorf("NormalizeIDNumber(%q) = %q, %v; want it back", v, got, err)
		}
	}
	if c := volunteer.IDCheckChar("11010519491231002"); c != 'X' {
		t.Errorf("IDCheckChar of GB 11643's example = %c, want X", c)
	}

	x := xNumber(t)
	lower := strings.ToLower(x)
	if got, err := volunteer.NormalizeIDNumber(" " + lower + " "); err != nil || got != x {
		t.Errorf("NormalizeIDNumber(%q) = %q, %v; want %q", lower, got, err, x)
	}

	// every other check character is wrong
	good := withCheck("33010219900101123")
	for _, c := range "0123456789X" {
		v := good[:17] + string(c)
		if v == good {
			continue
		}
		_, err := volunteer.NormalizeIDNumber(v)
		wantErr(t, err, apperr.Invalid, "volunteer.id_checksum", v)
	}
	// a digit changed in the body breaks the sum
	changed := []byte(good)
	changed[10] = '0' + (changed[10]-'0'+1)%10
	_, err := volunteer.NormalizeIDNumber(string(changed))
	wantErr(t, err, apperr.Invalid, "volunteer.id_checksum", "digit changed")

	for _, v := range []string{"", good[:17], good + "1", good[:15], "3301021990010112X3", "33010219900101A23" + "4", "33010219900101 123" + "4"} {
		_, err := volunteer.NormalizeIDNumber(v)
		wantErr(t, err, apperr.Invalid, "volunteer.id_bad", v)
	}
}

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"13912345678":       "13912345678",
		" 13912345678 ":     "13912345678",
		"+8613912345678":    "13912345678",
		"+86 139 1234 5678": "13912345678",
		"+86-139-1234-5678": "13912345678",
		"008613912345678":   "13912345678",
		"139-1234-5678":     "13912345678",
		"19900000000":       "19900000000",
	} {
		got, err := volunteer.NormalizePhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1391234567", "139123456789", "23912345678", "1391234567a", "+8523912345678", "(139)12345678", "１３９１２３４５６７８"} {
		_, err := volunteer.NormalizePhone(in)
		wantErr(t, err, apperr.Invalid, "volunteer.phone_bad", in)
	}
}

func TestMasks(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"11010519491231002X": "1101**********002X",
		"12345678":           "12345678",
		"123456789":          "1234*6789",
		"1234567":            "*******",
		"":                   "",
	} {
		if got := volunteer.MaskID(in); got != want {
			t.Errorf("MaskID(%q) = %q, want %q", in, got, want)
		}
	}
	// the birthday never shows
	if m := volunteer.MaskID("11010519491231002X"); strings.Contains(m, "19491231") || strings.Contains(m, "1949") {
		t.Errorf("MaskID shows the birthday: %q", m)
	}
	for in, want := range map[string]string{
		"13912345678": "139****5678",
		"1234567":     "1234567",
		"123456":      "******",
		"":            "",
	} {
		if got := volunteer.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"张三丰":    "张**",
		"张三":     "张*",
		"张":      "张",
		"欧阳娜娜":   "欧***",
		"":       "",
		"Li Lei": "L*****",
	} {
		if got := volunteer.MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ABCD-EFGH-JKLM-NPQR":   "ABCD-EFGH-JKLM-NPQR",
		"abcd-efgh-jklm-npqr":   "ABCD-EFGH-JKLM-NPQR",
		"ABCDEFGHJKLMNPQR":      "ABCD-EFGH-JKLM-NPQR",
		" abcd efgh jklm npqr ": "ABCD-EFGH-JKLM-NPQR",
		"2345-6789-ABCD-EFGH":   "2345-6789-ABCD-EFGH",
		"ABCD-EFGH-JKLM-NPQ":    "",
		"ABCD-EFGH-JKLM-NPQRS":  "",
		"ABCD-EFGH-JKLM-NPQ0":   "", // 0 is not in the alphabet
		"ABCD-EFGH-JKLM-NPQ1":   "",
		"ABCD-EFGH-JKLM-NPQI":   "",
		"ABCD-EFGH-JKLM-NPQO":   "",
		"":                      "",
		"ABCD_EFGH_JKLM_NPQR":   "",
	} {
		if got := volunteer.NormalizeCode(in); got != want {
			t.Errorf("NormalizeCode(%q) = %q, want %q", in, got, want)
		}
	}
}

// ---- the data key ----

func TestLoadKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets", "volunteer.key")
	k1, err := volunteer.LoadKey("", path)
	if err != nil {
		t.Fatalf("LoadKey creating %s: %v", path, err)
	}
	if len(k1) != volunteer.KeySize {
		t.Fatalf("key has %d bytes, want %d", len(k1), volunteer.KeySize)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %o, want 600", perm)
	}
	k2, err := volunteer.LoadKey("", path)
	if err != nil {
		t.Fatalf("LoadKey reading %s: %v", path, err)
	}
	if string(k1) != string(k2) {
		t.Error("LoadKey read back a different key")
	}
	// a sealer over the key read back opens what the first one sealed:
	// checked through the service in TestSealer; here the keys are equal.
	if _, err := volunteer.NewSealer(k2); err != nil {
		t.Errorf("NewSealer(read back key): %v", err)
	}

	// a value wins over the file
	other := make([]byte, volunteer.KeySize)
	other[0] = 7
	got, err := volunteer.LoadKey(base64.StdEncoding.EncodeToString(other)+"\n", path)
	if err != nil || string(got) != string(other) {
		t.Errorf("LoadKey(value) = %x, %v; want %x", got, err, other)
	}
	if _, err := volunteer.LoadKey("not base64!", path); err == nil {
		t.Error("LoadKey(bad value) = nil error")
	}
	if _, err := volunteer.LoadKey(base64.StdEncoding.EncodeToString(other[:16]), path); err == nil {
		t.Error("LoadKey(16-byte value) = nil error")
	}
	// a file with a short key is refused, not replaced
	short := filepath.Join(t.TempDir(), "short.key")
	if err := os.WriteFile(short, []byte(base64.StdEncoding.EncodeToString(other[:16])), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := volunteer.LoadKey("", short); err == nil {
		t.Error("LoadKey(file with 16 bytes) = nil error")
	}

	for _, n := range []int{0, 16, 31, 33} {
		if _, err := volunteer.NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer(%d bytes) = nil error", n)
		}
	}
}
