// Command probe is the plugin the host's tests drive over real sockets to
// exercise every host function; README.md lists its commands.
package main

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	wshost "github.com/wshost/wshost/sdk/go"
)

func init() {
	wshost.Handle(wshost.Handlers{
		Open:    open,
		Message: message,
		Close:   closed,
		Error:   failed,
	})
}

func main() {} // never run: a plugin is a WASI reactor

var errRejected = errors.New("probe: rejected by open=")

func open(c wshost.ConnID) error {
	mode, err := wshost.ConnInfo(c, "query.open")
	if err != nil {
		return nil
	}
	verb, arg, _ := strings.Cut(mode, ":")
	switch verb {
	case "reject":
		return errRejected
	case "trap":
		trap()
	case "panic":
		panic("probe: open=panic")
	case "loop":
		loop()
	case "join":
		wshost.Join(c, arg)
	case "joinreject":
		wshost.Join(c, arg)
		return errRejected
	case "send":
		wshost.Send(c, []byte(arg))
	case "close":
		wshost.Close(c, 4000, "bye")
	}
	return nil
}

func closed(c wshost.ConnID, code int, reason string) {
	rooms, _ := wshost.ConnRooms(c)
	slices.Sort(rooms)
	v := strconv.Itoa(code) + " " + reason + "|" + strings.Join(rooms, ",")
	wshost.StateSet("close:"+c.String(), []byte(v))
	wshost.StateAdd("closes", 1)
	faultIf(c, "close")
}

func failed(c wshost.ConnID, kind wshost.ErrorKind, text string) {
	wshost.StateSet("error:"+c.String(), []byte(strconv.Itoa(int(kind))+" "+text))
	wshost.StateAdd("errors", 1)
	faultIf(c, "error")
}

// faultIf traps when the connection was opened with ?fault=WHEN.
func faultIf(c wshost.ConnID, when string) {
	if f, err := wshost.ConnInfo(c, "query.fault"); err == nil && f == when {
		trap()
	}
}

// Results of the last hostcalls command of this instance.
var lastOK, lastLimited int

func message(c wshost.ConnID, data []byte, binary bool) error {
	if binary {
		return wshost.SendBinary(c, data) // binary messages are echoed
	}
	cmd, rest, _ := strings.Cut(string(data), " ")
	var r reply
	switch cmd {
	case "send", "sendbin":
		f := fields(rest, 2)
		id, ok := conn(f, 0)
		if !ok {
			break
		}
		if cmd == "send" {
			r.code(wshost.Send(id, []byte(text(f[1]))))
		} else {
			r.code(wshost.SendBinary(id, []byte(text(f[1]))))
		}
	case "sendflags":
		f := fields(rest, 3)
		id, ok := conn(f, 0)
		flags, err := strconv.ParseUint(at(f, 1), 10, 32)
		if !ok || err != nil {
			break
		}
		msg := text(f[2])
		r.int(int64(rawSend(uint64(id), sptr(msg), uint32(len(msg)), uint32(flags))))
	case "broadcast":
		f := fields(rest, 3)
		except, ok := conn(f, 1)
		if !ok {
			break
		}
		n, err := wshost.Broadcast(text(f[0]), []byte(text(f[2])), false, except)
		r.count(n, err)
	case "join", "leave":
		f := fields(rest, 2)
		id, ok := conn(f, 0)
		if !ok {
			break
		}
		if cmd == "join" {
			r.code(wshost.Join(id, text(f[1])))
		} else {
			r.code(wshost.Leave(id, text(f[1])))
		}
	case "close":
		f := fields(rest, 3)
		id, ok := conn(f, 0)
		code, err := strconv.ParseInt(at(f, 1), 10, 32)
		if !ok || err != nil {
			break
		}
		r.code(wshost.Close(id, int(code), text(f[2])))
	case "size":
		r.count(wshost.RoomSize(text(rest)))
	case "members":
		ids, err := wshost.RoomMembers(text(rest))
		slices.Sort(ids)
		list := make([]string, len(ids))
		for i, id := range ids {
			list[i] = id.String()
		}
		r.count(len(ids), err)
		r.value(strings.Join(list, ","))
	case "rooms":
		id, ok := conn([]string{rest}, 0)
		if !ok {
			break
		}
		rooms, err := wshost.ConnRooms(id)
		slices.Sort(rooms)
		n := 0 // conn_rooms returns the size in bytes: each name and a '\n'
		for _, room := range rooms {
			n += len(room) + 1
		}
		r.count(n, err)
		r.value(strings.Join(rooms, ","))
	case "info":
		f := fields(rest, 2)
		id, ok := conn(f, 0)
		if !ok {
			break
		}
		r.str(wshost.ConnInfo(id, text(f[1])))
	case "infobuf":
		f := fields(rest, 3)
		id, ok := conn(f, 0)
		n, err := strconv.ParseUint(at(f, 2), 10, 20)
		if !ok || err != nil {
			break
		}
		key := text(f[1])
		buf := []byte(strings.Repeat("#", int(n)+4))
		r.int(int64(rawConnInfo(uint64(id), sptr(key), uint32(len(key)), ptr(buf), uint32(n))))
		r.value(string(buf))
	case "set":
		f := fields(rest, 3)
		id, ok := conn(f, 0)
		if !ok {
			break
		}
		r.code(wshost.ConnSet(id, text(f[1]), text(f[2])))
	case "sget":
		v, err := wshost.StateGet(text(rest))
		r.str(string(v), err)
	case "sset":
		f := fields(rest, 2)
		if f == nil {
			break
		}
		r.code(wshost.StateSet(text(f[0]), []byte(text(f[1]))))
	case "sdel":
		r.code(wshost.StateDelete(text(rest)))
	case "sadd":
		f := fields(rest, 2)
		delta, err := strconv.ParseInt(at(f, 1), 10, 64)
		if err != nil {
			break
		}
		v, err := wshost.StateAdd(text(f[0]), delta)
		r.code(err)
		if err == nil {
			r.value(strconv.FormatInt(v, 10))
		}
	case "config":
		r.str(wshost.Config(text(rest)))
	case "log":
		f := fields(rest, 2)
		level, err := strconv.ParseInt(at(f, 0), 10, 32)
		if err != nil {
			break
		}
		wshost.Log(wshost.Level(level), text(f[1]))
		r.int(0)
	case "now":
		r.int(wshost.Now())
	case "spin":
		ms, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			break
		}
		if !spin(ms) {
			return errors.New("probe: spin: now failed")
		}
		r.int(0)
	case "loop":
		loop()
	case "trap":
		trap()
	case "panic":
		panic("probe: panic command")
	case "grow":
		mib, err := strconv.ParseUint(rest, 10, 16)
		if err != nil {
			break
		}
		grow(int(mib))
		r.int(0)
	case "hostcalls":
		n, err := strconv.Atoi(rest)
		if err != nil {
			break
		}
		lastOK, lastLimited = 0, 0
		for range n {
			_, err := wshost.RoomSize("hostcalls")
			if err == nil {
				lastOK++
			} else if wshost.Code(err) == -5 {
				lastLimited++
			}
		}
		fallthrough
	case "lasthostcalls":
		r.int(int64(lastOK))
		r.value(strconv.Itoa(lastLimited))
	case "id":
		r.int(int64(c))
	case "echo":
		return wshost.Send(c, []byte(text(rest)))
	case "fail":
		return errors.New(text(rest))
	case "badptr":
		r.int(int64(rawSend(uint64(c), addr(outside), 16, 0)))
		r.value(strconv.Itoa(int(rawEventRead(addr(outside), 256))))
		r.value(strconv.Itoa(int(rawConnInfo(uint64(c), sptr("id"), 2, addr(outside+0xF0), 16))))
		r.value(strconv.Itoa(int(rawStateSet(addr(outside), 4, nil, 0))))
		key := "badptr"
		r.value(strconv.Itoa(int(rawStateAdd(sptr(key), uint32(len(key)), 1, addr(0xFFFFFFFC)))))
	}
	return wshost.Send(c, r.bytes())
}

// reply builds "= RESULT [VALUE ...]"; a reply with no result is "= ?".
type reply struct {
	b   []byte
	err bool // the result was an error code: values are left out
}

func (r *reply) int(n int64) { r.b = strconv.AppendInt(append(r.b, "= "...), n, 10) }

func (r *reply) code(err error) {
	r.int(int64(wshost.Code(err)))
	r.err = err != nil
}

func (r *reply) count(n int, err error) {
	if err != nil {
		r.code(err)
		return
	}
	r.int(int64(n))
}

// str replies with the length of a buffer result (what the host function
// returned: the full size) and the value.
func (r *reply) str(v string, err error) {
	r.count(len(v), err)
	r.value(v)
}

// value appends " v", or nothing when v is empty or the result was an error;
// a v that is not valid UTF-8 (a text message must be) is sent as hex:HEX.
func (r *reply) value(v string) {
	if v == "" || r.err {
		return
	}
	r.b = append(r.b, ' ')
	if utf8.ValidString(v) {
		r.b = append(r.b, v...)
		return
	}
	const digits = "0123456789abcdef"
	r.b = append(r.b, "hex:"...)
	for i := 0; i < len(v); i++ {
		r.b = append(r.b, digits[v[i]>>4], digits[v[i]&15])
	}
}

func (r *reply) bytes() []byte {
	if len(r.b) == 0 {
		return []byte("= ?")
	}
	return r.b
}

// fields splits s at single spaces into exactly n fields, the last one
// keeping any further spaces; nil when s has fewer.
func fields(s string, n int) []string {
	f := strings.SplitN(s, " ", n)
	if len(f) < n {
		return nil
	}
	return f
}

func at(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

// conn parses field i as a connection id.
func conn(f []string, i int) (wshost.ConnID, bool) {
	if i >= len(f) {
		return 0, false
	}
	id, err := strconv.ParseUint(f[i], 10, 64)
	return wshost.ConnID(id), err == nil
}

// text maps the literal "-" to the empty string.
func text(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

var sink uint64

// burn spins the CPU for n iterations without host calls.
func burn(n int) {
	for i := 0; i < n; i++ {
		sink += uint64(i) ^ sink>>3
	}
}

// spin busy-loops for ms milliseconds of the host's clock, reading it every
// 2^12 iterations (about 0.1 ms when compiled), so that a 100 ms spin makes
// about a thousand host calls, far below the default budget.
func spin(ms int64) bool {
	start := wshost.Now()
	if start == 0 {
		return false
	}
	for {
		now := wshost.Now()
		if now == 0 {
			return false
		}
		if now-start >= ms*1e6 {
			return true
		}
		burn(1 << 12)
	}
}

func loop() {
	for {
		burn(1 << 16)
	}
}

// grow allocates mib MiB and touches every page of it.
func grow(mib int) {
	if mib == 0 {
		return
	}
	b := make([]byte, mib<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	sinkByte = b[len(b)/2]
}
