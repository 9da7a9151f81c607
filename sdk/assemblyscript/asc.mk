# Build settings for AssemblyScript plugins, shared by every Makefile that
# builds one: include it, then build with
#   $(ASC) assembly/index.ts -o NAME.wasm $(ASCFLAGS)
# after `npm ci` (or `npm install`) put assemblyscript into node_modules.
#
# The minimal runtime (the SDK runs its collector after every callback), and
# AssemblyScript's abort, trace and seed, which would be imported from "env",
# replaced by the SDK's: the host refuses any "env" import. --debug only adds
# the name section, so traps name functions.

ASC      := node_modules/.bin/asc
ASCFLAGS := --runtime minimal --optimizeLevel 3 --shrinkLevel 2 --noAssert --debug \
	--use abort=~lib/@wshost/sdk/assembly/index/wshostAbort \
	--use trace=~lib/@wshost/sdk/assembly/index/wshostTrace \
	--use seed=~lib/@wshost/sdk/assembly/index/wshostSeed
