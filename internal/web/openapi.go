package web

import (
	"regexp"
	"strings"
)

// schemas documents the request and response bodies named by the routes.
// Properties are listed, not exhaustively typed: the document tells a
// client what to send and what comes back; the Go types are the truth.
var schemas = map[string]map[string]any{
	"Actor":          obj("name", "string", "role", "string", "unit_id", "integer", "scope", "string", "scope_region_id", "integer", "user_id", "integer"),
	"Case":           obj("id", "integer", "no", "string", "source", "string", "category_id", "integer", "category_name", "string", "description", "string", "lat", "number", "lon", "number", "address", "string", "region_id", "integer", "urgency", "integer", "state", "string", "lead_unit_id", "integer", "coop_unit_ids", "array", "deadline", "string", "warning", "integer", "overdue", "boolean", "supervised", "boolean", "rework_count", "integer", "version", "integer", "photos", "array", "allowed_actions", "array", "grid_cell_id", "integer", "location_flag", "string", "routing", "object"),
	"CasePage":       obj("cases", "array", "next", "integer", "total", "integer", "total_capped", "boolean"),
	"NewCase":        obj("category_id", "integer", "description", "string", "lat", "number", "lon", "number", "address", "string", "region_id", "integer", "urgency", "integer", "source", "string", "reporter_name", "string", "reporter_phone", "string", "coord", "string"),
	"Action":         obj("action", "string", "version", "integer", "opinion", "string", "lead_unit_id", "integer", "coop_unit_ids", "array", "deadline", "string", "merge_into", "integer", "merge_into_no", "string", "category_id", "integer", "urgency", "integer"),
	"Events":         arr(obj("seq", "integer", "at", "string", "actor_name", "string", "actor_role", "string", "action", "string", "from_state", "string", "to_state", "string", "opinion", "string", "data", "string")),
	"Region":         obj("id", "integer", "code", "string", "name", "string", "level", "string", "parent_id", "integer"),
	"Unit":           obj("id", "integer", "code", "string", "name", "string", "kind", "string", "region_id", "integer", "active", "boolean"),
	"NewUser":        obj("username", "string", "display_name", "string", "password", "string", "role", "string", "unit_id", "integer", "scope", "string", "scope_region_id", "integer", "disabled", "boolean"),
	"User":           obj("id", "integer", "username", "string", "display_name", "string", "role", "string", "unit_id", "integer", "scope", "string", "scope_region_id", "integer", "must_change_password", "boolean", "disabled", "boolean"),
	"Password":       obj("password", "string"),
	"Category":       obj("id", "integer", "code", "string", "parent_id", "integer", "name", "string", "standard", "string", "limit_unit", "string", "limit_normal", "integer", "limit_urgent", "integer", "limit_critical", "integer", "active", "boolean", "hint", "string", "staff_only", "boolean", "auto_accept", "boolean", "auto_dispatch", "boolean", "dup_radius_m", "integer"),
	"Responsibility": obj("id", "integer", "category_id", "integer", "region_id", "integer", "lead_unit_id", "integer", "coop_unit_ids", "array"),
	"Calendar":       obj("spans", "string", "days", "array"),
	"Spans":          obj("spans", "string"),
	"Days":           arr(obj("Date", "string", "Working", "boolean", "Name", "string")),
	"PerfRow":        obj("id", "integer", "code", "string", "name", "string", "figures", "object", "rates", "object"),
	"NewToken":       obj("name", "string", "unit_id", "integer"),
	"Token":          obj("id", "integer", "name", "string", "role", "string", "unit_id", "integer", "created_at", "integer", "last_used_at", "integer", "revoked", "boolean", "token", "string"),
	"AuditReport":    obj("entries", "integer", "head_seq", "integer", "head_hash", "string", "ok", "boolean", "broken_seq", "integer", "problem", "string"),
	"Error":          obj("error", "object"),
	"Nearby":         arr(obj("id", "integer", "no", "string", "category_id", "integer", "description", "string", "state", "string", "lat", "number", "lon", "number", "distance_m", "number")),
	"GeoJSON":        obj("type", "string", "features", "array"),
	"GridImport":     obj("created", "integer", "updated", "integer", "errors", "integer", "warnings", "integer", "problems", "array"),
	"Location":       obj("flag", "string", "cell_id", "integer", "cell_code", "string", "cell_name", "string", "region_id", "integer", "owner_unit_id", "integer", "distance_m", "number"),
	"CellCodes":      obj("cell_codes", "array"),
	"Block":          obj("kind", "string", "value", "string", "reason", "string"),
	"Blocks":         arr(obj("kind", "string", "id", "string", "label", "string", "reason", "string", "created_at", "string")),
	"PublicConfig":   obj("city", "string", "center", "object", "bounds", "array", "districts", "array", "categories", "array", "max_photos", "integer", "max_photo_mb", "integer", "max_description", "integer", "tiles", "object", "grid_url", "string", "cases_url", "string"),
	"PublicReport":   obj("category_id", "integer", "description", "string", "lat", "number", "lon", "number", "coord", "string", "name", "string", "phone", "string", "device_id", "string", "photos", "array"),
	"Follow":         obj("case_no", "string", "device_id", "string"),
	"Receipt":        obj("receipt", "string", "case_no", "string", "status_url", "string", "state_text", "string", "kind", "string"),
}

func init() {
	for _, name := range []string{"Region", "Unit", "User", "Token"} {
		schemas[name+"s"] = arr(map[string]any{"$ref": "#/components/schemas/" + name})
	}
	schemas["Categories"] = arr(map[string]any{"$ref": "#/components/schemas/Category"})
	schemas["Responsibilities"] = arr(map[string]any{"$ref": "#/components/schemas/Responsibility"})
	schemas["PerfRows"] = arr(map[string]any{"$ref": "#/components/schemas/PerfRow"})
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
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
		"security": []any{map[string]any{"bearer": []any{}}},
	}
}
