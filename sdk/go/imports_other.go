//go:build !wasip1

package wshost

import "unsafe"

// Outside WebAssembly there is no host. The SDK still compiles (so editors,
// go vet and a plugin's own native unit tests of its pure logic work), and
// every host call goes to native, which is nil unless this package's tests
// install a fake: calling the SDK in a native program panics.
var native nativeHost

// nativeHost mirrors the wshost import module with slices instead of
// pointer/length pairs.
type nativeHost interface {
	EventRead(buf []byte) int32
	Send(conn uint64, msg []byte, flags uint32) int32
	Broadcast(room, msg []byte, flags uint32, except uint64) int32
	Join(conn uint64, room []byte) int32
	Leave(conn uint64, room []byte) int32
	Close(conn uint64, code int32, reason []byte) int32
	RoomSize(room []byte) int32
	RoomMembers(room, buf []byte) int32
	ConnRooms(conn uint64, buf []byte) int32
	ConnInfo(conn uint64, key, buf []byte) int32
	ConnSet(conn uint64, key, val []byte) int32
	StateGet(key, buf []byte) int32
	StateSet(key, val []byte) int32
	StateDelete(key []byte) int32
	StateAdd(key []byte, delta int64, out []byte) int32
	ConfigGet(key, buf []byte) int32
	Log(level int32, msg []byte)
	Now() int64
}

func host() nativeHost {
	if native == nil {
		panic("wshost: the host functions exist only in a plugin built with GOOS=wasip1 GOARCH=wasm")
	}
	return native
}

func mem(p unsafe.Pointer, n uint32) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), n)
}

func hostEventRead(ptr unsafe.Pointer, n uint32) int32 { return host().EventRead(mem(ptr, n)) }

func hostSend(conn uint64, ptr unsafe.Pointer, n uint32, flags uint32) int32 {
	return host().Send(conn, mem(ptr, n), flags)
}

func hostBroadcast(roomPtr unsafe.Pointer, roomLen uint32, ptr unsafe.Pointer, n uint32, flags uint32, except uint64) int32 {
	return host().Broadcast(mem(roomPtr, roomLen), mem(ptr, n), flags, except)
}

func hostJoin(conn uint64, roomPtr unsafe.Pointer, roomLen uint32) int32 {
	return host().Join(conn, mem(roomPtr, roomLen))
}

func hostLeave(conn uint64, roomPtr unsafe.Pointer, roomLen uint32) int32 {
	return host().Leave(conn, mem(roomPtr, roomLen))
}

func hostClose(conn uint64, code int32, reasonPtr unsafe.Pointer, reasonLen uint32) int32 {
	return host().Close(conn, code, mem(reasonPtr, reasonLen))
}

func hostRoomSize(roomPtr unsafe.Pointer, roomLen uint32) int32 {
	return host().RoomSize(mem(roomPtr, roomLen))
}

func hostRoomMembers(roomPtr unsafe.Pointer, roomLen uint32, bufPtr unsafe.Pointer, bufLen uint32) int32 {
	return host().RoomMembers(mem(roomPtr, roomLen), mem(bufPtr, bufLen))
}

func hostConnRooms(conn uint64, bufPtr unsafe.Pointer, bufLen uint32) int32 {
	return host().ConnRooms(conn, mem(bufPtr, bufLen))
}

func hostConnInfo(conn uint64, keyPtr unsafe.Pointer, keyLen uint32, bufPtr unsafe.Pointer, bufLen uint32) int32 {
	return host().ConnInfo(conn, mem(keyPtr, keyLen), mem(bufPtr, bufLen))
}

func hostConnSet(conn uint64, keyPtr unsafe.Pointer, keyLen uint32, valPtr unsafe.Pointer, valLen uint32) int32 {
	return host().ConnSet(conn, mem(keyPtr, keyLen), mem(valPtr, valLen))
}

func hostStateGet(keyPtr unsafe.Pointer, keyLen uint32, bufPtr unsafe.Pointer, bufLen uint32) int32 {
	return host().StateGet(mem(keyPtr, keyLen), mem(bufPtr, bufLen))
}

func hostStateSet(keyPtr unsafe.Pointer, keyLen uint32, valPtr unsafe.Pointer, valLen uint32) int32 {
	return host().StateSet(mem(keyPtr, keyLen), mem(valPtr, valLen))
}

func hostStateDelete(keyPtr unsafe.Pointer, keyLen uint32) int32 {
	return host().StateDelete(mem(keyPtr, keyLen))
}

func hostStateAdd(keyPtr unsafe.Pointer, keyLen uint32, delta int64, outPtr unsafe.Pointer) int32 {
	return host().StateAdd(mem(keyPtr, keyLen), delta, mem(outPtr, 8))
}

func hostConfigGet(keyPtr unsafe.Pointer, keyLen uint32, bufPtr unsafe.Pointer, bufLen uint32) int32 {
	return host().ConfigGet(mem(keyPtr, keyLen), mem(bufPtr, bufLen))
}

func hostLog(level int32, ptr unsafe.Pointer, n uint32) { host().Log(level, mem(ptr, n)) }

func hostNow() int64 { return host().Now() }
