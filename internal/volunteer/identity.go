package volunteer

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"chuangwen/internal/apperr"
)

// Sealer protects identity numbers at rest: AES-256-GCM for the number
// itself (opened only for a person's own data export), and an HMAC of it,
// under a separate derived key, that finds a duplicate registration
// without opening anything. Masks are what screens show.
type Sealer struct {
	aead cipher.AEAD
	mac  []byte
}

// KeySize is the data key's length in bytes.
const KeySize = 32

// NewSealer returns a sealer over a 32-byte data key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("data key: want %d bytes, have %d", KeySize, len(key))
	}
	encKey := hmac.New(sha256.New, key)
	encKey.Write([]byte("chuangwen volunteer seal"))
	block, err := aes.NewCipher(encKey.Sum(nil))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	macKey := hmac.New(sha256.New, key)
	macKey.Write([]byte("chuangwen volunteer identity hash"))
	return &Sealer{aead: aead, mac: macKey.Sum(nil)}, nil
}

// LoadKey reads the data key: from value (base64) when given, else from
// the file at path, which is created with a new random key (mode 0600)
// when it does not exist yet.
func LoadKey(value, path string) ([]byte, error) {
	if value != "" {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil || len(k) != KeySize {
			return nil, fmt.Errorf("data key: want %d bytes in base64", KeySize)
		}
		return k, nil
	}
	b, err := os.ReadFile(path)
	if err == nil {
		k, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(k) != KeySize {
			return nil, fmt.Errorf("data key %s: want %d bytes in base64", path, KeySize)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	// Written to a temporary file and linked into place: another process
	// starting at the same moment reads a whole key or makes its own
	// and loses the link.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".data-key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	if _, err := tmp.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return LoadKey("", path) // another process made it first
	} else if err != nil {
		return nil, err
	}
	return k, nil
}

// seal encrypts plain, with the purpose bound in as associated data.
func (s *Sealer) seal(plain, purpose string) string {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(plain), []byte(purpose))
	return base64.RawStdEncoding.EncodeToString(out)
}

// open decrypts what seal made for the same purpose.
func (s *Sealer) open(sealed, purpose string) (string, error) {
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", errors.New("sealed value malformed")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(purpose))
	if err != nil {
		return "", errors.New("sealed value does not open under this data key")
	}
	return string(plain), nil
}

// hash is the keyed hash that finds duplicates.
func (s *Sealer) hash(v string) string {
	m := hmac.New(sha256.New, s.mac)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))
}

// NormalizeIDNumber checks a resident identity number (居民身份证号码,
// GB 11643: 17 digits and an ISO 7064 MOD 11-2 check character) and
// returns it with an upper-case X.
func NormalizeIDNumber(v string) (string, error) {
	v = strings.ToUpper(strings.TrimSpace(v))
	if len(v) != 18 {
		return "", apperr.New(apperr.Invalid, "volunteer.id_bad")
	}
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		c := v[i]
		if c < '0' || c > '9' {
			return "", apperr.New(apperr.Invalid, "volunteer.id_bad")
		}
		sum += int(c-'0') * weights[i]
	}
	if "10X98765432"[sum%11] != v[17] {
		return "", apperr.New(apperr.Invalid, "volunteer.id_checksum")
	}
	return v, nil
}

// IDCheckChar is the check character of the first 17 digits of an
// identity number (for tests and the demo, which make valid numbers).
func IDCheckChar(first17 string) byte {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(first17[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

// MaskID shows the first four and last four characters of an identity
// number: the region of issue and the check digits, never the birthday.
func MaskID(v string) string {
	if len(v) < 8 {
		return strings.Repeat("*", len(v))
	}
	return v[:4] + strings.Repeat("*", len(v)-8) + v[len(v)-4:]
}

// MaskPhone shows a phone number's first three and last four digits.
func MaskPhone(p string) string {
	if len(p) < 7 {
		return strings.Repeat("*", len(p))
	}
	return p[:3] + strings.Repeat("*", len(p)-7) + p[len(p)-4:]
}

// MaskName keeps a name's first character (the surname) and hides the
// rest: 张三丰 → 张**.
func MaskName(n string) string {
	r := []rune(n)
	if len(r) <= 1 {
		return n
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

// NormalizePhone checks a mainland mobile number (11 digits, starting
// with 1), allowing a +86 prefix and spaces or dashes.
func NormalizePhone(v string) (string, error) {
	v = strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(v))
	v = strings.TrimPrefix(strings.TrimPrefix(v, "+86"), "0086")
	if len(v) != 11 || v[0] != '1' {
		return "", apperr.New(apperr.Invalid, "volunteer.phone_bad")
	}
	for i := range len(v) {
		if v[i] < '0' || v[i] > '9' {
			return "", apperr.New(apperr.Invalid, "volunteer.phone_bad")
		}
	}
	return v, nil
}

// keyCheckSetting holds a keyed hash of a constant under the data key
// this database was first sealed with.
const keyCheckSetting = "volunteer.key_check"

// CheckKey makes sure the data key is the one this database's identity
// numbers were sealed with: the first use records a check value, every
// later start compares. A restore onto a new host with a new key (the
// file not copied) must stop here, not seal new numbers under another
// key and miss every duplicate.
func (s *Service) CheckKey(ctx context.Context) error {
	want := s.Seal.hash("chuangwen data key check")
	var have string
	err := s.DB.Reader().QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, keyCheckSetting).Scan(&have)
	if errors.Is(err, sql.ErrNoRows) {
		// the first start with volunteers; another replica may race us
		if _, err = s.DB.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, keyCheckSetting, want); err != nil {
			return err
		}
		err = s.DB.Reader().QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, keyCheckSetting).Scan(&have)
	}
	if err != nil {
		return err
	}
	if have != want {
		return errors.New("the data key is not the one this database's identity numbers were sealed with: restore the data key file (or CHUANGWEN_DATA_KEY) that belongs to this database")
	}
	return nil
}
