// Package abi holds the names and numbers of the wshost plugin ABI, version 1:
// export and import names, message flags, error kinds and error codes.
//
// It is a leaf package with no dependencies so that the host, the plugin
// engine, tools and tests can share one spelling of the contract. The contract
// itself is described in sdk/ABI.md.
package abi
