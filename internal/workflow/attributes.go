package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Attribute is a category-specific question asked with a report (the
// Open311 service definition's attributes), e.g. "是否占用盲道".
type Attribute struct {
	Code        string      `json:"code"`
	Datatype    string      `json:"datatype"` // string, number, datetime, text, singlevaluelist, multivaluelist
	Required    bool        `json:"required"`
	Description string      `json:"description"`
	Order       int         `json:"order"`
	Values      []AttrValue `json:"values,omitempty"`
}

// AttrValue is one choice of a list attribute.
type AttrValue struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// Datatypes are the attribute types of Open311.
var Datatypes = []string{"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}

// CategoryAttributes returns a category's attributes in order.
func (s *Service) CategoryAttributes(ctx context.Context, categoryID int64) ([]Attribute, error) {
	return store.Collect(ctx, s.DB.Reader(), func(row store.Scanner) (a Attribute, err error) {
		var vals string
		if err := row.Scan(&a.Code, &a.Datatype, &a.Required, &a.Description, &a.Order, &vals); err != nil {
			return a, err
		}
		if vals != "" {
			if err := json.Unmarshal([]byte(vals), &a.Values); err != nil {
				return a, fmt.Errorf("attribute %s values: %w", a.Code, err)
			}
		}
		return a, nil
	}, `SELECT code, datatype, required, description, ord, vals FROM category_attributes WHERE category_id = ? ORDER BY ord, code`, categoryID)
}

// SetCategoryAttributes replaces a category's attributes (admin).
func (s *Service) SetCategoryAttributes(ctx context.Context, actor org.Actor, categoryID int64, attrs []Attribute) error {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleSystem {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	seen := map[string]bool{}
	orders := map[int]bool{}
	for i := range attrs {
		a := &attrs[i]
		a.Code = strings.TrimSpace(a.Code)
		if a.Code == "" || len(a.Code) > 64 || strings.ContainsAny(a.Code, "[] \t\n") || seen[a.Code] {
			return apperr.New(apperr.Invalid, "attribute.bad_code", "code", a.Code)
		}
		seen[a.Code] = true
		if !slices.Contains(Datatypes, a.Datatype) {
			return apperr.New(apperr.Invalid, "attribute.bad_datatype", "code", a.Code)
		}
		if a.Order <= 0 {
			a.Order = i + 1
		}
		if orders[a.Order] {
			return apperr.New(apperr.Invalid, "attribute.bad_order", "code", a.Code)
		}
		orders[a.Order] = true
		list := strings.HasSuffix(a.Datatype, "valuelist")
		if list != (len(a.Values) > 0) {
			return apperr.New(apperr.Invalid, "attribute.bad_values", "code", a.Code)
		}
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := mustExist(ctx, tx, "categories", categoryID, "category.not_found"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM category_attributes WHERE category_id = ?`, categoryID); err != nil {
			return err
		}
		for _, a := range attrs {
			var vals string
			if len(a.Values) > 0 {
				b, _ := json.Marshal(a.Values)
				vals = string(b)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO category_attributes (category_id, code, datatype, required, description, ord, vals) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				categoryID, a.Code, a.Datatype, a.Required, a.Description, a.Order, vals); err != nil {
				return err
			}
		}
		return s.logAdmin(ctx, tx, actor, "category.attributes", map[string]any{"category_id": categoryID, "attributes": attrs})
	})
}

// CheckAttributes validates answers against a category's attributes:
// required ones present, list answers among the keys, numbers and times
// parseable, no unknown codes. It returns the answers to store.
func CheckAttributes(defs []Attribute, answers map[string][]string) (map[string][]string, error) {
	out := map[string][]string{}
	for code := range answers {
		if !slices.ContainsFunc(defs, func(a Attribute) bool { return a.Code == code }) {
			return nil, apperr.New(apperr.Invalid, "attribute.unknown", "code", code)
		}
	}
	for _, a := range defs {
		vals := answers[a.Code]
		var kept []string
		for _, v := range vals {
			if v = strings.TrimSpace(v); v != "" {
				kept = append(kept, v)
			}
		}
		if len(kept) == 0 {
			if a.Required {
				return nil, apperr.New(apperr.Invalid, "attribute.required", "code", a.Code, "name", a.Description)
			}
			continue
		}
		if a.Datatype != "multivaluelist" && len(kept) > 1 {
			return nil, apperr.New(apperr.Invalid, "attribute.bad_value", "code", a.Code)
		}
		for _, v := range kept {
			ok := true
			switch a.Datatype {
			case "number":
				_, err := strconv.ParseFloat(v, 64)
				ok = err == nil
			case "datetime":
				_, err := time.Parse(time.RFC3339, v)
				ok = err == nil
			case "singlevaluelist", "multivaluelist":
				ok = slices.ContainsFunc(a.Values, func(x AttrValue) bool { return x.Key == v })
			case "string":
				ok = len([]rune(v)) <= 200
			case "text":
				ok = len([]rune(v)) <= 2000
			}
			if !ok {
				return nil, apperr.New(apperr.Invalid, "attribute.bad_value", "code", a.Code)
			}
		}
		out[a.Code] = kept
	}
	return out, nil
}
