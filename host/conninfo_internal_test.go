package host

import (
	"net/http"
	"net/url"
	"testing"
)

// The packed header and the raw query answer every lookup as the
// http.Header and url.Values they replace would.
func TestPackedConnInfoMatchesHeaderAndQuery(t *testing.T) {
	h := http.Header{
		"X-Trace":    {"abc", "def"},
		"X-Trace-Id": {"7"},
		"X-Tr":       {"short"},
		"Empty":      {""},
		"Colon":      {"a: b:c"},
		"weird_key":  {"kept as is"}, // not canonical: only an exact match finds it
	}
	packed := packHeader(h)
	for _, name := range []string{"x-trace", "X-TRACE", "x-trace-id", "x-tr", "x-t", "empty", "colon", "weird_key", "Weird_key", "nope", ""} {
		want, wantOK := h.Get(name), len(h.Values(name)) > 0
		if got, ok := headerValue(packed, name); got != want || ok != wantOK {
			t.Errorf("header %q: %q, %v; want %q, %v", name, got, ok, want, wantOK)
		}
	}

	raw := "name=a&room=&room2=x&room2=y&q=a%20b+c&bad=%zz&semi=1;x=2&flag&%6Eame2=n"
	vs, _ := url.ParseQuery(raw)
	for _, name := range []string{"name", "room", "room2", "q", "bad", "semi", "x", "flag", "name2", "nope", ""} {
		want, wantOK := "", false
		if v := vs[name]; len(v) > 0 {
			want, wantOK = v[0], true
		}
		if got, ok := queryValue(raw, name); got != want || ok != wantOK {
			t.Errorf("query %q: %q, %v; want %q, %v", name, got, ok, want, wantOK)
		}
	}
	if _, ok := queryValue("", "name"); ok {
		t.Error("empty query has a value")
	}
}
