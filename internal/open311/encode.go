package open311

import (
	"encoding/xml"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The wire shapes come in pairs: XML structs of plain strings (an empty
// value is an empty element) and JSON structs of pointers (an empty value
// is null), following the Spark convention the specification uses to map
// one onto the other.

// opt is the JSON form of an optional string: null when empty.
func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// stamp writes t as ISO 8601 with the zone's offset, "" for the zero time.
func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02T15:04:05Z07:00")
}

func number(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// ---- services

type xServices struct {
	XMLName xml.Name   `xml:"services"`
	Items   []xService `xml:"service"`
}

type xService struct {
	Code        string `xml:"service_code"`
	Name        string `xml:"service_name"`
	Description string `xml:"description"`
	Metadata    bool   `xml:"metadata"`
	Type        string `xml:"type"`
	Keywords    string `xml:"keywords"`
	Group       string `xml:"group"`
}

type jService struct {
	Code        *string `json:"service_code"`
	Name        *string `json:"service_name"`
	Description *string `json:"description"`
	Metadata    bool    `json:"metadata"`
	Type        *string `json:"type"`
	Keywords    *string `json:"keywords"`
	Group       *string `json:"group"`
}

func serviceType(t string) string {
	if t == "" {
		return "realtime"
	}
	return t
}

func encodeServices(svcs []Service) (xServices, []jService) {
	x := xServices{Items: make([]xService, 0, len(svcs))}
	j := make([]jService, 0, len(svcs))
	for _, s := range svcs {
		kw := strings.Join(s.Keywords, ",")
		x.Items = append(x.Items, xService{s.Code, s.Name, s.Description, s.Metadata, serviceType(s.Type), kw, s.Group})
		j = append(j, jService{opt(s.Code), opt(s.Name), opt(s.Description), s.Metadata, opt(serviceType(s.Type)), opt(kw), opt(s.Group)})
	}
	return x, j
}

// ---- service definition

type xDefinition struct {
	XMLName    xml.Name `xml:"service_definition"`
	Code       string   `xml:"service_code"`
	Attributes struct {
		Items []xAttribute `xml:"attribute"`
	} `xml:"attributes"`
}

type xAttribute struct {
	Variable            bool   `xml:"variable"`
	Code                string `xml:"code"`
	Datatype            string `xml:"datatype"`
	Required            bool   `xml:"required"`
	DatatypeDescription string `xml:"datatype_description"`
	Order               int    `xml:"order"`
	Description         string `xml:"description"`
	Values              struct {
		Items []xValue `xml:"value"`
	} `xml:"values"`
}

type xValue struct {
	Key  string `xml:"key"`
	Name string `xml:"name"`
}

type jDefinition struct {
	Code       *string      `json:"service_code"`
	Attributes []jAttribute `json:"attributes"`
}

type jAttribute struct {
	Variable            bool     `json:"variable"`
	Code                *string  `json:"code"`
	Datatype            *string  `json:"datatype"`
	Required            bool     `json:"required"`
	DatatypeDescription *string  `json:"datatype_description"`
	Order               int      `json:"order"`
	Description         *string  `json:"description"`
	Values              []jValue `json:"values"`
}

type jValue struct {
	Key  *string `json:"key"`
	Name *string `json:"name"`
}

func encodeDefinition(code string, attrs []Attribute) (xDefinition, jDefinition) {
	// Clients present attributes by order; writing them so spares the
	// ones that do not sort. The Backend's slice is left as it was.
	attrs = slices.Clone(attrs)
	slices.SortStableFunc(attrs, func(a, b Attribute) int { return a.Order - b.Order })
	x := xDefinition{Code: code}
	x.Attributes.Items = make([]xAttribute, 0, len(attrs))
	j := jDefinition{Code: opt(code), Attributes: make([]jAttribute, 0, len(attrs))}
	for _, a := range attrs {
		xa := xAttribute{Variable: a.Variable, Code: a.Code, Datatype: a.Datatype, Required: a.Required,
			DatatypeDescription: a.DatatypeDescription, Order: a.Order, Description: a.Description}
		xa.Values.Items = make([]xValue, 0, len(a.Values))
		ja := jAttribute{Variable: a.Variable, Code: opt(a.Code), Datatype: opt(a.Datatype), Required: a.Required,
			DatatypeDescription: opt(a.DatatypeDescription), Order: a.Order, Description: opt(a.Description),
			Values: make([]jValue, 0, len(a.Values))}
		for _, v := range a.Values {
			xa.Values.Items = append(xa.Values.Items, xValue(v))
			ja.Values = append(ja.Values, jValue{opt(v.Key), opt(v.Name)})
		}
		x.Attributes.Items = append(x.Attributes.Items, xa)
		j.Attributes = append(j.Attributes, ja)
	}
	return x, j
}

// ---- POST and token answers

type xRequests[T any] struct {
	XMLName xml.Name `xml:"service_requests"`
	Items   []T      `xml:"request"`
}

type xCreated struct {
	ID        string `xml:"service_request_id,omitempty"`
	Token     string `xml:"token,omitempty"`
	Notice    string `xml:"service_notice"`
	AccountID string `xml:"account_id"`
}

type jCreated struct {
	ID        *string `json:"service_request_id,omitempty"`
	Token     *string `json:"token,omitempty"`
	Notice    *string `json:"service_notice"`
	AccountID *string `json:"account_id"`
}

func encodeCreated(c Created) (xRequests[xCreated], []jCreated) {
	return xRequests[xCreated]{Items: []xCreated{{c.ID, c.Token, c.Notice, c.AccountID}}},
		[]jCreated{{opt(c.ID), opt(c.Token), opt(c.Notice), opt(c.AccountID)}}
}

type xToken struct {
	ID    string `xml:"service_request_id"`
	Token string `xml:"token"`
}

type jToken struct {
	ID    *string `json:"service_request_id"`
	Token *string `json:"token"`
}

func encodeToken(id, token string) (xRequests[xToken], []jToken) {
	return xRequests[xToken]{Items: []xToken{{id, token}}}, []jToken{{opt(id), opt(token)}}
}

// ---- service requests

type xRequest struct {
	ID                string `xml:"service_request_id"`
	Status            string `xml:"status"`
	StatusNotes       string `xml:"status_notes"`
	ServiceName       string `xml:"service_name"`
	ServiceCode       string `xml:"service_code"`
	Description       string `xml:"description"`
	AgencyResponsible string `xml:"agency_responsible"`
	ServiceNotice     string `xml:"service_notice"`
	Requested         string `xml:"requested_datetime"`
	Updated           string `xml:"updated_datetime"`
	Expected          string `xml:"expected_datetime"`
	Address           string `xml:"address"`
	AddressID         string `xml:"address_id"`
	Zipcode           string `xml:"zipcode"`
	Lat               string `xml:"lat"`
	Long              string `xml:"long"`
	MediaURL          string `xml:"media_url"`
	// Present only with extensions=true (a nil pointer writes nothing).
	Attributes *struct {
		Items []xPair `xml:"attribute"`
	} `xml:"attributes"`
	Extended *xExtended `xml:"extended_attributes"`
	Notes    *struct {
		Items []xNote `xml:"note"`
	} `xml:"notes"`
}

type xPair struct {
	Code  string `xml:"code"`
	Value string `xml:"value"`
}

type xExtended struct {
	Channel string `xml:"channel"`
	Photos  struct {
		Items []xPhoto `xml:"photo"`
	} `xml:"photos"`
	Duplicate bool   `xml:"duplicate"`
	ParentID  string `xml:"parent_service_request_id"`
}

type xPhoto struct {
	MediaURL string `xml:"media_url"`
}

type xNote struct {
	At          string `xml:"datetime"`
	Description string `xml:"description"`
	Type        string `xml:"type"`
	Summary     string `xml:"summary"`
}

type jRequest struct {
	ID                *string    `json:"service_request_id"`
	Status            *string    `json:"status"`
	StatusNotes       *string    `json:"status_notes"`
	ServiceName       *string    `json:"service_name"`
	ServiceCode       *string    `json:"service_code"`
	Description       *string    `json:"description"`
	AgencyResponsible *string    `json:"agency_responsible"`
	ServiceNotice     *string    `json:"service_notice"`
	Requested         *string    `json:"requested_datetime"`
	Updated           *string    `json:"updated_datetime"`
	Expected          *string    `json:"expected_datetime"`
	Address           *string    `json:"address"`
	AddressID         *string    `json:"address_id"`
	Zipcode           *string    `json:"zipcode"`
	Lat               *float64   `json:"lat"`
	Long              *float64   `json:"long"`
	MediaURL          *string    `json:"media_url"`
	Attributes        *[]jPair   `json:"attributes,omitempty"`
	Extended          *jExtended `json:"extended_attributes,omitempty"`
	Notes             *[]jNote   `json:"notes,omitempty"`
}

type jPair struct {
	Code  *string `json:"code"`
	Value *string `json:"value"`
}

type jExtended struct {
	Channel   *string  `json:"channel"`
	Photos    []jPhoto `json:"photos"`
	Duplicate bool     `json:"duplicate"`
	ParentID  *string  `json:"parent_service_request_id"`
}

type jPhoto struct {
	MediaURL *string `json:"media_url"`
}

type jNote struct {
	At          *string `json:"datetime"`
	Description *string `json:"description"`
	Type        *string `json:"type"`
	Summary     *string `json:"summary"`
}

func encodeRequests(rs []Request, extensions bool, loc *time.Location) (xRequests[xRequest], []jRequest) {
	x := xRequests[xRequest]{Items: make([]xRequest, 0, len(rs))}
	j := make([]jRequest, 0, len(rs))
	for _, r := range rs {
		req, exp, upd := stamp(r.Requested, loc), stamp(r.Expected, loc), stamp(r.Updated, loc)
		xr := xRequest{
			ID: r.ID, Status: r.Status, StatusNotes: r.StatusNotes, ServiceName: r.ServiceName,
			ServiceCode: r.ServiceCode, Description: r.Description, AgencyResponsible: r.AgencyResponsible,
			ServiceNotice: r.ServiceNotice, Requested: req, Updated: upd, Expected: exp,
			Address: r.Address, AddressID: r.AddressID, Zipcode: r.Zipcode,
			Lat: number(r.Lat), Long: number(r.Long), MediaURL: r.MediaURL,
		}
		jr := jRequest{
			ID: opt(r.ID), Status: opt(r.Status), StatusNotes: opt(r.StatusNotes), ServiceName: opt(r.ServiceName),
			ServiceCode: opt(r.ServiceCode), Description: opt(r.Description), AgencyResponsible: opt(r.AgencyResponsible),
			ServiceNotice: opt(r.ServiceNotice), Requested: opt(req), Updated: opt(upd), Expected: opt(exp),
			Address: opt(r.Address), AddressID: opt(r.AddressID), Zipcode: opt(r.Zipcode),
			Lat: r.Lat, Long: r.Long, MediaURL: opt(r.MediaURL),
		}
		if extensions {
			encodeExtended(&xr, &jr, r.Extended, loc)
		}
		x.Items = append(x.Items, xr)
		j = append(j, jr)
	}
	return x, j
}

// encodeExtended fills the extension fields; with extensions=true they are
// always present (empty when the Backend gave none) so their shape does
// not depend on the data.
func encodeExtended(xr *xRequest, jr *jRequest, e *Extended, loc *time.Location) {
	if e == nil {
		e = &Extended{}
	}
	xr.Attributes = &struct {
		Items []xPair `xml:"attribute"`
	}{}
	pairs := []jPair{}
	codes := make([]string, 0, len(e.Attributes))
	for c := range e.Attributes {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		for _, v := range e.Attributes[c] {
			xr.Attributes.Items = append(xr.Attributes.Items, xPair{c, v})
			pairs = append(pairs, jPair{opt(c), opt(v)})
		}
	}
	jr.Attributes = &pairs

	xr.Extended = &xExtended{Channel: e.Channel, Duplicate: e.Duplicate, ParentID: e.ParentID}
	je := &jExtended{Channel: opt(e.Channel), Photos: make([]jPhoto, 0, len(e.Photos)), Duplicate: e.Duplicate, ParentID: opt(e.ParentID)}
	for _, p := range e.Photos {
		xr.Extended.Photos.Items = append(xr.Extended.Photos.Items, xPhoto{p})
		je.Photos = append(je.Photos, jPhoto{opt(p)})
	}
	jr.Extended = je

	xr.Notes = &struct {
		Items []xNote `xml:"note"`
	}{}
	notes := make([]jNote, 0, len(e.Notes))
	for _, n := range e.Notes {
		at := stamp(n.At, loc)
		xr.Notes.Items = append(xr.Notes.Items, xNote{at, n.Description, n.Type, n.Summary})
		notes = append(notes, jNote{opt(at), opt(n.Description), opt(n.Type), opt(n.Summary)})
	}
	jr.Notes = &notes
}

// ---- servicerequestupdates

type xUpdate struct {
	ID          string `xml:"update_id"`
	RequestID   string `xml:"service_request_id"`
	Status      string `xml:"status"`
	At          string `xml:"updated_datetime"`
	Description string `xml:"description"`
	MediaURL    string `xml:"media_url"`
}

type jUpdate struct {
	ID          *string `json:"update_id"`
	RequestID   *string `json:"service_request_id"`
	Status      *string `json:"status"`
	At          *string `json:"updated_datetime"`
	Description *string `json:"description"`
	MediaURL    *string `json:"media_url"`
}

func encodeUpdate(u Update, loc *time.Location) (xUpdate, jUpdate) {
	at := stamp(u.At, loc)
	return xUpdate{u.ID, u.RequestID, u.Status, at, u.Description, u.MediaURL},
		jUpdate{opt(u.ID), opt(u.RequestID), opt(u.Status), opt(at), opt(u.Description), opt(u.MediaURL)}
}

type xUpdateIDs struct {
	XMLName xml.Name    `xml:"service_request_updates"`
	Items   []xUpdateID `xml:"request_update"`
}

type xUpdateID struct {
	ID string `xml:"update_id"`
}

type jUpdateID struct {
	ID *string `json:"update_id"`
}

// encodeUpdateID is the answer to a POST servicerequestupdates: a list of
// one update_id, as FixMyStreet reads it.
func encodeUpdateID(id string) (xUpdateIDs, []jUpdateID) {
	return xUpdateIDs{Items: []xUpdateID{{id}}}, []jUpdateID{{opt(id)}}
}

// ---- discovery

type xDiscovery struct {
	XMLName    xml.Name `xml:"discovery"`
	Changeset  string   `xml:"changeset"`
	Contact    string   `xml:"contact"`
	KeyService string   `xml:"key_service"`
	Endpoints  struct {
		Items []xEndpoint `xml:"endpoint"`
	} `xml:"endpoints"`
}

type xEndpoint struct {
	Specification string `xml:"specification"`
	URL           string `xml:"url"`
	Changeset     string `xml:"changeset"`
	Type          string `xml:"type"`
	Formats       struct {
		Items []string `xml:"format"`
	} `xml:"formats"`
}

type jDiscovery struct {
	Changeset  *string     `json:"changeset"`
	Contact    *string     `json:"contact"`
	KeyService *string     `json:"key_service"`
	Endpoints  []jEndpoint `json:"endpoints"`
}

type jEndpoint struct {
	Specification *string  `json:"specification"`
	URL           *string  `json:"url"`
	Changeset     *string  `json:"changeset"`
	Type          *string  `json:"type"`
	Formats       []string `json:"formats"`
}

func encodeDiscovery(d Discovery) (xDiscovery, jDiscovery) {
	x := xDiscovery{Changeset: d.Changeset, Contact: d.Contact, KeyService: d.KeyService}
	x.Endpoints.Items = make([]xEndpoint, 0, len(d.Endpoints))
	j := jDiscovery{opt(d.Changeset), opt(d.Contact), opt(d.KeyService), make([]jEndpoint, 0, len(d.Endpoints))}
	for _, e := range d.Endpoints {
		xe := xEndpoint{Specification: e.Specification, URL: e.URL, Changeset: e.Changeset, Type: e.Type}
		xe.Formats.Items = slices.Clone(e.Formats)
		x.Endpoints.Items = append(x.Endpoints.Items, xe)
		j.Endpoints = append(j.Endpoints, jEndpoint{opt(e.Specification), opt(e.URL), opt(e.Changeset), opt(e.Type),
			append([]string{}, e.Formats...)})
	}
	return x, j
}

// ---- errors

type xErrors struct {
	XMLName xml.Name `xml:"errors"`
	Items   []xError `xml:"error"`
}

type xError struct {
	Code        string `xml:"code"`
	Description string `xml:"description"`
}

type jError struct {
	Code        any    `json:"code"` // a number when the code is one, as in the specification
	Description string `json:"description"`
}

func encodeError(code, desc string) (xErrors, []jError) {
	var jc any = code
	if n, err := strconv.Atoi(code); err == nil && strconv.Itoa(n) == code {
		jc = n
	}
	return xErrors{Items: []xError{{code, desc}}}, []jError{{jc, desc}}
}
