package pdfdoc

import (
	"strings"
	"testing"
	"time"
)

func TestWrap(t *testing.T) {
	d := New("t", "", time.Unix(0, 0))
	w := d.textWidth("文明城市") // four hanzi
	lines := d.wrap("创建全国文明城市", w+0.01)
	if len(lines) != 2 || lines[0] != "创建全国" || lines[1] != "文明城市" {
		t.Errorf("wrap = %q", lines)
	}
	if got := strings.Join(d.wrap("a b\nc", 100), "|"); got != "a b|c" {
		t.Errorf("newline: %q", got)
	}
	lines = d.wrap("hello world again", d.textWidth("hello world")+0.01)
	if lines[0] != "hello world" || lines[1] != "again" {
		t.Errorf("latin wrap = %q", lines)
	}
}
