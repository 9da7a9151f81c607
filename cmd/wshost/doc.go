// Command wshost serves real-time chat logic written as WebAssembly plugins.
// Run `wshost --help` for its flags.
package main
