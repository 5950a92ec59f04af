package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/notify"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/web"
	"chuangwen/internal/workflow"
)

// Config is every setting of the program. Each has a default, a flag and
// an environment variable (CHUANGWEN_<NAME>); a flag beats the variable.
type Config struct {
	Addr string
	Data string
	DB   string
	// DBReplica is a PostgreSQL streaming standby for the list and
	// dashboard reads (--db-replica); empty: every read on DB.
	DBReplica     string
	LogLevel      string
	TimeZone      string
	MaxPhotoMB    int
	SecureCookies bool
	WatchInterval time.Duration
	// Photos is where photo files live: a folder, or an S3-compatible
	// bucket (s3://ACCESS:SECRET@host:port/bucket?region=..&path_style=1).
	Photos string
	// AutoAccept lists the sources whose reports skip the acceptor.
	AutoAccept string
	// GridFallbackM is how far the nearest grid cell may be for a point in
	// no cell to take its locality (属地兜底).
	GridFallbackM int
	// Public rate limits per client address.
	PublicReportsPerHour int
	PublicReadsPerMinute int
	// VolunteerWritesPerHour limits the volunteers' phone pages' writes
	// per address (sign-in, sign-up, check-in: crowds at an activity).
	VolunteerWritesPerHour int
	// An optional street-map tile service for the public map.
	TileURL, TileDatum, TileAttribution string
	// RewardFirstOnly: only a problem's first reporter counts for rewards.
	RewardFirstOnly bool
	// Open311Jurisdiction is the GeoReport v2 jurisdiction_id, if any.
	Open311Jurisdiction string
	// Open311ExtendedStatuses: detailed statuses in Open311 requests.
	Open311ExtendedStatuses bool
	// TrustProxy reads the client's address from the reverse proxy's
	// header (only when the peer is loopback or private): ProxyHeader,
	// X-Forwarded-For's last hop unless set.
	TrustProxy  bool
	ProxyHeader string
	// MetricsToken is the bearer token scrapers on other hosts present
	// for /metrics.
	MetricsToken string
	// DataKeyFile holds the data key that seals volunteers' identity
	// numbers (created on first use); DataKey, the key itself in base64,
	// takes its place when set.
	DataKeyFile string
	DataKey     string
	// PublicURL is where people reach the program, for printed links.
	PublicURL string
	// SMS: the gateway residents' status messages go through (off when
	// SMSURL is empty), its bearer token, the message signature and the
	// templates by state.
	SMSURL, SMSToken, SMSSign, SMSTemplates string
	// TwoFactor lists the roles that sign in with a code from an
	// authenticator app as well; twoFactorSet says it was given.
	TwoFactor    string
	twoFactorSet bool
}

// defaults returns the configuration of a fresh install.
func defaults() Config {
	return Config{TwoFactor: "admin,acceptor", Addr: "127.0.0.1:8080", Data: "./data", LogLevel: "info", TimeZone: "Asia/Shanghai", MaxPhotoMB: 20, WatchInterval: time.Minute,
		AutoAccept: "inspector,grid", GridFallbackM: 200, PublicReportsPerHour: 30, PublicReadsPerMinute: 300, VolunteerWritesPerHour: 3600, TileDatum: "wgs84", RewardFirstOnly: true}
}

// register binds the common flags to c, with environment overrides
// applied first so that flags win.
func (c *Config) register(fs *flag.FlagSet) {
	env := func(name, def string) string {
		if v, ok := os.LookupEnv("CHUANGWEN_" + name); ok {
			return v
		}
		return def
	}
	envInt := func(name string, def int) int {
		if v, err := strconv.Atoi(env(name, "")); err == nil {
			return v
		}
		return def
	}
	fs.StringVar(&c.Addr, "addr", env("ADDR", c.Addr), "listen address (CHUANGWEN_ADDR)")
	fs.StringVar(&c.Data, "data", env("DATA", c.Data), "data folder: SQLite database and photos (CHUANGWEN_DATA)")
	fs.StringVar(&c.DB, "db", env("DB", c.DB), "database: postgres://... URL, or a SQLite file path; default <data>/chuangwen.db (CHUANGWEN_DB)")
	fs.StringVar(&c.DBReplica, "db-replica", env("DB_REPLICA", c.DBReplica), "PostgreSQL standby for list and dashboard reads, used while caught up (CHUANGWEN_DB_REPLICA)")
	fs.StringVar(&c.LogLevel, "log-level", env("LOG_LEVEL", c.LogLevel), "debug, info, warn or error (CHUANGWEN_LOG_LEVEL)")
	fs.StringVar(&c.TimeZone, "tz", env("TZ_NAME", c.TimeZone), "the city's time zone for deadlines and reports (CHUANGWEN_TZ_NAME)")
	fs.IntVar(&c.MaxPhotoMB, "max-photo-mb", envInt("MAX_PHOTO_MB", c.MaxPhotoMB), "largest accepted photo in MB (CHUANGWEN_MAX_PHOTO_MB)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", env("SECURE_COOKIES", "") == "true", "mark cookies Secure when served over HTTPS (CHUANGWEN_SECURE_COOKIES=true)")
	d, err := time.ParseDuration(env("WATCH_INTERVAL", ""))
	if err != nil {
		d = c.WatchInterval
	}
	fs.DurationVar(&c.WatchInterval, "watch-interval", d, "how often the deadline watch runs (CHUANGWEN_WATCH_INTERVAL)")
	fs.StringVar(&c.Photos, "photos", env("PHOTOS", c.Photos), "photo storage: a folder (default <data>/photos) or s3://ACCESS:SECRET@host/bucket?region=..&path_style=1 (CHUANGWEN_PHOTOS)")
	fs.StringVar(&c.AutoAccept, "auto-accept", env("AUTO_ACCEPT", c.AutoAccept), "sources whose reports are accepted on arrival: citizen, inspector, grid, leader, hotline, api (CHUANGWEN_AUTO_ACCEPT)")
	fs.IntVar(&c.GridFallbackM, "grid-fallback-m", envInt("GRID_FALLBACK_M", c.GridFallbackM), "a point in no grid cell takes the nearest cell's locality within this many metres (CHUANGWEN_GRID_FALLBACK_M)")
	fs.IntVar(&c.PublicReportsPerHour, "public-reports-per-hour", envInt("PUBLIC_REPORTS_PER_HOUR", c.PublicReportsPerHour), "public reports, follows and ratings per client address and hour; 0 = unlimited (CHUANGWEN_PUBLIC_REPORTS_PER_HOUR)")
	fs.IntVar(&c.VolunteerWritesPerHour, "volunteer-writes-per-hour", envInt("VOLUNTEER_WRITES_PER_HOUR", c.VolunteerWritesPerHour), "volunteers' sign-ins, sign-ups and check-ins per client address and hour, in bursts of up to 1,000 (a crowd at an activity behind one address); 0 = unlimited (CHUANGWEN_VOLUNTEER_WRITES_PER_HOUR)")
	fs.IntVar(&c.PublicReadsPerMinute, "public-reads-per-minute", envInt("PUBLIC_READS_PER_MINUTE", c.PublicReadsPerMinute), "public page and map requests per client address and minute; 0 = unlimited (CHUANGWEN_PUBLIC_READS_PER_MINUTE)")
	fs.StringVar(&c.TileURL, "tile-url", env("TILE_URL", c.TileURL), "optional XYZ tile URL template for the public map, e.g. a Tianditu WMTS with the city's key; empty = the city's own grid only (CHUANGWEN_TILE_URL)")
	fs.StringVar(&c.TileDatum, "tile-datum", env("TILE_DATUM", c.TileDatum), "datum of the tile service: wgs84 (also CGCS2000) or gcj02 (CHUANGWEN_TILE_DATUM)")
	fs.StringVar(&c.TileAttribution, "tile-attribution", env("TILE_ATTRIBUTION", c.TileAttribution), "attribution shown under the tiles (CHUANGWEN_TILE_ATTRIBUTION)")
	fs.BoolVar(&c.RewardFirstOnly, "reward-first-only", env("REWARD_FIRST_ONLY", "true") != "false", "only a problem's first reporter counts for rewards (CHUANGWEN_REWARD_FIRST_ONLY)")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", env("TRUST_PROXY", "") == "true", "behind a reverse proxy: take the client address from the --proxy-header the proxy sets, when the peer is loopback or private (CHUANGWEN_TRUST_PROXY=true)")
	fs.StringVar(&c.MetricsToken, "metrics-token", env("METRICS_TOKEN", ""), "bearer token that a Prometheus scraper on another host presents for /metrics; set it in the environment rather than on the command line (CHUANGWEN_METRICS_TOKEN)")
	fs.StringVar(&c.PublicURL, "public-url", env("PUBLIC_URL", ""), "the address people reach the program at, e.g. https://cw.example.gov.cn, for the links in QR codes and certificates; empty: the request's own scheme and host (CHUANGWEN_PUBLIC_URL)")
	fs.StringVar(&c.SMSURL, "sms-url", env("SMS_URL", ""), "the SMS gateway that residents' status messages are posted to as JSON (phone_numbers, sign_name, template_code, template_param); empty: no messages (CHUANGWEN_SMS_URL)")
	fs.StringVar(&c.SMSToken, "sms-token", env("SMS_TOKEN", ""), "bearer token for the SMS gateway; set it in the environment (CHUANGWEN_SMS_TOKEN)")
	fs.StringVar(&c.SMSSign, "sms-sign", env("SMS_SIGN", ""), "the message signature approved with the carrier, e.g. 云川市文明办 (CHUANGWEN_SMS_SIGN)")
	fs.StringVar(&c.SMSTemplates, "sms-templates", env("SMS_TEMPLATES", ""), "the approved template for each state that sends a message: accepted=SMS_123,closed=SMS_456,rejected=SMS_789 (CHUANGWEN_SMS_TEMPLATES)")
	fs.StringVar(&c.DataKeyFile, "data-key-file", env("DATA_KEY_FILE", ""), "file holding the data key that seals personal identity numbers, created with a random key on first start; back it up with the database (CHUANGWEN_DATA_KEY_FILE, default <data>/data.key; CHUANGWEN_DATA_KEY gives the key itself in base64)")
	fs.Func("two-factor", "roles that sign in with a code from an authenticator app (TOTP) as well, comma-separated, or none; default admin,acceptor, and none with serve --demo unless given (CHUANGWEN_TWO_FACTOR)", func(v string) error {
		c.TwoFactor, c.twoFactorSet = v, true
		return nil
	})
	if v, ok := os.LookupEnv("CHUANGWEN_TWO_FACTOR"); ok {
		c.TwoFactor, c.twoFactorSet = v, true
	}
	fs.StringVar(&c.ProxyHeader, "proxy-header", env("PROXY_HEADER", web.DefaultProxyHeader), "with --trust-proxy, the one header that carries the client address: X-Forwarded-For (its last hop, the one the proxy appended) or a header the proxy sets, such as X-Real-IP (CHUANGWEN_PROXY_HEADER)")
	fs.BoolVar(&c.Open311ExtendedStatuses, "open311-extended-statuses", env("OPEN311_EXTENDED_STATUSES", "") == "true", "Open311 requests carry detailed statuses (in_progress, fixed, duplicate...) as FixMyStreet reads them; clients may also ask with extended_statuses=true (CHUANGWEN_OPEN311_EXTENDED_STATUSES=true)")
	fs.StringVar(&c.Open311Jurisdiction, "open311-jurisdiction", env("OPEN311_JURISDICTION", c.Open311Jurisdiction), "Open311 jurisdiction_id when several cities share one endpoint (CHUANGWEN_OPEN311_JURISDICTION)")
}

// Validate checks the settings and fills in derived ones.
func (c *Config) Validate() error {
	var errs []error
	if c.Data == "" {
		errs = append(errs, errors.New("--data must not be empty"))
	}
	if c.DB == "" {
		c.DB = filepath.Join(c.Data, "chuangwen.db")
	}
	if c.SMSURL != "" {
		if u, err := url.Parse(c.SMSURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--sms-url %q: want an http(s) address", c.SMSURL))
		}
		if tpl, err := notify.ParseTemplates(c.SMSTemplates); err != nil {
			errs = append(errs, fmt.Errorf("--sms-templates: %w", err))
		} else if len(tpl) == 0 {
			errs = append(errs, errors.New("--sms-templates: name at least one state's template, e.g. accepted=SMS_123,closed=SMS_456"))
		}
		if strings.TrimSpace(c.SMSSign) == "" {
			errs = append(errs, errors.New("--sms-sign: the message signature is needed with --sms-url"))
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("--public-url %q: want a scheme and host only, e.g. https://cw.example.gov.cn", c.PublicURL))
		}
	}
	if c.DataKeyFile == "" {
		c.DataKeyFile = filepath.Join(c.Data, "data.key")
	}
	c.DataKey = os.Getenv("CHUANGWEN_DATA_KEY")
	if strings.HasPrefix(c.DB, "postgres") && !store.IsPostgres(c.DB) {
		errs = append(errs, fmt.Errorf("--db %q: a PostgreSQL URL starts with postgres://", c.DB))
	}
	if c.DBReplica != "" && (!store.IsPostgres(c.DBReplica) || !store.IsPostgres(c.DB)) {
		errs = append(errs, fmt.Errorf("--db-replica: a standby for reads needs PostgreSQL as --db and a postgres:// URL"))
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("--tz %q: %w", c.TimeZone, err))
	}
	if c.MaxPhotoMB < 1 || c.MaxPhotoMB > 200 {
		errs = append(errs, fmt.Errorf("--max-photo-mb %d: must be 1..200", c.MaxPhotoMB))
	}
	if c.Photos == "" {
		c.Photos = filepath.Join(c.Data, "photos")
	}
	for _, src := range strings.Split(c.AutoAccept, ",") {
		if src = strings.TrimSpace(src); src != "" && !slices.Contains(workflow.Sources, src) {
			errs = append(errs, fmt.Errorf("--auto-accept: unknown source %q (want %s)", src, strings.Join(workflow.Sources, ", ")))
		}
	}
	if c.GridFallbackM < 0 || c.GridFallbackM > 5000 {
		errs = append(errs, fmt.Errorf("--grid-fallback-m %d: must be 0..5000", c.GridFallbackM))
	}
	if c.PublicReportsPerHour < 0 || c.PublicReadsPerMinute < 0 || c.VolunteerWritesPerHour < 0 {
		errs = append(errs, errors.New("public rate limits must not be negative"))
	}
	if c.TileDatum != "wgs84" && c.TileDatum != "gcj02" {
		errs = append(errs, fmt.Errorf("--tile-datum %q: want wgs84 or gcj02", c.TileDatum))
	}
	if c.TileURL != "" && !strings.HasPrefix(c.TileURL, "https://") && !strings.HasPrefix(c.TileURL, "http://") && !strings.HasPrefix(c.TileURL, "/") {
		errs = append(errs, fmt.Errorf("--tile-url %q: want an http(s) URL template with {z}/{x}/{y}", c.TileURL))
	}
	if c.ProxyHeader == "" || strings.ContainsFunc(c.ProxyHeader, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) }) {
		errs = append(errs, fmt.Errorf("--proxy-header %q: want a header name such as X-Forwarded-For or X-Real-IP", c.ProxyHeader))
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		errs = append(errs, errors.New("--metrics-token: use at least 16 characters (a random secret)"))
	}
	if c.WatchInterval < time.Second {
		errs = append(errs, fmt.Errorf("--watch-interval %s: must be at least 1s", c.WatchInterval))
	}
	if _, err := c.level(); err != nil {
		errs = append(errs, err)
	}
	for _, r := range c.twoFactorRoles() {
		if !slices.Contains(org.Roles, r) {
			errs = append(errs, fmt.Errorf("--two-factor: unknown role %q (want roles such as admin, acceptor, leader, or none)", r))
		}
	}
	return errors.Join(errs...)
}

// twoFactorRoles are the roles of --two-factor ("none": no role).
func (c *Config) twoFactorRoles() []org.Role {
	var out []org.Role
	for _, r := range strings.Split(c.TwoFactor, ",") {
		if r = strings.TrimSpace(r); r != "" && r != "none" {
			out = append(out, org.Role(r))
		}
	}
	return out
}

func (c *Config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return l, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// redactedDB hides a PostgreSQL password in logs.
func (c *Config) redactedDB() string {
	if i := strings.Index(c.DB, "@"); i > 0 && store.IsPostgres(c.DB) {
		if j := strings.Index(c.DB, "://"); j > 0 {
			userinfo := c.DB[j+3 : i]
			if k := strings.Index(userinfo, ":"); k >= 0 {
				return c.DB[:j+3] + userinfo[:k] + ":***" + c.DB[i:]
			}
		}
	}
	return c.DB
}
