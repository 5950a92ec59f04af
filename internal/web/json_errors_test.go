package web_test

import (
	"strings"
	"testing"

	"chuangwen/internal/testcity"
)

// A JSON body that cannot be read is answered 400 in the user's words,
// never with the decoder's Go types.
func TestJSONErrorsInTheUsersWords(t *testing.T) {
	{
		f := newFixture(t, testcity.SQLite(t))
		acc := f.login("acceptor")
		for _, tc := range []struct{ body, want string }{
			{``, "请求内容为空"},
			{`{`, "JSON 在中途结束"},
			{`{"name": }`, "第 10 个字节附近有语法错误"},
			{`{"name": 1}`, "字段 name 的值类型不对，应为文本"},
			{`{"name": "x", "query": {"state": 5}}`, "应为"},
			{`[1]`, "请求内容的类型不对，应为对象"},
			{`{"name": "x", "zzz": 1}`, "JSON 中有不认识的字段：zzz"},
			{`{"name": "x"} {}`, "JSON 之后还有多余的内容"},
		} {
			res := acc.do("POST", "/api/v1/filters", strings.NewReader(tc.body), "application/json")
			if res.StatusCode != 400 || !strings.Contains(res.body, tc.want) {
				t.Errorf("%s: %d %s, want 400 %q", tc.body, res.StatusCode, res.body, tc.want)
			}
			for _, leak := range []string{"Go struct", "unmarshal", "json:", "EOF", "invalid character"} {
				if strings.Contains(res.body, leak) {
					t.Errorf("%s: the answer leaks %q: %s", tc.body, leak, res.body)
				}
			}
		}
	}
}
