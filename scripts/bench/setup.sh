#!/usr/bin/env bash
# Installs and builds everything the side-by-side benchmarks run
# (scripts/bench/run.sh), idempotently, into a cache dir outside the repo:
#
#   $WSHOST_BENCH_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/wshost-bench)
#     bin/wshost      this checkout's server           (rebuilt every time: cheap)
#                     at /ws/chat: the same chat as a native Go handler
#     bin/wsbench     this checkout's load tool (cmd/wsbench)
#     bin/chat        gorilla/websocket's chat example v1.5.3
#     bin/centrifugo  Centrifugo v6.9.1, with centrifugo.json
#     node-ws/        the Node `ws` broadcast server, npm ci'd
#     plugins-c/      the C chat plugin, as chat.wasm
#     plugins-rust/   the Rust chat plugin, as chat.wasm
#     plugins-go/     the Go chat plugin (a copy of the embedded one), for reload
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${WSHOST_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wshost-bench}
GO=${GO:-go}
GORILLA_VERSION=v1.5.3
CENTRIFUGO_VERSION=v6.9.1
mkdir -p "$CACHE/bin"
cd "$ROOT"

say() { echo "setup: $*" >&2; }

# Installs a Go command once per version (a stamp file records it).
goinstall() { # NAME PKG@VERSION
	local stamp="$CACHE/bin/.$1.version"
	if [[ -x $CACHE/bin/$1 && $(cat "$stamp" 2>/dev/null) == "$2" ]]; then return; fi
	say "go install $2"
	(cd /tmp && GOBIN="$CACHE/bin" GOFLAGS= $GO install "$2")
	echo "$2" >"$stamp"
}
goinstall chat "github.com/gorilla/websocket/examples/chat@$GORILLA_VERSION"
goinstall centrifugo "github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION"

# The gorilla example serves home.html from its working directory at "/"
# (only "/": /ws works without it); run.sh starts it in $CACHE/gorilla.
mkdir -p "$CACHE/gorilla"
if [[ ! -f $CACHE/gorilla/home.html ]]; then
	src=$(cd /tmp && GOFLAGS= $GO list -m -f '{{.Dir}}' "github.com/gorilla/websocket@$GORILLA_VERSION" 2>/dev/null || true)
	[[ -n $src && -f $src/examples/chat/home.html ]] && cp "$src/examples/chat/home.html" "$CACHE/gorilla/" || true
fi

# Centrifugo: anonymous connect, and anonymous subscribe and publish from
# clients on every channel of the default namespace; no usage stats.
cat >"$CACHE/centrifugo.json" <<'JSON'
{
  "usage_stats": { "disabled": true },
  "log": { "level": "error" },
  "http_server": { "address": "127.0.0.1", "port": 8095 },
  "client": {
    "allow_anonymous_connect_without_token": true,
    "allowed_origins": ["*"],
    "token": { "hmac_secret_key": "wshost-bench-not-a-secret" }
  },
  "channel": {
    "without_namespace": {
      "allow_subscribe_for_anonymous": true,
      "allow_subscribe_for_client": true,
      "allow_publish_for_anonymous": true,
      "allow_publish_for_client": true,
      "allow_publish_for_subscriber": true
    }
  },
  "admin": { "enabled": false },
  "http_api": { "disabled": true }
}
JSON
"$CACHE/bin/centrifugo" checkconfig --config "$CACHE/centrifugo.json" >/dev/null

# Node ws: npm ci into the cache, server.js beside its node_modules.
mkdir -p "$CACHE/node-ws"
cp scripts/bench/node-ws/server.js "$CACHE/node-ws/"
if ! cmp -s scripts/bench/node-ws/package-lock.json "$CACHE/node-ws/package-lock.json" || [[ ! -d $CACHE/node-ws/node_modules/ws ]]; then
	say "npm ci (ws)"
	cp scripts/bench/node-ws/package.json scripts/bench/node-ws/package-lock.json "$CACHE/node-ws/"
	(cd "$CACHE/node-ws" && npm ci --no-audit --no-fund --loglevel=error)
fi

# This checkout: the server and the load tool.
say "go build wshost, wsbench"
$GO build -trimpath -o "$CACHE/bin/wshost" ./cmd/wshost
if [[ -d cmd/wsbench ]]; then $GO build -trimpath -o "$CACHE/bin/wsbench" ./cmd/wsbench; else say "cmd/wsbench missing"; fi

# The native Go handler is wshost --builtin-chat native.

# Plugins: the C and Rust chats (built if missing), and the Go one.
for lang in c rust; do
	wasm=plugins/examples/chat-$lang/chat.wasm
	if [[ ! -f $wasm ]]; then
		say "building $wasm"
		if [[ $lang == c ]]; then make -C plugins/examples/chat-c CC=clang CXX=clang++ >&2
		else make -C plugins/examples/chat-rust CARGO=/usr/bin/cargo RUSTC=/usr/bin/rustc >&2; fi
	fi
	mkdir -p "$CACHE/plugins-$lang"
	cp "$wasm" "$CACHE/plugins-$lang/chat.wasm"
done
mkdir -p "$CACHE/plugins-go"
cp plugins/examples/chat.wasm "$CACHE/plugins-go/chat.wasm"
say "ok: $CACHE"
