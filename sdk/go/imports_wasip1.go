//go:build wasip1

package wshost

import "unsafe"

// The functions of import module "wshost", exactly as sdk/ABI.md declares
// them. Pointers are passed as unsafe.Pointer (an i32 address in linear
// memory); lengths as uint32; connection ids as uint64. None of them keeps a
// pointer after it returns, hence //go:noescape: arguments built on the stack
// stay there.

//go:wasmimport wshost event_read
//go:noescape
func hostEventRead(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport wshost send
//go:noescape
func hostSend(conn uint64, ptr unsafe.Pointer, n uint32, flags uint32) int32

//go:wasmimport wshost broadcast
//go:noescape
func hostBroadcast(roomPtr unsafe.Pointer, roomLen uint32, ptr unsafe.Pointer, n uint32, flags uint32, except uint64) int32

//go:wasmimport wshost join
//go:noescape
func hostJoin(conn uint64, roomPtr unsafe.Pointer, roomLen uint32) int32

//go:wasmimport wshost leave
//go:noescape
func hostLeave(conn uint64, roomPtr unsafe.Pointer, roomLen uint32) int32

//go:wasmimport wshost close
//go:noescape
func hostClose(conn uint64, code int32, reasonPtr unsafe.Pointer, reasonLen uint32) int32

//go:wasmimport wshost room_size
//go:noescape
func hostRoomSize(roomPtr unsafe.Pointer, roomLen uint32) int32

//go:wasmimport wshost room_members
//go:noescape
func hostRoomMembers(roomPtr unsafe.Pointer, roomLen uint32, bufPtr unsafe.Pointer, bufLen uint32) int32

//go:wasmimport wshost conn_rooms
//go:noescape
func hostConnRooms(conn uint64, bufPtr unsafe.Pointer, bufLen uint32) int32

//go:wasmimport wshost conn_info
//go:noescape
func hostConnInfo(conn uint64, keyPtr unsafe.Pointer, keyLen uint32, bufPtr unsafe.Pointer, bufLen uint32) int32

//go:wasmimport wshost conn_set
//go:noescape
func hostConnSet(conn uint64, keyPtr unsafe.Pointer, keyLen uint32, valPtr unsafe.Pointer, valLen uint32) int32

//go:wasmimport wshost state_get
//go:noescape
func hostStateGet(keyPtr unsafe.Pointer, keyLen uint32, bufPtr unsafe.Pointer, bufLen uint32) int32

//go:wasmimport wshost state_set
//go:noescape
func hostStateSet(keyPtr unsafe.Pointer, keyLen uint32, valPtr unsafe.Pointer, valLen uint32) int32

//go:wasmimport wshost state_delete
//go:noescape
func hostStateDelete(keyPtr unsafe.Pointer, keyLen uint32) int32

//go:wasmimport wshost state_add
//go:noescape
func hostStateAdd(keyPtr unsafe.Pointer, keyLen uint32, delta int64, outPtr unsafe.Pointer) int32

//go:wasmimport wshost config_get
//go:noescape
func hostConfigGet(keyPtr unsafe.Pointer, keyLen uint32, bufPtr unsafe.Pointer, bufLen uint32) int32

//go:wasmimport wshost log
//go:noescape
func hostLog(level int32, ptr unsafe.Pointer, n uint32)

//go:wasmimport wshost now
func hostNow() int64
