package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/abi"
)

// instance is one instantiated module. It is owned by whoever took it from
// the version's pool; the host functions reach it through its context while
// one of its callbacks runs.
type instance struct {
	v      *version
	mod    api.Module
	ctx    context.Context // carries the instance to host functions; cancelled at the deadline
	cancel context.CancelFunc
	timer  *time.Timer

	fns   [exportCount]api.Function // nil: not exported
	stack [3]uint64

	// The current callback.
	ep      *host.Endpoint
	conn    host.ConnID
	payload []byte
	calls   int
}

// instanceKey is the context key of the running instance.
type instanceKey struct{}

func instanceFrom(ctx context.Context) *instance {
	inst, _ := ctx.Value(instanceKey{}).(*instance)
	return inst
}

// spend counts one host call; false once the callback's budget is spent.
func (inst *instance) spend() bool {
	inst.calls++
	return inst.calls <= inst.v.limits.hostCalls
}

// call runs one callback with the deadline. A trap or the deadline returns
// an error wrapping ErrTrap or ErrDeadline, and leaves the instance unusable;
// so does a deadline that fired just as the callback returned (then err is
// nil but usable is false).
func (inst *instance) call(ex export, ep *host.Endpoint, conn host.ConnID, payload []byte, p1, p2 uint64) (result uint64, usable bool, err error) {
	inst.ep, inst.conn, inst.payload, inst.calls = ep, conn, payload, 0
	stack := inst.stack[:]
	stack[0], stack[1], stack[2] = uint64(conn), p1, p2
	name := ex.String()
	inst.timer.Reset(inst.v.limits.callTimeout)
	callErr := inst.fns[ex].CallWithStack(inst.ctx, stack)
	inTime := inst.timer.Stop()
	inst.ep, inst.payload = nil, nil
	switch {
	case callErr == nil:
		return stack[0], inTime, nil
	case !inTime:
		return 0, false, fmt.Errorf("%w: %s ran past %s", ErrDeadline, name, inst.v.limits.callTimeout)
	default:
		return 0, false, fmt.Errorf("%w: %s: %w", ErrTrap, name, callErr)
	}
}

// faultError is a callback's trap or deadline as the host sees it: it
// wraps host.ErrFault, and its text (the on_error payload) starts with
// "trap:" or "deadline:".
type faultError struct{ err error }

func (f faultError) Error() string   { return f.err.Error() }
func (f faultError) Unwrap() []error { return []error{host.ErrFault, f.err} }

func (inst *instance) close() {
	inst.v.engine.instances.Add(-1)
	inst.timer.Stop()
	inst.cancel()
	_ = inst.mod.Close(context.Background())
}

// export names a callback of ABI v1. A plain value.
type export uint8

const (
	exOpen export = iota
	exMessage
	exClose
	exError
	exportCount
)

func (ex export) String() string {
	return [...]string{abi.ExportOnOpen, abi.ExportOnMessage, abi.ExportOnClose, abi.ExportOnError}[ex]
}

// flags of on_message.
func messageFlags(binary bool) uint64 {
	if binary {
		return uint64(abi.FlagBinary)
	}
	return 0
}
