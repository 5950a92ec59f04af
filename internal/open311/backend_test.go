package open311_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"chuangwen/internal/open311"
)

// memBackend is a small in-memory Backend to exercise the protocol layer;
// the application's own tests run the handler over the real case store.
type memBackend struct {
	now time.Time

	mu        sync.Mutex
	queries   []open311.Query
	langs     []string
	created   []open311.NewRequest
	extension []bool
	// created overrides what Create answers for service "CUSTOM".
	custom open311.Created
	// fail, when set, is returned by every method.
	fail error

	updateQueries []open311.UpdateQuery
	postedUpdates map[string]string // client update_id → ours
	updatesIn     []open311.NewUpdate
	uploads       []*memUploads
}

func newBackend(now time.Time) *memBackend { return &memBackend{now: now} }

func ptr(f float64) *float64 { return &f }

func (b *memBackend) seen(lang string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.langs = append(b.langs, lang)
	return b.fail
}

func (b *memBackend) lastQuery() (open311.Query, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queries) == 0 {
		return open311.Query{}, false
	}
	return b.queries[len(b.queries)-1], true
}

func (b *memBackend) lastLang() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.langs) == 0 {
		return ""
	}
	return b.langs[len(b.langs)-1]
}

func tr(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}

func (b *memBackend) Services(_ context.Context, lang string) ([]open311.Service, error) {
	if err := b.seen(lang); err != nil {
		return nil, err
	}
	return []open311.Service{
		{Code: "GARBAGE", Name: tr(lang, "暴露垃圾", "Exposed garbage"),
			Description: tr(lang, "路面、绿地的垃圾与杂物", "Garbage & debris on roads or lawns"),
			Group:       tr(lang, "市容环境", "City appearance"), Keywords: []string{"垃圾", "杂物"}},
		{Code: "GRAFFITI", Name: tr(lang, "乱涂乱画", "Graffiti"), Group: tr(lang, "市容环境", "City appearance"),
			Metadata: true, Type: "realtime"},
		{Code: "PARKING", Name: tr(lang, "乱停车", "Illegal parking"), Type: "batch"},
	}, nil
}

// graffitiAttributes is deliberately out of order: the handler writes them
// by Order without touching this slice.
var graffitiAttributes = []open311.Attribute{
	{Variable: true, Code: "surface", Datatype: "singlevaluelist", Required: true, Order: 2,
		Description: "涂画在哪里?", Values: []open311.Value{{Key: "wall", Name: "墙面"}, {Key: "pole", Name: "电线杆"}}},
	{Variable: true, Code: "colour", Datatype: "multivaluelist", Order: 1, DatatypeDescription: "可多选",
		Description: "颜色", Values: []open311.Value{{Key: "red", Name: "红"}, {Key: "black", Name: "黑"}}},
	{Variable: false, Code: "hint", Datatype: "text", Order: 3, Description: "请勿自行清除 <油漆> & 溶剂"},
}

func (b *memBackend) Definition(_ context.Context, lang, code string) ([]open311.Attribute, error) {
	if err := b.seen(lang); err != nil {
		return nil, err
	}
	switch code {
	case "GRAFFITI":
		return graffitiAttributes, nil
	case "GARBAGE", "PARKING":
		return nil, nil
	}
	return nil, open311.NotFound(tr(lang, "服务编码 "+code+" 不存在", "No service with code "+code))
}

func (b *memBackend) Create(_ context.Context, r *http.Request, in open311.NewRequest) (open311.Created, error) {
	if err := b.seen(""); err != nil {
		return open311.Created{}, err
	}
	if r == nil {
		return open311.Created{}, errors.New("no http request")
	}
	b.mu.Lock()
	b.created = append(b.created, in)
	custom := b.custom
	b.mu.Unlock()
	if in.APIKey != "key-123" {
		return open311.Created{}, open311.Forbidden("Invalid api_key received -- can't proceed with create_request.")
	}
	switch in.ServiceCode {
	case "GARBAGE":
		return open311.Created{ID: "2026-000101", Notice: "将在2个工作日内处置"}, nil
	case "PARKING":
		return open311.Created{Token: "tok-9", AccountID: in.AccountID}, nil
	case "GRAFFITI":
		if len(in.Attributes["surface"]) == 0 {
			return open311.Created{}, open311.BadRequest("attribute[surface] is required")
		}
		return open311.Created{ID: "2026-000102"}, nil
	case "BROKEN":
		return open311.Created{}, errors.New("insert case: database is locked")
	case "CUSTOM":
		return custom, nil
	}
	return open311.Created{}, open311.NotFound("No service with code " + in.ServiceCode)
}

func (b *memBackend) Token(_ context.Context, token string) (string, error) {
	if err := b.seen(""); err != nil {
		return "", err
	}
	switch token {
	case "tok-9":
		return "2026-000090", nil
	case "tok-pending":
		return "", nil
	}
	return "", open311.NotFound("No such token")
}

func (b *memBackend) requests() []open311.Request {
	now := b.now
	return []open311.Request{
		{ID: "2026-000001", Status: "open", ServiceName: "暴露垃圾", ServiceCode: "GARBAGE",
			Description: "幸福路口堆放建筑垃圾 & <杂物>", AgencyResponsible: "城市管理局",
			Requested: now.Add(-48 * time.Hour), Updated: now.Add(-24 * time.Hour), Expected: now.Add(24 * time.Hour),
			Address: "幸福路12号", Zipcode: "650000", Lat: ptr(25.02), Long: ptr(102.71),
			MediaURL: "https://example.org/p/1.jpg",
			Extended: &open311.Extended{
				Attributes: map[string][]string{"surface": {"wall"}, "colour": {"red", "black"}},
				Channel:    "hotline", Photos: []string{"https://example.org/p/1.jpg", "https://example.org/p/2.jpg"},
				Notes: []open311.Note{
					{At: now.Add(-48 * time.Hour), Description: "市民来电", Type: "submitted"},
					{At: now.Add(-47 * time.Hour), Description: "已派遣至城市管理局", Type: "dispatched", Summary: "派遣"},
				},
			}},
		{ID: "2026-000002", Status: "closed", StatusNotes: "merged", ServiceName: "乱涂乱画", ServiceCode: "GRAFFITI",
			Requested: now.Add(-240 * time.Hour), Updated: now.Add(-120 * time.Hour), Address: "明湖区",
			Extended: &open311.Extended{Duplicate: true, ParentID: "2026-000001"}},
		{ID: "2026-000003", Status: "open", ServiceName: "乱停车", ServiceCode: "PARKING",
			Requested: now.Add(-100 * 24 * time.Hour), Updated: now.Add(-72 * time.Hour), AddressID: "A-778"},
	}
}

func (b *memBackend) Requests(_ context.Context, lang string, q open311.Query) ([]open311.Request, error) {
	if err := b.seen(lang); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.queries = append(b.queries, q)
	b.mu.Unlock()
	var out []open311.Request
	for _, r := range b.requests() {
		switch {
		case len(q.IDs) > 0 && !slices.Contains(q.IDs, r.ID):
		case len(q.IDs) > 0:
			out = append(out, r)
		case len(q.ServiceCodes) > 0 && !slices.Contains(q.ServiceCodes, r.ServiceCode),
			len(q.Status) > 0 && !slices.Contains(q.Status, r.Status),
			!q.Start.IsZero() && r.Requested.Before(q.Start),
			!q.End.IsZero() && r.Requested.After(q.End),
			!q.UpdatedAfter.IsZero() && r.Updated.Before(q.UpdatedAfter),
			!q.UpdatedBefore.IsZero() && r.Updated.After(q.UpdatedBefore):
		default:
			out = append(out, r)
		}
	}
	if len(q.IDs) == 0 {
		from := min((q.Page-1)*q.PageSize, len(out))
		out = out[from:min(from+q.PageSize, len(out))]
	}
	for i := range out {
		if q.ExtendedStatuses {
			out[i].Status = extendedStatus(out[i])
		}
		if !q.Extensions {
			out[i].Extended = nil
		}
	}
	return out, nil
}

func (b *memBackend) Request(_ context.Context, lang, id string, v open311.View) (open311.Request, error) {
	extensions := v.Extensions
	if err := b.seen(lang); err != nil {
		return open311.Request{}, err
	}
	b.mu.Lock()
	b.extension = append(b.extension, extensions)
	b.mu.Unlock()
	for _, r := range b.requests() {
		if r.ID == id {
			if v.ExtendedStatuses {
				r.Status = extendedStatus(r)
			}
			if !extensions {
				r.Extended = nil
			}
			return r, nil
		}
	}
	return open311.Request{}, open311.NotFound(tr(lang, "诉求 "+id+" 不存在", "No service request "+id))
}

// extendedStatus is the detailed status of the memBackend's requests.
func extendedStatus(r open311.Request) string {
	switch {
	case r.Extended != nil && r.Extended.Duplicate:
		return open311.StatusDuplicate
	case r.Status == "open" && r.AgencyResponsible != "":
		return open311.StatusInProgress
	}
	return r.Status
}

// updates is the memBackend's servicerequestupdates feed.
func (b *memBackend) updateList() []open311.Update {
	now := b.now
	return []open311.Update{
		{ID: "9001", RequestID: "2026-000001", Status: "IN_PROGRESS", At: now.Add(-47 * time.Hour), Description: "已派遣至城市管理局"},
		{ID: "9002", RequestID: "2026-000002", Status: "DUPLICATE", At: now.Add(-120 * time.Hour), Description: "与 2026-000001 合并"},
		{ID: "9003", RequestID: "2026-000001", Status: "FIXED", At: now.Add(-time.Hour), Description: "已清运 & 复核",
			MediaURL: "https://example.org/p/after.jpg"},
	}
}

func (b *memBackend) Updates(_ context.Context, lang string, q open311.UpdateQuery, yield func(open311.Update) error) error {
	if err := b.seen(lang); err != nil {
		return err
	}
	b.mu.Lock()
	b.updateQueries = append(b.updateQueries, q)
	b.mu.Unlock()
	us := b.updateList()
	slices.SortFunc(us, func(x, y open311.Update) int { return x.At.Compare(y.At) })
	for _, u := range us {
		if u.At.Before(q.Start) || u.At.After(q.End) {
			continue
		}
		if err := yield(u); err != nil {
			return err
		}
	}
	return nil
}

func (b *memBackend) PostUpdate(_ context.Context, r *http.Request, in open311.NewUpdate) (string, error) {
	if err := b.seen(""); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if in.APIKey != "key-123" {
		return "", open311.Forbidden("Invalid api_key")
	}
	if in.RequestID != "2026-000001" {
		return "", open311.NotFound("No service request " + in.RequestID)
	}
	if b.postedUpdates == nil {
		b.postedUpdates = map[string]string{}
	}
	if id, ok := b.postedUpdates[in.UpdateID]; ok {
		return id, nil
	}
	id := "u-" + strconv.Itoa(len(b.postedUpdates)+1)
	b.postedUpdates[in.UpdateID] = id
	b.updatesIn = append(b.updatesIn, in)
	return id, nil
}

// memUploads keeps the uploaded files in memory.
type memUploads struct {
	b      *memBackend
	files  map[string][]byte
	closed bool
}

func (u *memUploads) Save(_ context.Context, field string, r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(data, []byte("\xff\xd8\xff")) {
		return &open311.Error{Status: http.StatusUnsupportedMediaType, Description: "only JPEG photos"}
	}
	u.files[field] = data
	return nil
}

func (u *memUploads) Close() {
	u.b.mu.Lock()
	defer u.b.mu.Unlock()
	u.closed = true
}

func (b *memBackend) newUploads(*http.Request) open311.Uploads {
	u := &memUploads{b: b, files: map[string][]byte{}}
	b.mu.Lock()
	b.uploads = append(b.uploads, u)
	b.mu.Unlock()
	return u
}
