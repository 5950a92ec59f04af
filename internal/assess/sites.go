package assess

import (
	"bytes"
	"chuangwen/internal/sheet"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/geo"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
)

// SiteColumns are the columns of the sites file (CSV, or the first sheet
// of a workbook), in the order export writes them.
var SiteColumns = []string{"code", "name", "type", "region", "lat", "lon", "address", "unit", "chief"}

var siteRequired = []string{"code", "name", "type"}

// SiteRow is a stored site (点位) as the registry lists it.
type SiteRow struct {
	ID       int64    `json:"id"`
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	RegionID int64    `json:"region_id"`
	Region   string   `json:"region"` // the region's code
	Lat      *float64 `json:"lat"`
	Lon      *float64 `json:"lon"`
	Address  string   `json:"address"`
	Unit     string   `json:"unit"` // the responsible unit's code, "" when none
	Chief    string   `json:"chief"`
	Active   bool     `json:"active"`
}

// ImportReport counts what an import stored.
type ImportReport struct {
	Rows    int `json:"rows"`
	Created int `json:"created"`
	Updated int `json:"updated"`
}

type siteIn struct {
	code, name, address, chief string
	typeID, regionID, unitID   int64
	lat, lon                   *float64
}

// ImportSites reads the site registry's file (CSV or XLSX with the
// columns of SiteColumns; code, name and type required) and stores every
// row: a new code adds a site, a known code updates it (an update leaves
// the active flag as it was). A site's region is the region code given
// (a district, street or community); without one, its lat/lon (WGS-84)
// are placed through the grid. A file with any problem stores nothing.
func (s *Service) ImportSites(ctx context.Context, actor org.Actor, r io.Reader, format Format) (ImportReport, []Problem, error) {
	if err := canWrite(actor); err != nil {
		return ImportReport{}, nil, err
	}
	pl := &problemList{}
	var t *table
	switch format {
	case FormatCSV:
		t = csvTable(r, pl, SiteColumns, siteRequired)
	case FormatXLSX:
		t = xlsxTable(r, pl, SiteColumns, siteRequired)
	default:
		return ImportReport{}, nil, badFormat(format, FormatCSV, FormatXLSX)
	}
	if t == nil {
		ps := pl.done()
		return ImportReport{}, ps, problemsError(ps)
	}
	q := s.DB.Reader()
	regions, err := loadRegions(ctx, q)
	if err != nil {
		return ImportReport{}, nil, err
	}
	units, err := codeMap(ctx, q, `SELECT code, id FROM units`)
	if err != nil {
		return ImportReport{}, nil, err
	}
	types, err := codeMap(ctx, q, `SELECT name, id FROM assess_site_types`)
	if err != nil {
		return ImportReport{}, nil, err
	}
	var sites []siteIn
	firstRow := map[string]int{}
	rows := 0
	for {
		rec, row, err := t.next()
		if err == io.EOF || err == errStop {
			break
		}
		rows++
		in := siteIn{code: t.get(rec, "code"), name: t.get(rec, "name"), address: t.get(rec, "address"), chief: t.get(rec, "chief")}
		ok := true
		bad := func(col, key string, args ...string) {
			t.add(row, col, key, args...)
			ok = false
		}
		switch {
		case in.code == "":
			bad("code", "assess.missing", "field", "code")
		case !validCode(in.code):
			bad("code", "assess.bad_code", "code", in.code)
		default:
			if first, dup := firstRow[in.code]; dup {
				bad("code", "assess.dup_row", "key", in.code, "first_row", strconv.Itoa(first))
			} else {
				firstRow[in.code] = row
			}
		}
		if in.name == "" {
			bad("name", "assess.missing", "field", "name")
		}
		for _, f := range []string{"name", "address", "chief"} {
			if utf8.RuneCountInString(t.get(rec, f)) > MaxTextLen {
				bad(f, "assess.too_long", "field", f, "max", strconv.Itoa(MaxTextLen))
			}
		}
		if typ := t.get(rec, "type"); typ == "" {
			bad("type", "assess.missing", "field", "type")
		} else if in.typeID = types[typ]; in.typeID == 0 {
			bad("type", "assess.unknown_site_type", "type", typ)
		}
		if u := t.get(rec, "unit"); u != "" {
			if in.unitID = units[u]; in.unitID == 0 {
				bad("unit", "assess.unknown_unit", "unit", u)
			}
		}
		lat, lon := t.get(rec, "lat"), t.get(rec, "lon")
		if lat != "" || lon != "" {
			la, e1 := strconv.ParseFloat(lat, 64)
			lo, e2 := strconv.ParseFloat(lon, 64)
			latOK := e1 == nil && la >= -90 && la <= 90 // false for NaN
			lonOK := e2 == nil && lo >= -180 && lo <= 180
			if !latOK || !lonOK {
				col := "lat"
				if latOK {
					col = "lon"
				}
				bad(col, "assess.coordinates", "lat", lat, "lon", lon)
			} else {
				in.lat, in.lon = &la, &lo
			}
		}
		switch code := t.get(rec, "region"); {
		case code != "":
			g := regions.byCode[code]
			switch {
			case g == nil:
				bad("region", "assess.unknown_region", "region", code)
			case g.Level == LevelCity:
				bad("region", "assess.city_region", "region", code)
			default:
				in.regionID = g.ID
			}
		case in.lat != nil:
			var loc geo.Location
			if s.Locator != nil {
				if loc, err = s.Locator.Locate(ctx, *in.lat, *in.lon); err != nil {
					return ImportReport{}, nil, err
				}
			}
			if (loc.Flag == geo.LocCell || loc.Flag == geo.LocNearest) && regions.byID[loc.RegionID] != nil && regions.byID[loc.RegionID].Level != LevelCity {
				in.regionID = loc.RegionID
			} else {
				bad("lat", "assess.unlocated", "lat", lat, "lon", lon)
			}
		case lat == "" && lon == "":
			bad("region", "assess.no_place")
		}
		if ok {
			sites = append(sites, in)
		}
	}
	if ps, err := t.end(pl, rows); err != nil {
		return ImportReport{}, ps, err
	}
	rep := ImportReport{Rows: rows}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		known, err := codeMap(ctx, tx, `SELECT code, id FROM assess_sites`)
		if err != nil {
			return err
		}
		now := store.Ms(s.now())
		const perStmt = 200
		for start := 0; start < len(sites); start += perStmt {
			chunk := sites[start:min(start+perStmt, len(sites))]
			var b strings.Builder
			b.WriteString(`INSERT INTO assess_sites (code, name, site_type_id, region_id, lat, lon, address, unit_id, chief, active, created_at, updated_at) VALUES `)
			args := make([]any, 0, len(chunk)*9)
			for i, in := range chunk {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE, " + strconv.FormatInt(now, 10) + ", " + strconv.FormatInt(now, 10) + ")")
				args = append(args, in.code, in.name, in.typeID, in.regionID, nullFloat(in.lat), nullFloat(in.lon), in.address, nullID(in.unitID), in.chief)
				if known[in.code] != 0 {
					rep.Updated++
				} else {
					rep.Created++
				}
			}
			b.WriteString(` ON CONFLICT (code) DO UPDATE SET name = excluded.name, site_type_id = excluded.site_type_id,
				region_id = excluded.region_id, lat = excluded.lat, lon = excluded.lon, address = excluded.address,
				unit_id = excluded.unit_id, chief = excluded.chief, updated_at = excluded.updated_at`)
			if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
				return err
			}
		}
		return s.trail(ctx, tx, actor, "assess.sites_import", map[string]any{"format": format, "rows": rep.Rows, "created": rep.Created, "updated": rep.Updated})
	})
	if err != nil {
		return ImportReport{}, nil, err
	}
	return rep, nil, nil
}

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// Sites lists the registry by code.
func (s *Service) Sites(ctx context.Context, actor org.Actor) ([]SiteRow, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	out, err := store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (x SiteRow, err error) {
		var lat, lon sql.NullFloat64
		err = r.Scan(&x.ID, &x.Code, &x.Name, &x.Type, &x.RegionID, &x.Region, &lat, &lon, &x.Address, &x.Unit, &x.Chief, &x.Active)
		if lat.Valid && lon.Valid {
			x.Lat, x.Lon = &lat.Float64, &lon.Float64
		}
		return x, err
	}, `SELECT s.id, s.code, s.name, t.name, s.region_id, g.code, s.lat, s.lon, s.address, COALESCE(u.code, ''), s.chief, s.active
		FROM assess_sites s JOIN assess_site_types t ON t.id = s.site_type_id JOIN regions g ON g.id = s.region_id
		LEFT JOIN units u ON u.id = s.unit_id`)
	if err != nil {
		return nil, err
	}
	sortBy(out, func(x SiteRow) string { return x.Code })
	return out, nil
}

// ExportSites writes the registry in the form ImportSites reads (CSV or
// XLSX), by code. The region column holds each site's stored region, so
// a re-import places the sites where they are.
func (s *Service) ExportSites(ctx context.Context, actor org.Actor, format Format, w io.Writer) error {
	if format != FormatCSV && format != FormatXLSX {
		return badFormat(format, FormatCSV, FormatXLSX)
	}
	sites, err := s.Sites(ctx, actor)
	if err != nil {
		return err
	}
	rows := [][]string{SiteColumns}
	for _, x := range sites {
		lat, lon := "", ""
		if x.Lat != nil {
			lat, lon = strconv.FormatFloat(*x.Lat, 'f', -1, 64), strconv.FormatFloat(*x.Lon, 'f', -1, 64)
		}
		rows = append(rows, []string{x.Code, x.Name, x.Type, x.Region, lat, lon, x.Address, x.Unit, x.Chief})
	}
	if format == FormatXLSX {
		return writeSheet(w, "点位", rows, func(r, c int) bool { return r > 0 && (c == 4 || c == 5) })
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	for _, row := range rows {
		_ = cw.Write(sheet.SafeCSV(row))
	}
	if cw.Flush(); cw.Error() != nil {
		return cw.Error()
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// SiteResult is a site's latest inspection: the round that last sampled
// it (by inspection date) and what was found there.
type SiteResult struct {
	Round string `json:"round"`
	Date  string `json:"date"`
	Pass  int    `json:"pass"`
	Fail  int    `json:"fail"`
	NA    int    `json:"na"`
}

// LatestResults returns each site's latest result among the mock rounds
// that observed it, by site id.
func (s *Service) LatestResults(ctx context.Context, actor org.Actor) (map[int64]SiteResult, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	type row struct {
		site int64
		SiteResult
	}
	rows, err := store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (x row, err error) {
		return x, r.Scan(&x.site, &x.Round, &x.Date, &x.Pass, &x.Fail, &x.NA)
	}, `SELECT o.site_id, r.code, r.inspection_date,
			SUM(CASE WHEN o.result = 'pass' THEN 1 ELSE 0 END), SUM(CASE WHEN o.result = 'fail' THEN 1 ELSE 0 END), SUM(CASE WHEN o.result = 'na' THEN 1 ELSE 0 END)
		FROM assess_observations o JOIN assess_rounds r ON r.id = o.round_id
		WHERE r.kind = 'mock' GROUP BY o.site_id, r.id, r.code, r.inspection_date ORDER BY r.inspection_date, r.id`)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]SiteResult, len(rows))
	for _, x := range rows {
		out[x.site] = x.SiteResult // later rounds overwrite earlier ones
	}
	return out, nil
}

// SitePhoto is a photo of a site in the registry.
type SitePhoto struct {
	ID        int64  `json:"id"`
	Mime      string `json:"mime"`
	Size      int64  `json:"size"`
	CreatedAt int64  `json:"created_at"`
	path      string
}

// SiteVisit is what one round found at a site.
type SiteVisit struct {
	Round string `json:"round"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Date  string `json:"date"`
	Pass  int    `json:"pass"`
	Fail  int    `json:"fail"`
	NA    int    `json:"na"`
	Cases int    `json:"cases"`
}

// SiteDetail is a site's page: the registry row, its photos and every
// round that sampled it, newest first.
type SiteDetail struct {
	Site   SiteRow     `json:"site"`
	Photos []SitePhoto `json:"photos"`
	Visits []SiteVisit `json:"visits"`
}

// Site returns a site's detail.
func (s *Service) Site(ctx context.Context, actor org.Actor, code string) (SiteDetail, error) {
	if err := canRead(actor); err != nil {
		return SiteDetail{}, err
	}
	q := s.DB.Reader()
	var d SiteDetail
	sites, err := s.Sites(ctx, actor)
	if err != nil {
		return d, err
	}
	for _, st := range sites {
		if st.Code == code {
			d.Site = st
		}
	}
	if d.Site.ID == 0 {
		return d, apperr.New(apperr.NotFound, "assess.unknown_site", "site", code)
	}
	if d.Photos, err = store.Collect(ctx, q, func(r store.Scanner) (p SitePhoto, err error) {
		return p, r.Scan(&p.ID, &p.Mime, &p.Size, &p.CreatedAt, &p.path)
	}, `SELECT id, mime, size, created_at, path FROM assess_site_photos WHERE site_id = ? ORDER BY id`, d.Site.ID); err != nil {
		return d, err
	}
	d.Visits, err = store.Collect(ctx, q, func(r store.Scanner) (v SiteVisit, err error) {
		return v, r.Scan(&v.Round, &v.Name, &v.Kind, &v.Date, &v.Pass, &v.Fail, &v.NA, &v.Cases)
	}, `SELECT r.code, r.name, r.kind, r.inspection_date,
			(SELECT COUNT(*) FROM assess_observations o WHERE o.round_id = r.id AND o.site_id = x.site_id AND o.result = 'pass'),
			(SELECT COUNT(*) FROM assess_observations o WHERE o.round_id = r.id AND o.site_id = x.site_id AND o.result = 'fail'),
			(SELECT COUNT(*) FROM assess_observations o WHERE o.round_id = r.id AND o.site_id = x.site_id AND o.result = 'na'),
			(SELECT COUNT(*) FROM assess_observations o WHERE o.round_id = r.id AND o.site_id = x.site_id AND o.case_id IS NOT NULL)
		FROM assess_round_sites x JOIN assess_rounds r ON r.id = x.round_id WHERE x.site_id = ? ORDER BY r.inspection_date DESC, r.id DESC`, d.Site.ID)
	return d, err
}

// SetSiteActive activates or deactivates a site (an inactive site is not
// drawn by new rounds); the administrator's, with a trail entry.
func (s *Service) SetSiteActive(ctx context.Context, actor org.Actor, code string, active bool) error {
	if err := canWrite(actor); err != nil {
		return err
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.Change(ctx, apperr.New(apperr.NotFound, "assess.unknown_site", "site", code), `UPDATE assess_sites SET active = ?, updated_at = ? WHERE code = ?`, active, store.Ms(s.now()), code); err != nil {
			return err
		}
		return s.trail(ctx, tx, actor, "assess.site_active", map[string]any{"site": code, "active": active})
	})
}

// AddSitePhotos records photos (already stored by the photo pipeline) of a
// site; the administrator's, with a trail entry.
func (s *Service) AddSitePhotos(ctx context.Context, actor org.Actor, code string, files []photo.File) error {
	if err := canWrite(actor); err != nil {
		return err
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM assess_sites WHERE code = ?`, code).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err != nil {
			return apperr.New(apperr.NotFound, "assess.unknown_site", "site", code)
		}
		now := store.Ms(s.now())
		for _, f := range files {
			if _, err := tx.Exec(ctx, `INSERT INTO assess_site_photos (site_id, path, mime, size, sha256, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				id, f.Path, f.Mime, f.Size, f.SHA256, nullID(actor.UserID), now); err != nil {
				return err
			}
		}
		return s.trail(ctx, tx, actor, "assess.site_photos", map[string]any{"site": code, "photos": len(files)})
	})
}

// SitePhotoPath returns the stored path of a site's photo, for a reader.
func (s *Service) SitePhotoPath(ctx context.Context, actor org.Actor, code string, id int64) (SitePhoto, error) {
	if err := canRead(actor); err != nil {
		return SitePhoto{}, err
	}
	var p SitePhoto
	err := s.DB.Reader().QueryRow(ctx, `SELECT p.id, p.mime, p.size, p.created_at, p.path FROM assess_site_photos p JOIN assess_sites s ON s.id = p.site_id
		WHERE s.code = ? AND p.id = ?`, code, id).Scan(&p.ID, &p.Mime, &p.Size, &p.CreatedAt, &p.path)
	if err != nil {
		return p, apperr.New(apperr.NotFound, "not_found")
	}
	return p, nil
}

// Path is where the photo is kept in the blob store.
func (p SitePhoto) Path() string { return p.path }
