//go:build wasip1

package wshost

// The plugin's exports, as sdk/ABI.md declares them. //go:wasmexport works in
// any package that is linked into the module, so importing this package is
// enough to export them; a plugin must not declare them again (the linker
// would reject the duplicate export names).

//go:wasmexport wshost_abi_v1
func exportABIv1() {}

//go:wasmexport on_open
func exportOnOpen(conn uint64) int32 { return onOpen(ConnID(conn)) }

//go:wasmexport on_message
func exportOnMessage(conn uint64, n uint32, flags uint32) int32 {
	return onMessage(ConnID(conn), n, flags)
}

//go:wasmexport on_close
func exportOnClose(conn uint64, code int32, n uint32) { onClose(ConnID(conn), code, n) }

//go:wasmexport on_error
func exportOnError(conn uint64, kind int32, n uint32) { onError(ConnID(conn), kind, n) }
