package bench

import (
	"regexp"
	"strconv"
	"strings"
)

// Vars are the values of the placeholders {room}, {conn}, {seq} and {ts}.
type Vars struct {
	Room string
	Conn int
	Seq  uint64
	TS   int64 // Unix ns
}

type part struct {
	lit string
	ph  byte // 0: literal; 'r' room, 'c' conn, 's' seq, 't' ts
}

// template is a text with placeholders, split once so expanding is cheap.
// Anything in braces that is not a known placeholder is left as it is (JSON
// such as {"id":1,"connect":{}} passes through).
type template []part

var placeholders = map[string]byte{"{room}": 'r', "{conn}": 'c', "{seq}": 's', "{ts}": 't'}

func compile(s string) template {
	var t template
	lit := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '{' {
			continue
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		ph, ok := placeholders[s[i:i+j+1]]
		if !ok {
			continue
		}
		if lit < i {
			t = append(t, part{lit: s[lit:i]})
		}
		t = append(t, part{ph: ph})
		i += j
		lit = i + 1
	}
	if lit < len(s) {
		t = append(t, part{lit: s[lit:]})
	}
	return t
}

// append writes the template with v into b.
func (t template) append(b []byte, v Vars) []byte {
	for _, p := range t {
		switch p.ph {
		case 0:
			b = append(b, p.lit...)
		case 'r':
			b = append(b, v.Room...)
		case 'c':
			b = strconv.AppendInt(b, int64(v.Conn), 10)
		case 's':
			b = strconv.AppendUint(b, v.Seq, 10)
		case 't':
			b = strconv.AppendInt(b, v.TS, 10)
		}
	}
	return b
}

// Expand replaces the placeholders {room}, {conn}, {seq} and {ts} in s.
func Expand(s string, v Vars) string { return string(compile(s).append(nil, v)) }

// tsFinder returns the send times in a received message: every match of
// the regex, so a frame packing several messages (as some servers do under
// load) yields each one's time.
type tsFinder struct {
	re *regexp.Regexp // nil: the default, scanned by hand
}

func newTSFinder(expr string) tsFinder {
	if expr == DefaultTSRegex {
		return tsFinder{}
	}
	return tsFinder{re: regexp.MustCompile(expr)}
}

// find appends the send times in msg to out.
func (f tsFinder) find(msg []byte, out []int64) []int64 {
	if f.re == nil {
		run := 0
		for i := 0; i < len(msg); i++ {
			if msg[i] < '0' || msg[i] > '9' {
				run = 0
				continue
			}
			run++
			if run != 19 {
				continue
			}
			var n int64
			for _, c := range msg[i-18 : i+1] {
				n = n*10 + int64(c-'0')
			}
			out = append(out, n)
			for i+1 < len(msg) && msg[i+1] >= '0' && msg[i+1] <= '9' {
				i++ // the rest of a longer run is no second time
			}
			run = 0
		}
		return out
	}
	for _, m := range f.re.FindAllSubmatch(msg, -1) {
		s := m[0]
		if len(m) > 1 {
			s = m[1]
		}
		if n, err := strconv.ParseInt(string(s), 10, 64); err == nil {
			out = append(out, n)
		}
	}
	return out
}
