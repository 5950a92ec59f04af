package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/store"
)

// Config is every setting of the program. Each has a default, a flag and
// an environment variable (CHUANGWEN_<NAME>); a flag beats the variable.
type Config struct {
	Addr          string
	Data          string
	DB            string
	LogLevel      string
	TimeZone      string
	MaxPhotoMB    int
	SecureCookies bool
	WatchInterval time.Duration
}

// defaults returns the configuration of a fresh install.
func defaults() Config {
	return Config{Addr: "127.0.0.1:8080", Data: "./data", LogLevel: "info", TimeZone: "Asia/Shanghai", MaxPhotoMB: 20, WatchInterval: time.Minute}
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
	fs.StringVar(&c.LogLevel, "log-level", env("LOG_LEVEL", c.LogLevel), "debug, info, warn or error (CHUANGWEN_LOG_LEVEL)")
	fs.StringVar(&c.TimeZone, "tz", env("TZ_NAME", c.TimeZone), "the city's time zone for deadlines and reports (CHUANGWEN_TZ_NAME)")
	fs.IntVar(&c.MaxPhotoMB, "max-photo-mb", envInt("MAX_PHOTO_MB", c.MaxPhotoMB), "largest accepted photo in MB (CHUANGWEN_MAX_PHOTO_MB)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", env("SECURE_COOKIES", "") == "true", "mark cookies Secure when served over HTTPS (CHUANGWEN_SECURE_COOKIES=true)")
	d, err := time.ParseDuration(env("WATCH_INTERVAL", ""))
	if err != nil {
		d = c.WatchInterval
	}
	fs.DurationVar(&c.WatchInterval, "watch-interval", d, "how often the deadline watch runs (CHUANGWEN_WATCH_INTERVAL)")
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
	if strings.HasPrefix(c.DB, "postgres") && !store.IsPostgres(c.DB) {
		errs = append(errs, fmt.Errorf("--db %q: a PostgreSQL URL starts with postgres://", c.DB))
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("--tz %q: %w", c.TimeZone, err))
	}
	if c.MaxPhotoMB < 1 || c.MaxPhotoMB > 200 {
		errs = append(errs, fmt.Errorf("--max-photo-mb %d: must be 1..200", c.MaxPhotoMB))
	}
	if c.WatchInterval < time.Second {
		errs = append(errs, fmt.Errorf("--watch-interval %s: must be at least 1s", c.WatchInterval))
	}
	if _, err := c.level(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
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
