;; example.wat — a complete wshost plugin written by hand: a room echo with a
;; message counter.
;;
;; Behaviour:
;;   on_open     every connection joins the room "lobby" and is accepted.
;;   on_message  adds 1 to the plugin's counter "messages" (state_add: one
;;               counter shared by every instance, kept across reloads), then
;;               sends "#N " followed by the message to everyone in "lobby",
;;               the sender included, as the same frame type (text or
;;               binary). Sending "hi" three times gives "#1 hi", "#2 hi",
;;               "#3 hi".
;;   (no on_close, no on_error: both are optional. When a connection ends
;;   the host takes it out of its rooms by itself.)
;;
;; Build:  wat2wasm example.wat -o example.wasm      (or: make)
;; Check:  wasm-objdump -x example.wasm
;; Run:    cp example.wasm PLUGINS_DIR/echo.wasm; connect to /ws/echo
;;
;; The ABI is sdk/ABI.md; README.md next to this file explains the pieces.
(module
  ;; ---- Imports ------------------------------------------------------------
  ;; Host functions come from module "wshost", with exactly the ABI's
  ;; signatures (i64 connection ids; i32 pointers, lengths and results).
  ;; Import only what you use: the host refuses any import it does not know.

  ;; event_read(ptr, len) -> the payload's full size: copies the current
  ;; event's payload (here: the message) into our memory.
  (import "wshost" "event_read" (func $event_read (param i32 i32) (result i32)))
  ;; join(conn, room_ptr, room_len) -> 0 or an error code.
  (import "wshost" "join" (func $join (param i64 i32 i32) (result i32)))
  ;; broadcast(room_ptr, room_len, ptr, len, flags, except) -> how many
  ;; connections it was queued for, or an error code (< 0).
  (import "wshost" "broadcast" (func $broadcast (param i32 i32 i32 i32 i32 i64) (result i32)))
  ;; state_add(key_ptr, key_len, delta, out_ptr) -> 0 or an error code; the
  ;; new value (little-endian i64) is written at out_ptr.
  (import "wshost" "state_add" (func $state_add (param i32 i32 i64 i32) (result i32)))

  ;; ---- Memory -------------------------------------------------------------
  ;; One linear memory, exported as "memory" (required). 17 pages of 64 KiB:
  ;; the message area below holds a prefix plus the largest message the
  ;; default 1 MiB limit lets in. No maximum is declared: the host caps
  ;; memory at the plugin's limit (64 MiB by default).
  ;;
  ;; Memory map (fixed addresses, nothing is allocated):
  ;;   0x0000 .. 0x0004   "lobby"      the room
  ;;   0x0008 .. 0x000f   "messages"   the state key of the counter
  ;;   0x0010 .. 0x0017   counter      state_add writes the new value here
  ;;   0x0100 .. end      message      "#N " then the payload, read in place
  (memory (export "memory") 17)
  (data (i32.const 0x0000) "lobby")
  (data (i32.const 0x0008) "messages")

  ;; ---- The ABI marker -----------------------------------------------------
  ;; Never called: its presence says "this module follows ABI v1".
  (func (export "wshost_abi_v1"))

  ;; ---- A helper -----------------------------------------------------------
  ;; $utoa(dst, v) -> end: write v (unsigned) in decimal at dst and return
  ;; the address just past the last digit.
  (func $utoa (param $dst i32) (param $v i64) (result i32)
    (local $end i32)
    (local $t i64)
    ;; Count the digits first: end = dst + how many there are.
    (local.set $end (i32.add (local.get $dst) (i32.const 1)))
    (local.set $t (local.get $v))
    (block $counted
      (loop $count
        (br_if $counted (i64.lt_u (local.get $t) (i64.const 10)))
        (local.set $t (i64.div_u (local.get $t) (i64.const 10)))
        (local.set $end (i32.add (local.get $end) (i32.const 1)))
        (br $count)))
    ;; Then write them from the last one back to dst.
    (local.set $dst (local.get $end))
    (loop $digit
      (local.set $dst (i32.sub (local.get $dst) (i32.const 1)))
      (i32.store8 (local.get $dst)
        (i32.add (i32.const 0x30) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $v) (i64.const 0))))
    (local.get $end))

  ;; ---- on_open(conn) -> 0 accepts, anything else rejects (HTTP 403) --------
  (func (export "on_open") (param $conn i64) (result i32)
    ;; Join "lobby" (5 bytes at 0x0000). A join cannot fail here; a plugin
    ;; that cares would check for a negative result.
    (drop (call $join (local.get $conn) (i32.const 0x0000) (i32.const 5)))
    (i32.const 0))

  ;; ---- on_message(conn, len, flags) -> 0 ok, non-zero = handler error -----
  ;;   conn   the sender
  ;;   len    the message's size in bytes; the bytes are fetched with
  ;;          event_read, during this call
  ;;   flags  bit 0 set: a binary frame; clear: a text frame
  (func (export "on_message") (param $conn i64) (param $len i32) (param $flags i32) (result i32)
    (local $end i32) ;; where the prefix ends and the payload starts
    (local $rc i32)

    ;; 1. Count the message: counter += 1, the new value lands at 0x0010.
    (local.set $rc (call $state_add
      (i32.const 0x0008) (i32.const 8)   ;; key "messages"
      (i64.const 1)                      ;; delta
      (i32.const 0x0010)))               ;; out: 8 bytes, little-endian
    (if (i32.lt_s (local.get $rc) (i32.const 0))
      (then (return (i32.const 1))))     ;; e.g. -5: the state limit is reached

    ;; 2. Write the prefix "#N " at 0x0100.
    (i32.store8 (i32.const 0x0100) (i32.const 0x23))              ;; '#'
    (local.set $end (call $utoa (i32.const 0x0101) (i64.load (i32.const 0x0010))))
    (i32.store8 (local.get $end) (i32.const 0x20))                ;; ' '
    (local.set $end (i32.add (local.get $end) (i32.const 1)))

    ;; 3. Read the payload right after the prefix. The area from $end to the
    ;;    end of memory holds at least 1 MiB; a larger message (possible only
    ;;    when the manifest raises the limit) is refused as a handler error.
    (if (i32.gt_u (local.get $len)
          (i32.sub (i32.shl (memory.size) (i32.const 16)) (local.get $end)))
      (then (return (i32.const 1))))
    (if (local.get $len)                 ;; nothing to read for an empty message
      (then (drop (call $event_read (local.get $end) (local.get $len)))))

    ;; 4. Send prefix + payload to the room, everyone included (except = 0),
    ;;    with the flags of the message: a text message stays text (the
    ;;    prefix is ASCII, so it stays valid UTF-8), binary stays binary.
    (local.set $rc (call $broadcast
      (i32.const 0x0000) (i32.const 5)                              ;; "lobby"
      (i32.const 0x0100) (i32.sub (i32.add (local.get $end) (local.get $len)) (i32.const 0x0100))
      (local.get $flags)
      (i64.const 0)))
    ;; A negative result (-3: the prefixed message is over the message limit)
    ;; is reported as a handler error; the host counts and logs it.
    (i32.lt_s (local.get $rc) (i32.const 0)))
)
