package volunteer

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func testSealer(t *testing.T, key []byte) *Sealer {
	t.Helper()
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSealOpen: a sealed number opens under the same key (and a sealer
// made again from it), never under another key or for another purpose,
// and a sealed value that was changed does not open.
func TestSealOpen(t *testing.T) {
	t.Parallel()
	key := testKey(t)
	s := testSealer(t, key)
	const plain = "11010519491231002X"

	sealed := s.seal(plain, "id_number")
	if strings.Contains(sealed, plain) || strings.Contains(sealed, "19491231") {
		t.Fatalf("sealed value shows the number: %q", sealed)
	}
	if again := s.seal(plain, "id_number"); again == sealed {
		t.Error("two seals of the same number are equal: the nonce is not random")
	}
	if got, err := s.open(sealed, "id_number"); err != nil || got != plain {
		t.Fatalf("open = %q, %v; want %q", got, err, plain)
	}
	if got, err := testSealer(t, bytes.Clone(key)).open(sealed, "id_number"); err != nil || got != plain {
		t.Errorf("open under a sealer made again from the key = %q, %v", got, err)
	}
	if _, err := testSealer(t, testKey(t)).open(sealed, "id_number"); err == nil {
		t.Error("opened under a different key")
	}
	if _, err := s.open(sealed, "phone"); err == nil {
		t.Error("opened for a different purpose")
	}
	b, _ := base64.RawStdEncoding.DecodeString(sealed)
	b[len(b)-1] ^= 1
	if _, err := s.open(base64.RawStdEncoding.EncodeToString(b), "id_number"); err == nil {
		t.Error("a changed sealed value opened")
	}
	for _, bad := range []string{"", "!!!", "AAAA"} {
		if _, err := s.open(bad, "id_number"); err == nil {
			t.Errorf("open(%q) = nil error", bad)
		}
	}

	// the keyed hash: stable under a key, different under another
	h := s.hash(plain)
	if h != s.hash(plain) || h != testSealer(t, bytes.Clone(key)).hash(plain) {
		t.Error("hash is not stable under one key")
	}
	if h == testSealer(t, testKey(t)).hash(plain) {
		t.Error("hash is the same under another key")
	}
	if h == s.hash("11010519491231003X") {
		t.Error("two numbers hash alike")
	}
}

// TestLoadKeySeals: a key file made by LoadKey, read again, opens what a
// sealer over the first read sealed.
func TestLoadKeySeals(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "k", "data.key")
	k1, err := LoadKey("", path)
	if err != nil {
		t.Fatal(err)
	}
	sealed := testSealer(t, k1).seal("secret", "id_number")
	k2, err := LoadKey("", path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := testSealer(t, k2).open(sealed, "id_number"); err != nil || got != "secret" {
		t.Errorf("open under the key read back = %q, %v", got, err)
	}
}
