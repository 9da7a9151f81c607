package plugin

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/abi"
)

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// hostFunc is one function of the wshost import module. Immutable.
type hostFunc struct {
	name    string
	params  []api.ValueType
	results []api.ValueType
	fn      func(inst *instance, mem api.Memory, stack []uint64) int64
}

// hostFuncs is the wshost module of ABI v1 §2. Each function counts toward
// the callback's budget, checks every memory range, and never traps on bad
// arguments. (The function values are stateless; the table is built per
// runtime.)
func hostFuncs() []hostFunc {
	r1 := []api.ValueType{i32}
	return []hostFunc{
		{"event_read", []api.ValueType{i32, i32}, r1, hostEventRead},
		{"send", []api.ValueType{i64, i32, i32, i32}, r1, hostSend},
		{"broadcast", []api.ValueType{i32, i32, i32, i32, i32, i64}, r1, hostBroadcast},
		{"join", []api.ValueType{i64, i32, i32}, r1, hostJoin},
		{"leave", []api.ValueType{i64, i32, i32}, r1, hostLeave},
		{"close", []api.ValueType{i64, i32, i32, i32}, r1, hostClose},
		{"room_size", []api.ValueType{i32, i32}, r1, hostRoomSize},
		{"room_members", []api.ValueType{i32, i32, i32, i32}, r1, hostRoomMembers},
		{"conn_rooms", []api.ValueType{i64, i32, i32}, r1, hostConnRooms},
		{"conn_info", []api.ValueType{i64, i32, i32, i32, i32}, r1, hostConnInfo},
		{"conn_set", []api.ValueType{i64, i32, i32, i32, i32}, r1, hostConnSet},
		{"state_get", []api.ValueType{i32, i32, i32, i32}, r1, hostStateGet},
		{"state_set", []api.ValueType{i32, i32, i32, i32}, r1, hostStateSet},
		{"state_delete", []api.ValueType{i32, i32}, r1, hostStateDelete},
		{"state_add", []api.ValueType{i32, i32, i64, i32}, r1, hostStateAdd},
		{"config_get", []api.ValueType{i32, i32, i32, i32}, r1, hostConfigGet},
		{"log", []api.ValueType{i32, i32, i32}, nil, hostLog},
		{"now", nil, []api.ValueType{i64}, hostNow},
	}
}

// instantiateHostModule defines the wshost module in rt.
func instantiateHostModule(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(abi.ImportModule)
	for _, hf := range hostFuncs() {
		fn := hf.fn
		results := len(hf.results)
		resultI32 := results == 1 && hf.results[0] == i32
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			inst := instanceFrom(ctx)
			var res int64 = int64(abi.ErrLimit)
			if inst.spend() {
				res = fn(inst, mod.Memory(), stack)
			}
			switch {
			case resultI32:
				stack[0] = api.EncodeI32(int32(res))
			case results == 1:
				stack[0] = uint64(res)
			}
		}), hf.params, hf.results).Export(hf.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

var (
	codeBadArg   = int64(abi.ErrBadArg)
	codeNotFound = int64(abi.ErrNotFound)
)

// code maps a host error to its ABI code (0 for nil).
func code(err error) int64 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, host.ErrNotFound):
		return int64(abi.ErrNotFound)
	case errors.Is(err, host.ErrTooLarge):
		return int64(abi.ErrTooLarge)
	case errors.Is(err, host.ErrClosed):
		return int64(abi.ErrClosed)
	case errors.Is(err, host.ErrLimit):
		return int64(abi.ErrLimit)
	}
	return int64(abi.ErrBadArg)
}

// i32 arguments sit in the low 32 bits of a stack slot.
func u32(v uint64) uint32 { return uint32(v) }

// view returns guest memory [ptr, ptr+n) (writable), or false when any of
// it lies outside memory.
func view(mem api.Memory, ptr, n uint64) ([]byte, bool) {
	if mem == nil {
		return nil, false
	}
	return mem.Read(u32(ptr), u32(n))
}

func str(mem api.Memory, ptr, n uint64) (string, bool) {
	b, ok := view(mem, ptr, n)
	return string(b), ok
}

// fill writes as much of val as fits into buf and returns val's full size.
func fill(buf []byte, val string) int64 {
	copy(buf, val)
	return int64(len(val))
}

func hostEventRead(inst *instance, mem api.Memory, s []uint64) int64 {
	buf, ok := view(mem, s[0], s[1])
	if !ok {
		return codeBadArg
	}
	copy(buf, inst.payload)
	return int64(len(inst.payload))
}

func checkFlags(flags uint64) (binary bool, ok bool) {
	f := u32(flags)
	return f&abi.FlagBinary != 0, f&^abi.FlagsMask == 0
}

func hostSend(inst *instance, mem api.Memory, s []uint64) int64 {
	msg, ok := view(mem, s[1], s[2])
	bin, okFlags := checkFlags(s[3])
	if !ok || !okFlags || inst.ep == nil {
		return codeBadArg
	}
	return code(inst.ep.Send(host.ConnID(s[0]), msg, bin))
}

func hostBroadcast(inst *instance, mem api.Memory, s []uint64) int64 {
	room, okRoom := str(mem, s[0], s[1])
	msg, okMsg := view(mem, s[2], s[3])
	bin, okFlags := checkFlags(s[4])
	if !okRoom || !okMsg || !okFlags || inst.ep == nil {
		return codeBadArg
	}
	n, err := inst.ep.Broadcast(room, msg, bin, host.ConnID(s[5]))
	if err != nil {
		return code(err)
	}
	return int64(n)
}

func hostJoin(inst *instance, mem api.Memory, s []uint64) int64 {
	room, ok := str(mem, s[1], s[2])
	if !ok || inst.ep == nil {
		return codeBadArg
	}
	return code(inst.ep.Join(host.ConnID(s[0]), room))
}

func hostLeave(inst *instance, mem api.Memory, s []uint64) int64 {
	room, ok := str(mem, s[1], s[2])
	if !ok || inst.ep == nil {
		return codeBadArg
	}
	return code(inst.ep.Leave(host.ConnID(s[0]), room))
}

func hostClose(inst *instance, mem api.Memory, s []uint64) int64 {
	reason, ok := str(mem, s[2], s[3])
	if !ok || inst.ep == nil {
		return codeBadArg
	}
	return code(inst.ep.Close(host.ConnID(s[0]), int(int32(u32(s[1]))), reason))
}

func roomArg(inst *instance, mem api.Memory, ptr, n uint64) (string, bool) {
	room, ok := str(mem, ptr, n)
	if !ok || inst.ep == nil || len(room) == 0 || len(room) > abi.MaxRoomName {
		return "", false
	}
	for i := 0; i < len(room); i++ {
		if room[i] == '\n' {
			return "", false
		}
	}
	return room, true
}

func hostRoomSize(inst *instance, mem api.Memory, s []uint64) int64 {
	room, ok := roomArg(inst, mem, s[0], s[1])
	if !ok {
		return codeBadArg
	}
	return int64(inst.ep.RoomSize(room))
}

func hostRoomMembers(inst *instance, mem api.Memory, s []uint64) int64 {
	room, okRoom := roomArg(inst, mem, s[0], s[1])
	buf, okBuf := view(mem, s[2], s[3])
	if !okRoom || !okBuf {
		return codeBadArg
	}
	ids := inst.ep.RoomMembers(room, nil)
	for i, id := range ids {
		if 8*(i+1) > len(buf) {
			break
		}
		binary.LittleEndian.PutUint64(buf[8*i:], uint64(id))
	}
	return int64(len(ids))
}

func hostConnRooms(inst *instance, mem api.Memory, s []uint64) int64 {
	buf, ok := view(mem, s[1], s[2])
	if !ok || inst.ep == nil {
		return codeBadArg
	}
	rooms, err := inst.ep.ConnRooms(host.ConnID(s[0]), nil)
	if err != nil {
		return code(err)
	}
	size := 0
	for _, r := range rooms {
		if size < len(buf) {
			n := copy(buf[size:], r)
			if size+n < len(buf) {
				buf[size+n] = '\n'
			}
		}
		size += len(r) + 1
	}
	return int64(size)
}

func hostConnInfo(inst *instance, mem api.Memory, s []uint64) int64 {
	key, okKey := str(mem, s[1], s[2])
	buf, okBuf := view(mem, s[3], s[4])
	if !okKey || !okBuf || inst.ep == nil {
		return codeBadArg
	}
	val, err := inst.ep.ConnInfo(host.ConnID(s[0]), key)
	if err != nil {
		return code(err)
	}
	return fill(buf, val)
}

func hostConnSet(inst *instance, mem api.Memory, s []uint64) int64 {
	key, okKey := str(mem, s[1], s[2])
	val, okVal := str(mem, s[3], s[4])
	if !okKey || !okVal || inst.ep == nil || key == "" {
		return codeBadArg
	}
	return code(inst.ep.ConnSet(host.ConnID(s[0]), key, val))
}

func hostStateGet(inst *instance, mem api.Memory, s []uint64) int64 {
	key, okKey := str(mem, s[0], s[1])
	buf, okBuf := view(mem, s[2], s[3])
	if !okKey || !okBuf || inst.ep == nil {
		return codeBadArg
	}
	val, err := inst.ep.StateGet(key)
	if err != nil {
		return code(err)
	}
	copy(buf, val)
	return int64(len(val))
}

func hostStateSet(inst *instance, mem api.Memory, s []uint64) int64 {
	key, okKey := str(mem, s[0], s[1])
	val, okVal := view(mem, s[2], s[3])
	if !okKey || !okVal || inst.ep == nil {
		return codeBadArg
	}
	return code(inst.ep.StateSet(key, val))
}

func hostStateDelete(inst *instance, mem api.Memory, s []uint64) int64 {
	key, ok := str(mem, s[0], s[1])
	if !ok || inst.ep == nil {
		return codeBadArg
	}
	return code(inst.ep.StateDelete(key))
}

func hostStateAdd(inst *instance, mem api.Memory, s []uint64) int64 {
	key, okKey := str(mem, s[0], s[1])
	out, okOut := view(mem, s[3], 8)
	if !okKey || !okOut || inst.ep == nil {
		return codeBadArg
	}
	n, err := inst.ep.StateAdd(key, int64(s[2]))
	if err != nil {
		return code(err)
	}
	binary.LittleEndian.PutUint64(out, uint64(n))
	return 0
}

func hostConfigGet(inst *instance, mem api.Memory, s []uint64) int64 {
	key, okKey := str(mem, s[0], s[1])
	buf, okBuf := view(mem, s[2], s[3])
	if !okKey || !okBuf {
		return codeBadArg
	}
	val, ok := inst.v.config[key]
	if !ok {
		return codeNotFound
	}
	return fill(buf, val)
}

func hostLog(inst *instance, mem api.Memory, s []uint64) int64 {
	msg, ok := str(mem, s[1], s[2])
	if !ok {
		msg = "(log message outside the plugin's memory)"
	}
	level := slog.LevelInfo
	switch int32(u32(s[0])) {
	case abi.LogDebug:
		level = slog.LevelDebug
	case abi.LogWarn:
		level = slog.LevelWarn
	case abi.LogError:
		level = slog.LevelError
	}
	inst.v.engine.log.Log(context.Background(), level, msg,
		"version", inst.v.number, "conn", strconv.FormatUint(uint64(inst.conn), 10))
	return 0
}

func hostNow(*instance, api.Memory, []uint64) int64 { return time.Now().UnixNano() }
