package plugin

import (
	"context"
	"os"
	"testing"

	"github.com/wshost/wshost/host"
)

// nopHandler accepts everything and does nothing. Safe for concurrent use.
type nopHandler struct{}

func (nopHandler) Open(context.Context, *host.Endpoint, host.ConnID) error { return nil }
func (nopHandler) Message(context.Context, *host.Endpoint, host.ConnID, []byte, bool) error {
	return nil
}
func (nopHandler) Error(context.Context, *host.Endpoint, host.ConnID, host.ErrorKind, string) {}
func (nopHandler) Close(context.Context, *host.Endpoint, host.ConnID, int, string)            {}

// FuzzHostFuncs calls every host function with arbitrary arguments against
// a real instance's memory: none may panic, and each answers a success value
// or one of the ABI's error codes.
func FuzzHostFuncs(f *testing.F) {
	wasm, err := os.ReadFile("testdata/echo.wasm")
	if err != nil {
		f.Fatal(err)
	}
	srv := host.New(host.Config{})
	ep, err := srv.Mount("fuzz", nopHandler{}, host.Limits{StateBytes: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	e := NewEngine("fuzz", Options{})
	if _, err := e.Load(context.Background(), wasm, Manifest{Config: map[string]string{"k": "v"}}); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(e.Unload)
	v := e.acquire()
	defer v.release()
	inst, err := v.get(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	defer v.put(inst, true)
	inst.ep, inst.payload = ep, []byte("payload")
	mem := inst.mod.Memory()
	size := uint64(mem.Size())
	funcs := hostFuncs()

	f.Add(uint8(0), uint64(0), uint64(8), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Add(uint8(1), uint64(1), uint64(size-4), uint64(100), uint64(0), uint64(0), uint64(0))
	f.Add(uint8(2), uint64(0), uint64(4), uint64(0xFFFFFFF0), uint64(100), uint64(1), uint64(0))
	f.Add(uint8(14), uint64(16), uint64(8), uint64(5), uint64(size-8), uint64(0), uint64(0))
	f.Add(uint8(9), uint64(1), uint64(0), uint64(5), uint64(size), uint64(1<<32-1), uint64(0))
	f.Fuzz(func(t *testing.T, which uint8, a0, a1, a2, a3, a4, a5 uint64) {
		hf := funcs[int(which)%len(funcs)]
		stack := []uint64{a0, a1, a2, a3, a4, a5}
		// i32 arguments arrive zero-extended from the guest.
		for i, p := range hf.params {
			if p == i32 {
				stack[i] = uint64(uint32(stack[i]))
			}
		}
		inst.calls = 0
		res := hf.fn(inst, mem, stack)
		if hf.name != "now" && (res < -5 || res > int64(1<<31-1)) {
			t.Fatalf("%s%v = %d: not a size nor an ABI error code", hf.name, stack[:len(hf.params)], res)
		}
	})
}
