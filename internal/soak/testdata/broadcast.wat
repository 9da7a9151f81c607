;; broadcast.wat — the soak test's plugin: a room relay.
;;
;; Behaviour:
;;   on_open     reads the query parameter "room" (1 to 64 bytes), joins
;;               that room and remembers it as attribute attr.room
;;               (conn_set). A missing, empty or longer room rejects the
;;               connection (403).
;;   on_message  reads attr.room back (conn_info) and broadcasts the message
;;               unchanged, same frame type, to every member of that room,
;;               the sender included (its own copy tells it the message was
;;               processed).
;;   A failed host call is reported as a handler error (result 1), which the
;;   soak test counts: it must stay 0.
;;
;; Build:  wat2wasm broadcast.wat -o broadcast.wasm
;; (internal/soak's TestPluginIsFresh rebuilds it and compares the bytes.)
(module
  (import "wshost" "event_read" (func $event_read (param i32 i32) (result i32)))
  (import "wshost" "broadcast"  (func $broadcast  (param i32 i32 i32 i32 i32 i64) (result i32)))
  (import "wshost" "join"       (func $join       (param i64 i32 i32) (result i32)))
  (import "wshost" "conn_info"  (func $conn_info  (param i64 i32 i32 i32 i32) (result i32)))
  (import "wshost" "conn_set"   (func $conn_set   (param i64 i32 i32 i32 i32) (result i32)))

  ;; Memory map:
  ;;   0x0000  "query.room"  (10 bytes)  conn_info key in on_open
  ;;   0x0010  "attr.room"   (9 bytes)   conn_info key in on_message
  ;;   0x0020  "room"        (4 bytes)   conn_set key
  ;;   0x0040  room name     (64 bytes)
  ;;   0x0100  message       (up to the end of memory: over 1 MiB)
  (memory (export "memory") 17)
  (data (i32.const 0x0000) "query.room")
  (data (i32.const 0x0010) "attr.room")
  (data (i32.const 0x0020) "room")

  (func (export "wshost_abi_v1"))

  ;; $room(conn, key, key_len) -> the room's length at 0x0040, or 0 when it
  ;; is missing, empty or over 64 bytes.
  (func $room (param $conn i64) (param $key i32) (param $key_len i32) (result i32)
    (local $n i32)
    (local.set $n (call $conn_info (local.get $conn)
      (local.get $key) (local.get $key_len) (i32.const 0x0040) (i32.const 64)))
    (if (i32.or (i32.lt_s (local.get $n) (i32.const 1)) (i32.gt_s (local.get $n) (i32.const 64)))
      (then (return (i32.const 0))))
    (local.get $n))

  (func (export "on_open") (param $conn i64) (result i32)
    (local $n i32)
    (local.set $n (call $room (local.get $conn) (i32.const 0x0000) (i32.const 10)))
    (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
    (if (i32.lt_s (call $join (local.get $conn) (i32.const 0x0040) (local.get $n)) (i32.const 0))
      (then (return (i32.const 1))))
    (if (i32.lt_s (call $conn_set (local.get $conn)
          (i32.const 0x0020) (i32.const 4) (i32.const 0x0040) (local.get $n)) (i32.const 0))
      (then (return (i32.const 1))))
    (i32.const 0))

  (func (export "on_message") (param $conn i64) (param $len i32) (param $flags i32) (result i32)
    (local $n i32)
    (local.set $n (call $room (local.get $conn) (i32.const 0x0010) (i32.const 9)))
    (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
    ;; The message must fit between 0x0100 and the end of memory.
    (if (i32.gt_u (local.get $len)
          (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 0x0100)))
      (then (return (i32.const 1))))
    (if (local.get $len)
      (then (drop (call $event_read (i32.const 0x0100) (local.get $len)))))
    (i32.lt_s
      (call $broadcast (i32.const 0x0040) (local.get $n)
        (i32.const 0x0100) (local.get $len) (local.get $flags) (i64.const 0))
      (i32.const 0)))
)
