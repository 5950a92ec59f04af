package web

import (
	"encoding"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"time"

	"chuangwen/internal/assess"
	"chuangwen/internal/privacy"
	"chuangwen/internal/report"
	"chuangwen/internal/tasks"
	"chuangwen/internal/volunteer"

	"chuangwen/internal/audit"
	"chuangwen/internal/geo"
	"chuangwen/internal/intake"
	"chuangwen/internal/org"
	"chuangwen/internal/workcal"
	"chuangwen/internal/workflow"
)

// apiTypes are the Go types whose JSON forms are the API's request and
// response bodies, by the schema name the routes use. The document's
// schemas are generated from these types by reflection (json tags,
// embedded structs, marshalers), so they cannot drift from what the
// handlers decode and encode; a test checks that every name a route uses
// is here. formTypes document multipart bodies, which have no Go type.
var apiTypes = map[string]any{
	"Actor":            actorJSON{},
	"Case":             caseView{},
	"CasePage":         workflow.Page{},
	"SavedFilter":      workflow.SavedFilter{},
	"Batch":            workflow.BatchInput{},
	"StockReplies":     map[workflow.Action][]string{},
	"Replies":          []string{},
	"Alerts":           alertPage{},
	"TaskEdit":         tasks.TaskEdit{},
	"AlertsRead":       alertsRead{},
	"CasePoints":       casePoints{},
	"BatchResults":     []batchResultJSON{},
	"SavedFilters":     []workflow.SavedFilter{},
	"NewCase":          newCaseJSON{},
	"Action":           actionJSON{},
	"Events":           []audit.Entry{},
	"Region":           org.Region{},
	"Regions":          []org.Region{},
	"Unit":             org.Unit{},
	"Units":            []org.Unit{},
	"NewUser":          newUserJSON{},
	"User":             org.User{},
	"Users":            []org.User{},
	"Password":         passwordJSON{},
	"Category":         workflow.Category{},
	"Categories":       []workflow.Category{},
	"Attributes":       []workflow.Attribute{},
	"Responsibility":   workflow.Responsibility{},
	"Responsibilities": []workflow.Responsibility{},
	"Calendar":         calendarJSON{},
	"Spans":            spansJSON{},
	"Days":             []workcal.Override{},
	"PerfRows":         []workflow.PerfRow{},
	"NewToken":         newTokenJSON{},
	"Token":            org.Token{},
	"Tokens":           []org.Token{},
	"AuditReport":      audit.Report{},
	"Error":            apiError{},
	"Nearby":           []workflow.NearbyCase{},
	"GridImport":       importView{},
	"Location":         geo.Location{},
	"CellCodes":        cellCodesJSON{},
	"Block":            blockJSON{},
	"Blocks":           []intake.Block{},
	"PublicConfig":     publicConfig{},
	"Follow":           followJSON{},
	"Receipt":          publicReceipt{},
	// Assessment.
	"Editions":      []assess.EditionInfo{},
	"EditionInfo":   assess.EditionInfo{},
	"Tree":          treeJSON{},
	"Sites":         []siteJSON{},
	"ImportReport":  assess.ImportReport{},
	"Rounds":        []assess.Round{},
	"NewRound":      newRoundJSON{},
	"Round":         assess.Round{},
	"RoundSites":    []assess.RoundSite{},
	"ScoresDoc":     assess.ScoresDoc{},
	"LedgerDoc":     assess.LedgerDoc{},
	"Entries":       []assess.EntryRow{},
	"Rankings":      rankingsJSON{},
	"Proposals":     []assess.Proposal{},
	"EscalationIn":  escalationJSON{},
	"Escalation":    assess.Escalation{},
	"Escalations":   []assess.Escalation{},
	"RaiseReport":   assess.RaiseReport{},
	"Differences":   []assess.Difference{},
	"Teams":         []assess.Team{},
	"TeamIn":        teamJSON{},
	"Team":          assess.Team{},
	"Assignments":   []assess.Assignment{},
	"Checklist":     assess.Checklist{},
	"ObservationIn": observationJSON{},
	"Submitted":     assess.Submitted{},
	"Values":        []assess.ValueIn{},
	"SiteDetail":    assess.SiteDetail{},
	// Reports.
	"Bulletin":            report.Doc{},
	"Bulletins":           []report.Published{},
	"Published":           report.Published{},
	"PublishIn":           publishJSON{},
	"BulletinDifferences": []report.Difference{},
	"Notices":             []report.Notice{},
	"MonthReport":         report.MonthDoc{},
	"LeaderView":          report.LeaderView{},
	"Webhooks":            []report.Webhook{},
	"Webhook":             report.Webhook{},
	"WebhookIn":           webhookJSON{},
	"Deliveries":          []report.Delivery{},
	"Notice":              report.Notice{},
	"NoticeDoc":           report.NoticeDoc{},
	"InstantNotice":       instantJSON{},
	"EvidenceFile":        assess.EvidenceFile{},
	"EvidenceFiles":       []assess.EvidenceFile{},
	// Re-checks.
	"Revisits":       []workflow.RevisitItem{},
	"Recurrences":    recurrences{},
	"SiteRechecks":   []assess.Recheck{},
	"Tasks":          []tasks.Task{},
	"PersonalAccess": []privacy.Access{},
	"Oversight":      report.Oversight{},
	"Task":           tasks.Task{},
	"TaskBoard":      tasks.Board{},
	"TaskImport":     taskImport{},
	"TaskReport":     tasks.Report{},
	"TaskDecision":   taskDecision{},
	"SiteRecheck":    assess.Recheck{},
	"SiteRecheckIn":  siteRecheckIn{},
	// Volunteer service.
	"VolunteerStats": volunteer.Stats{},
	"VolunteerTeams": []volunteer.Team{},
	"VolunteerPage":  volunteerPage{},
	"Activities":     []volunteer.Activity{},
	"Activity":       volunteer.Activity{},
	"NewActivity":    volunteer.NewActivity{},
	"Attendance":     []volunteer.Attendance{},
	"Certificate":    volunteer.Certificate{},
	"RosterReport":   rosterReport{},
}

// formTypes are multipart bodies: field name → type.
var formTypes = map[string][]string{
	"EvidenceForm":   {"file", "string", "standard", "string", "region", "string", "note", "string"},
	"TaskReportForm": {"body", "string", "file", "array"},
	"RevisitForm":    {"result", "string", "note", "string", "version", "integer", "photo", "array"},
	"PublicReport":   {"category_id", "integer", "description", "string", "lat", "number", "lon", "number", "coord", "string", "name", "string", "phone", "string", "device_id", "string", "photos", "array"},
}

// genericSchemas are bodies with no fixed shape: GeoJSON passes through.
var genericSchemas = map[string]map[string]any{
	"GeoJSON": obj("type", "string", "features", "array"),
}

// buildSchemas generates the components.schemas of the document.
func buildSchemas() map[string]any {
	named := map[reflect.Type]string{}
	for name, v := range apiTypes {
		if t := reflect.TypeOf(v); t.Kind() == reflect.Struct {
			named[t] = name
		}
	}
	out := map[string]any{}
	for name, v := range apiTypes {
		out[name] = schemaOf(reflect.TypeOf(v), named, name, 0)
	}
	for name, kv := range formTypes {
		out[name] = obj(kv...)
	}
	for name, sc := range genericSchemas {
		out[name] = sc
	}
	return out
}

var (
	timeType          = reflect.TypeOf(time.Time{})
	jsonMarshalerType = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	textMarshalerType = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

// schemaOf is the JSON schema of t as encoding/json writes it. Named API
// types other than self become references.
func schemaOf(t reflect.Type, named map[reflect.Type]string, self string, depth int) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if name, ok := named[t]; ok && name != self {
		return schemaRef(name)
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(jsonMarshalerType):
		return map[string]any{}
	case t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType):
		return map[string]any{"type": "string"}
	}
	if depth > 6 {
		return map[string]any{"type": "object"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return arr(schemaOf(t.Elem(), named, "", depth+1))
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), named, "", depth+1)}
	case reflect.Struct:
		props := map[string]any{}
		addFields(t, props, named, depth)
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}

// addFields adds the JSON fields of struct t (embedded structs flattened,
// as encoding/json does) to props.
func addFields(t reflect.Type, props map[string]any, named map[reflect.Type]string, depth int) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			addFields(ft, props, named, depth)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = schemaOf(f.Type, named, "", depth+1)
	}
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

func schemaRef(name string) map[string]any {
	switch name {
	case "object":
		return map[string]any{"type": "object"}
	case "binary":
		return map[string]any{"type": "string", "format": "binary"}
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// OpenAPI builds the OpenAPI 3 document from the API routes.
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range s.routes {
		if !rt.api {
			continue
		}
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": map[string]any{"type": "string"}})
		}
		okStatus := "200"
		if rt.status != 0 {
			okStatus = itoa(int64(rt.status))
		}
		content := "application/json"
		if rt.resp == "binary" {
			content = "image/*"
		}
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": strings.ToLower(rt.method) + strings.NewReplacer("/api/v1", "", "/", "_", "{", "", "}", "", ".", "_").Replace(rt.path),
			"responses": map[string]any{
				okStatus:  map[string]any{"description": "OK", "content": map[string]any{content: map[string]any{"schema": schemaRef(rt.resp)}}},
				"default": map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": schemaRef("Error")}}},
			},
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.body != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schemaRef(rt.body)}}}
		}
		if rt.public {
			op["security"] = []any{}
		}
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "Chuangwen API",
			"version":     "1",
			"description": "Civilized-city campaign platform: cases and their closed loop, organisation, calendar, performance. Authenticate with `Authorization: Bearer <token>` (chuangwen token create) or a console session plus the X-CSRF-Token header for writes.",
		},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": buildSchemas(),
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
		"security": []any{map[string]any{"bearer": []any{}}},
	}
}

func obj(kv ...string) map[string]any {
	props := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		props[kv[i]] = map[string]any{"type": kv[i+1]}
	}
	return map[string]any{"type": "object", "properties": props}
}

func arr(item map[string]any) map[string]any {
	return map[string]any{"type": "array", "items": item}
}
