package bench

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	v := Vars{Room: "r3", Conn: 42, Seq: 7, TS: 1700000000123456789}
	for in, want := range map[string]string{
		"t={ts}": "t=1700000000123456789",
		"ws://127.0.0.1:8080/ws/chat?room={room}&nick=b{conn}": "ws://127.0.0.1:8080/ws/chat?room=r3&nick=b42",
		`{"id":1,"connect":{}}`:                                `{"id":1,"connect":{}}`,
		`{"id":2,"subscribe":{"channel":"{room}"}}`:            `{"id":2,"subscribe":{"channel":"r3"}}`,
		"{seq}{seq}-{conn}{nope}{ts":                           "77-42{nope}{ts",
		"{":                                                    "{",
		"":                                                     "",
	} {
		if got := Expand(in, v); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFindTS(t *testing.T) {
	msg := []byte("[r0] b1: t=1700000000123456789\n[r0] b2: t=1700000000999999999 12345678901234567890123")
	got := newTSFinder(DefaultTSRegex).find(msg, nil)
	want := []int64{1700000000123456789, 1700000000999999999, 1234567890123456789}
	if len(got) != len(want) {
		t.Fatalf("default finder: got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("default finder: got %v, want %v", got, want)
		}
	}
	got = newTSFinder(`"t":"([0-9]+)"`).find([]byte(`{"push":{"pub":{"data":{"t":"1700000000123456789"}}}}`), nil)
	if len(got) != 1 || got[0] != 1700000000123456789 {
		t.Errorf("custom finder: got %v", got)
	}
	if got := newTSFinder(DefaultTSRegex).find([]byte("* b1 joined #r0"), nil); len(got) != 0 {
		t.Errorf("no time: got %v", got)
	}
}

func TestCheckURL(t *testing.T) {
	for _, u := range []string{
		"ws://127.0.0.1:8080/ws/chat?room={room}&nick=b{conn}",
		"ws://127.0.0.2/x",
		"wss://127.255.255.254:1/",
	} {
		if err := CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q): %v", u, err)
		}
	}
	for _, u := range []string{
		"ws://10.0.0.1:8080/", "ws://example.com/", "ws://localhost:8080/", "ws://[::1]:8080/",
		"ws://128.0.0.1/", "http://127.0.0.1/", "ws://0.0.0.0:8080/", "ws://[::ffff:8.8.8.8]/",
		"127.0.0.1:8080", "ws://127.0.0.1.example.com/",
	} {
		if err := CheckURL(u); err == nil {
			t.Errorf("CheckURL(%q) accepted it", u)
		}
	}
}

func TestParseArgs(t *testing.T) {
	var out strings.Builder
	c, err := ParseArgs([]string{"-scenario", "fanout", "-url", "ws://127.0.0.1:1/ws", "-hello", "a", "-hello", "b{conn}", "-src", "127.0.0.1,127.0.0.2"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if c.Conns != 100 || c.Rooms != 1 || c.Rate != 10 || c.Duration != 20*time.Second || c.Warmup != 2*time.Second ||
		c.Template != "t={ts}" || c.TSRegex != DefaultTSRegex || len(c.Hello) != 2 || len(c.Src) != 2 || c.senders() != 100 {
		t.Errorf("defaults: %+v", c)
	}
	for _, args := range [][]string{
		{"-scenario", "fanout", "-url", "ws://192.168.1.1/ws"},
		{"-scenario", "fanout", "-url", "ws://127.0.0.1/ws", "-src", "10.0.0.1"},
		{"-scenario", "reload", "-url", "ws://127.0.0.1/ws"},
		{"-scenario", "nope", "-url", "ws://127.0.0.1/ws"},
		{"-scenario", "fanout", "-url", "ws://127.0.0.1/ws", "-rooms", "101"},
	} {
		if _, err := ParseArgs(args, &out); err == nil {
			t.Errorf("ParseArgs(%q) accepted it", args)
		}
	}
}

func TestHistogram(t *testing.T) {
	h := newHistogram()
	for i := 1; i <= 10000; i++ {
		h.add(i, int64(i)*int64(time.Microsecond))
	}
	q, n := h.quantiles(0.5, 0.99, 0.999)
	if n != 10000 {
		t.Fatalf("n = %d", n)
	}
	for i, want := range []time.Duration{5 * time.Millisecond, 9900 * time.Microsecond, 9990 * time.Microsecond} {
		if d := q[i] - want; d < -want/100 || d > want/100 {
			t.Errorf("quantile %d: %v, want %v within 1%%", i, q[i], want)
		}
	}
	for _, v := range []int64{0, 1, 255, 256, 257, 1000, 1 << 20, 1<<40 + 5} {
		if b := bucketOf(v); b < 0 || b >= histBucket {
			t.Errorf("bucketOf(%d) = %d out of range", v, b)
		}
		if mid := valueOf(bucketOf(v)); v < 1<<40 && (mid < v-v/64-1 || mid > v+v/64+1) {
			t.Errorf("valueOf(bucketOf(%d)) = %d", v, mid)
		}
	}
}

func TestReloadSection(t *testing.T) {
	base := []byte("\x00asm\x01\x00\x00\x00")
	got := withReloadSection(base, 300)
	want := append(append([]byte{}, base...), 0, 10, 6, 'r', 'e', 'l', 'o', 'a', 'd', '3', '0', '0')
	if string(got) != string(want) {
		t.Errorf("got % x, want % x", got, want)
	}
}

func TestParseArgsSeveralURLs(t *testing.T) {
	var out strings.Builder
	c, err := ParseArgs([]string{"-scenario", "fanout",
		"-url", "ws://127.0.0.1:1/ws,ws://127.0.0.1:2/ws", "-url", "ws://127.0.0.1:3/ws?room={room}",
		"-server-pid", "11,12", "-server-pid", "13", "-broker-pid", "14"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ws://127.0.0.1:1/ws", "ws://127.0.0.1:2/ws", "ws://127.0.0.1:3/ws?room={room}"}
	if strings.Join(c.URLs, " ") != strings.Join(want, " ") || c.URL != want[0] {
		t.Errorf("URLs %q, URL %q; want %q", c.URLs, c.URL, want)
	}
	if fmt.Sprint(c.ServerPIDs) != "[11 12 13]" || fmt.Sprint(c.BrokerPIDs) != "[14]" {
		t.Errorf("server pids %v, broker pids %v", c.ServerPIDs, c.BrokerPIDs)
	}
	// Round-robin: connection i goes to URL i mod 3.
	for i, w := range []int{0, 1, 2, 0, 1, 2, 0} {
		if got := c.urlOf(i); got != want[w] {
			t.Errorf("urlOf(%d) = %q, want %q", i, got, want[w])
		}
	}

	// One URL, as before: URLs holds it alone; -server-pid 0 is none.
	c, err = ParseArgs([]string{"-scenario", "idle", "-url", "ws://127.0.0.1:1/ws", "-server-pid", "0"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != "ws://127.0.0.1:1/ws" || len(c.URLs) != 1 || c.urlOf(5) != c.URL || len(c.ServerPIDs) != 0 {
		t.Errorf("one URL: %+v", c)
	}
	// A Config built by hand with URL only still works.
	hand := Config{URL: "ws://127.0.0.1:9/x"}
	if hand.urlOf(3) != hand.URL {
		t.Errorf("hand-made config: urlOf = %q", hand.urlOf(3))
	}

	for _, args := range [][]string{
		{"-scenario", "fanout", "-url", "ws://127.0.0.1:1/ws,ws://10.0.0.1:2/ws"},
		{"-scenario", "fanout", "-url", "ws://127.0.0.1:1/ws,"},
		{"-scenario", "fanout", "-url", "ws://127.0.0.1:1/ws", "-server-pid", "1,x"},
		{"-scenario", "fanout", "-url", "ws://127.0.0.1:1/ws", "-server-pid", "-3"},
		{"-scenario", "fanout", "-url", "ws://127.0.0.1:1/ws", "-broker-pid", "abc"},
	} {
		if _, err := ParseArgs(args, &out); err == nil {
			t.Errorf("ParseArgs(%q) accepted it", args)
		}
	}
}

func TestSumProc(t *testing.T) {
	self := os.Getpid()
	one, err := sumRSS([]int{self})
	if err != nil || one <= 0 {
		t.Fatalf("sumRSS(self) = %d, %v", one, err)
	}
	two, err := sumRSS([]int{self, self})
	if err != nil || two < 2*one-one/2 { // RSS may move a little between reads
		t.Errorf("sumRSS(self, self) = %d, one = %d", two, one)
	}
	if n, err := sumRSS(nil); n != 0 || err != nil {
		t.Errorf("sumRSS(nil) = %d, %v", n, err)
	}
	if _, err := sumRSS([]int{self, 1 << 30}); err == nil {
		t.Error("sumRSS of a pid that does not exist: no error")
	}
	if got := eachCPU([]int{self, 1 << 30}); len(got) != 2 || got[1] != 0 {
		t.Errorf("eachCPU = %v", got)
	}
}
