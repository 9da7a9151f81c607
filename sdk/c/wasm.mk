# Build settings for C and C++ plugins, shared by every Makefile that builds
# one: include it, then build with
#   $(WASI_CC)  $(WASI_CFLAGS)   $(WASI_LDFLAGS) -o NAME.wasm NAME.c
#   $(WASI_CXX) $(WASI_CXXFLAGS) $(WASI_LDFLAGS) -o NAME.wasm NAME.cpp
# Needs Debian's clang lld wasi-libc libclang-rt-dev-wasm32 (and
# libc++-dev-wasm32 for C++).

WSHOST_C_SDK := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

# make's built-in CC and CXX are cc and g++, which cannot target wasm:
# clang unless CC/CXX (or WASI_CC/WASI_CXX) are given on the command line.
ifeq ($(origin CC),command line)
WASI_CC ?= $(CC)
endif
ifeq ($(origin CXX),command line)
WASI_CXX ?= $(CXX)
endif
WASI_CC  ?= clang
WASI_CXX ?= clang++

# A reactor (_initialize, no main); -g0 and --strip-debug drop DWARF (Debian's
# libc.a carries some); a 64 KiB stack placed first, so an overflow traps
# instead of overwriting data.
WASI_COMMON   := --target=wasm32-wasi -mexec-model=reactor -O2 -g0 -Wall -Wextra -I$(WSHOST_C_SDK)
WASI_CFLAGS   := $(WASI_COMMON) -std=c11
WASI_CXXFLAGS := $(WASI_COMMON) -std=c++17 -fno-exceptions -fno-rtti
WASI_LDFLAGS  := -Wl,-z,stack-size=65536 -Wl,--stack-first -Wl,--strip-debug
