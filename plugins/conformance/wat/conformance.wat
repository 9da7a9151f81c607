;; conformance.wat — the conformance plugin, written by hand in WebAssembly
;; text: every host function of ABI v1 (sdk/ABI.md), driven by text
;; commands, reporting the host's raw return codes.
;;
;; The protocol is plugins/conformance/README.md; the Go version is
;; host/plugin/testdata/probe (this file follows its README commands, not its
;; extra test-only ones). In short: every text message is "CMD REST"; the
;; reply is "= RESULT[ VALUE]", or "= ?" for an unknown or malformed command.
;; Fields are split at single spaces, the last one keeps its spaces, and a
;; field that is exactly "-" is the empty string. Binary messages are echoed.
;;
;;   on_open   reads ?open=VERB[:ARG]: reject, trap, join:ROOM,
;;             joinreject:ROOM, send:TEXT, close; anything else accepts.
;;   on_close  state "close:ID" = "CODE REASON|ROOM1,ROOM2" (rooms sorted),
;;             then state_add("closes", 1).
;;   on_error  state "error:ID" = "KIND TEXT", then state_add("errors", 1).
;;
;; Build:  wat2wasm conformance.wat -o conformance.wasm      (or: make)
;;
;; ---------------------------------------------------------------------------
;; Memory map (linear memory, starts at 1 page = 64 KiB, grows on demand)
;;
;;   0x0000 .. 0x00ff   unused (address 0 is kept free)
;;   0x0100 .. 0x0223   constant strings: a length byte, then the bytes;
;;                      $lit(s) -> (ptr, len). Command names ($c_...) double
;;                      as keys where the protocol uses the same word
;;                      ("id", "badptr", "hostcalls", "join", ...).
;;   0x0240 .. 0x024f   "0123456789abcdef" for hex values
;;   0x0f00 .. 0x0f17   $DIGITS: scratch for $utoa (20 digits max)
;;   0x0f20 .. 0x0f27   $OUT8: where state_add writes the new value
;;   0x0f40 .. 0x0f57   $FIELDS: up to 3 (ptr, len) pairs from $fields
;;   0x1000 .. end      the heap: a bump area reset at the start of every
;;                      callback (payload, fetched values, the reply).
;;
;; A reply is built last, at the top of the heap, from values fetched or
;; built below it: "= " RC, then " " VALUE unless the value is empty or RC
;; was an error code (VALUE as "hex:..." when it is not valid UTF-8).
;; ---------------------------------------------------------------------------
(module
  ;; Every host function of ABI v1, module "wshost", exact signatures.
  (import "wshost" "event_read"   (func $event_read   (param i32 i32) (result i32)))
  (import "wshost" "send"         (func $send         (param i64 i32 i32 i32) (result i32)))
  (import "wshost" "broadcast"    (func $broadcast    (param i32 i32 i32 i32 i32 i64) (result i32)))
  (import "wshost" "close"        (func $close        (param i64 i32 i32 i32) (result i32)))
  (import "wshost" "join"         (func $join         (param i64 i32 i32) (result i32)))
  (import "wshost" "leave"        (func $leave        (param i64 i32 i32) (result i32)))
  (import "wshost" "room_size"    (func $room_size    (param i32 i32) (result i32)))
  (import "wshost" "room_members" (func $room_members (param i32 i32 i32 i32) (result i32)))
  (import "wshost" "conn_rooms"   (func $conn_rooms   (param i64 i32 i32) (result i32)))
  (import "wshost" "conn_info"    (func $conn_info    (param i64 i32 i32 i32 i32) (result i32)))
  (import "wshost" "conn_set"     (func $conn_set     (param i64 i32 i32 i32 i32) (result i32)))
  (import "wshost" "state_get"    (func $state_get    (param i32 i32 i32 i32) (result i32)))
  (import "wshost" "state_set"    (func $state_set    (param i32 i32 i32 i32) (result i32)))
  (import "wshost" "state_delete" (func $state_delete (param i32 i32) (result i32)))
  (import "wshost" "state_add"    (func $state_add    (param i32 i32 i64 i32) (result i32)))
  (import "wshost" "config_get"   (func $config_get   (param i32 i32 i32 i32) (result i32)))
  (import "wshost" "log"          (func $log          (param i32 i32 i32)))
  (import "wshost" "now"          (func $now          (result i64)))

  (memory (export "memory") 1)

  ;; The ABI v1 marker: never called.
  (func (export "wshost_abi_v1"))

  (global $HEAP_BASE i32 (i32.const 0x1000))
  (global $DIGITS    i32 (i32.const 0x0f00))
  (global $OUT8      i32 (i32.const 0x0f20))
  (global $FIELDS    i32 (i32.const 0x0f40))
  (global $HEX       i32 (i32.const 0x0240)) (data (i32.const 0x0240) "0123456789abcdef")
  (global $heap (mut i32) (i32.const 0x1000)) ;; next free byte of the heap

  ;; The out-of-range addresses of the badptr command.
  (global $OUTSIDE    i32 (i32.const 0xffffff00))
  (global $OUTSIDE_F0 i32 (i32.const 0xfffffff0))
  (global $OUTSIDE_FC i32 (i32.const 0xfffffffc))

  ;; ---- constant strings: length byte + bytes ------------------------------
  ;; commands
  (global $c_id         i32 (i32.const 0x0100)) (data (i32.const 0x0100) "\02" "id")
  (global $c_echo       i32 (i32.const 0x0104)) (data (i32.const 0x0104) "\04" "echo")
  (global $c_send       i32 (i32.const 0x010c)) (data (i32.const 0x010c) "\04" "send")
  (global $c_sendbin    i32 (i32.const 0x0114)) (data (i32.const 0x0114) "\07" "sendbin")
  (global $c_sendflags  i32 (i32.const 0x011c)) (data (i32.const 0x011c) "\09" "sendflags")
  (global $c_broadcast  i32 (i32.const 0x0128)) (data (i32.const 0x0128) "\09" "broadcast")
  (global $c_join       i32 (i32.const 0x0134)) (data (i32.const 0x0134) "\04" "join")
  (global $c_leave      i32 (i32.const 0x013c)) (data (i32.const 0x013c) "\05" "leave")
  (global $c_close      i32 (i32.const 0x0144)) (data (i32.const 0x0144) "\05" "close")
  (global $c_size       i32 (i32.const 0x014c)) (data (i32.const 0x014c) "\04" "size")
  (global $c_members    i32 (i32.const 0x0154)) (data (i32.const 0x0154) "\07" "members")
  (global $c_rooms      i32 (i32.const 0x015c)) (data (i32.const 0x015c) "\05" "rooms")
  (global $c_info       i32 (i32.const 0x0164)) (data (i32.const 0x0164) "\04" "info")
  (global $c_infobuf    i32 (i32.const 0x016c)) (data (i32.const 0x016c) "\07" "infobuf")
  (global $c_set        i32 (i32.const 0x0174)) (data (i32.const 0x0174) "\03" "set")
  (global $c_sget       i32 (i32.const 0x0178)) (data (i32.const 0x0178) "\04" "sget")
  (global $c_sset       i32 (i32.const 0x0180)) (data (i32.const 0x0180) "\04" "sset")
  (global $c_sdel       i32 (i32.const 0x0188)) (data (i32.const 0x0188) "\04" "sdel")
  (global $c_sadd       i32 (i32.const 0x0190)) (data (i32.const 0x0190) "\04" "sadd")
  (global $c_config     i32 (i32.const 0x0198)) (data (i32.const 0x0198) "\06" "config")
  (global $c_log        i32 (i32.const 0x01a0)) (data (i32.const 0x01a0) "\03" "log")
  (global $c_now        i32 (i32.const 0x01a4)) (data (i32.const 0x01a4) "\03" "now")
  (global $c_hostcalls  i32 (i32.const 0x01a8)) (data (i32.const 0x01a8) "\09" "hostcalls")
  (global $c_badptr     i32 (i32.const 0x01b4)) (data (i32.const 0x01b4) "\06" "badptr")
  (global $c_trap       i32 (i32.const 0x01bc)) (data (i32.const 0x01bc) "\04" "trap")
  (global $c_loop       i32 (i32.const 0x01c4)) (data (i32.const 0x01c4) "\04" "loop")
  ;; keys, on_open verbs, reply pieces
  (global $s_query_open i32 (i32.const 0x01cc)) (data (i32.const 0x01cc) "\0a" "query.open")
  (global $s_reject     i32 (i32.const 0x01d8)) (data (i32.const 0x01d8) "\06" "reject")
  (global $s_joinreject i32 (i32.const 0x01e0)) (data (i32.const 0x01e0) "\0a" "joinreject")
  (global $s_bye        i32 (i32.const 0x01ec)) (data (i32.const 0x01ec) "\03" "bye")
  (global $s_close_key  i32 (i32.const 0x01f0)) (data (i32.const 0x01f0) "\06" "close:")
  (global $s_closes     i32 (i32.const 0x01f8)) (data (i32.const 0x01f8) "\06" "closes")
  (global $s_error_key  i32 (i32.const 0x0200)) (data (i32.const 0x0200) "\06" "error:")
  (global $s_errors     i32 (i32.const 0x0208)) (data (i32.const 0x0208) "\06" "errors")
  (global $s_unknown    i32 (i32.const 0x0210)) (data (i32.const 0x0210) "\03" "= ?")
  (global $s_reply      i32 (i32.const 0x0214)) (data (i32.const 0x0214) "\02" "= ")
  (global $s_hex        i32 (i32.const 0x0218)) (data (i32.const 0x0218) "\04" "hex:")
  (global $s_x          i32 (i32.const 0x0220)) (data (i32.const 0x0220) "\01" "x")

  ;; =========================================================================
  ;; Memory: the heap (the same helpers as plugins/examples/chat-wat)
  ;; =========================================================================

  ;; $lit(s) -> (ptr, len): the constant string at s.
  (func $lit (param $s i32) (result i32 i32)
    (i32.add (local.get $s) (i32.const 1))
    (i32.load8_u (local.get $s)))

  ;; $mem_end() -> the size of linear memory in bytes.
  (func $mem_end (result i32)
    (i32.shl (memory.size) (i32.const 16)))

  ;; $reserve(n): make sure n bytes are free from $heap on, growing memory;
  ;; trap when it cannot grow.
  (func $reserve (param $n i32)
    (local $short i64)
    (local.set $short
      (i64.sub
        (i64.add (i64.extend_i32_u (global.get $heap)) (i64.extend_i32_u (local.get $n)))
        (i64.extend_i32_u (call $mem_end))))
    (if (i64.gt_s (local.get $short) (i64.const 0))
      (then
        (if (i32.eq (i32.const -1)
              (memory.grow (i32.wrap_i64
                (i64.shr_u (i64.add (local.get $short) (i64.const 0xffff)) (i64.const 16)))))
          (then (unreachable))))))

  ;; $alloc(n) -> ptr: take n bytes from the heap.
  (func $alloc (param $n i32) (result i32)
    (local $p i32)
    (call $reserve (local.get $n))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $n)))
    (local.get $p))

  (func $memcpy (param $dst i32) (param $src i32) (param $n i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $n)))

  ;; $append(src, n), $append_lit(s), $append_byte(b): add to the heap top.
  (func $append (param $src i32) (param $n i32)
    (call $memcpy (call $alloc (local.get $n)) (local.get $src) (local.get $n)))
  (func $append_lit (param $s i32)
    (call $append (call $lit (local.get $s))))
  (func $append_byte (param $b i32)
    (i32.store8 (call $alloc (i32.const 1)) (local.get $b)))

  ;; $mark() -> where the next string starts; $since(m) -> (m, bytes since).
  (func $mark (result i32) (global.get $heap))
  (func $since (param $m i32) (result i32 i32)
    (local.get $m)
    (i32.sub (global.get $heap) (local.get $m)))

  ;; =========================================================================
  ;; Numbers: decimal in and out, 64-bit
  ;; =========================================================================

  ;; $utoa(dst, v) -> end: v (unsigned) in decimal at dst.
  (func $utoa (param $dst i32) (param $v i64) (result i32)
    (local $end i32)
    (local $t i64)
    (local.set $end (i32.add (local.get $dst) (i32.const 1)))
    (local.set $t (local.get $v))
    (block $counted
      (loop $count
        (br_if $counted (i64.lt_u (local.get $t) (i64.const 10)))
        (local.set $t (i64.div_u (local.get $t) (i64.const 10)))
        (local.set $end (i32.add (local.get $end) (i32.const 1)))
        (br $count)))
    (local.set $dst (local.get $end))
    (loop $digit
      (local.set $dst (i32.sub (local.get $dst) (i32.const 1)))
      (i32.store8 (local.get $dst)
        (i32.add (i32.const 0x30) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $v) (i64.const 0))))
    (local.get $end))

  ;; $append_u64(v): v, unsigned, in decimal.
  (func $append_u64 (param $v i64)
    (call $append (global.get $DIGITS)
      (i32.sub (call $utoa (global.get $DIGITS) (local.get $v)) (global.get $DIGITS))))

  ;; $append_i64(v): v, signed, in decimal ("-2", "0", "17").
  (func $append_i64 (param $v i64)
    (if (i64.lt_s (local.get $v) (i64.const 0))
      (then
        (call $append_byte (i32.const 0x2d)) ;; '-'
        ;; 0 - v read as unsigned is |v|, right even for the smallest i64.
        (call $append_u64 (i64.sub (i64.const 0) (local.get $v))))
      (else (call $append_u64 (local.get $v)))))

  ;; $parse_u(p, n, max) -> (v, ok): n > 0 decimal digits (nothing else: no
  ;; sign, no space) for a value v <= max, compared unsigned. Go's
  ;; strconv.ParseUint(s, 10, bits) with max = 2^bits - 1.
  (func $parse_u (param $p i32) (param $n i32) (param $max i64) (result i64 i32)
    (local $v i64) (local $d i64) (local $end i32)
    (if (i32.le_s (local.get $n) (i32.const 0))
      (then (return (i64.const 0) (i32.const 0))))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (loop $digit
      (local.set $d (i64.sub (i64.load8_u (local.get $p)) (i64.const 0x30)))
      (if (i64.gt_u (local.get $d) (i64.const 9))
        (then (return (i64.const 0) (i32.const 0))))
      ;; v*10 + d <= max  <=>  v <= (max - d) / 10, all unsigned
      (if (i64.gt_u (local.get $v) (i64.div_u (i64.sub (local.get $max) (local.get $d)) (i64.const 10)))
        (then (return (i64.const 0) (i32.const 0))))
      (local.set $v (i64.add (i64.mul (local.get $v) (i64.const 10)) (local.get $d)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $digit (i32.lt_u (local.get $p) (local.get $end))))
    (local.get $v) (i32.const 1))

  ;; $parse_s(p, n, max) -> (v, ok): an optional '+' or '-', then digits, for
  ;; -max-1 <= v <= max. Go's strconv.ParseInt(s, 10, bits) with
  ;; max = 2^(bits-1) - 1.
  (func $parse_s (param $p i32) (param $n i32) (param $max i64) (result i64 i32)
    (local $v i64) (local $ok i32)
    (if (i32.gt_s (local.get $n) (i32.const 0))
      (then
        (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x2d)) ;; '-'
          (then
            (call $parse_u (i32.add (local.get $p) (i32.const 1)) (i32.sub (local.get $n) (i32.const 1))
                           (i64.add (local.get $max) (i64.const 1)))
            (local.set $ok) (local.set $v)
            (return (i64.sub (i64.const 0) (local.get $v)) (local.get $ok))))
        (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x2b)) ;; '+'
          (then
            (return (call $parse_u (i32.add (local.get $p) (i32.const 1)) (i32.sub (local.get $n) (i32.const 1))
                                   (local.get $max)))))))
    (call $parse_u (local.get $p) (local.get $n) (local.get $max)))

  ;; =========================================================================
  ;; Text
  ;; =========================================================================

  ;; $index_of(p, n, b) -> index of the first byte b, or -1.
  (func $index_of (param $p i32) (param $n i32) (param $b i32) (result i32)
    (local $i i32)
    (block $none
      (loop $scan
        (br_if $none (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (local.get $b))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (i32.const -1))

  ;; $compare(p1, n1, p2, n2) -> -1, 0 or 1, in byte order (a prefix first).
  (func $compare (param $p1 i32) (param $n1 i32) (param $p2 i32) (param $n2 i32) (result i32)
    (local $i i32) (local $a i32) (local $b i32)
    (block $prefix
      (loop $byte
        (br_if $prefix (i32.ge_u (local.get $i) (local.get $n1)))
        (br_if $prefix (i32.ge_u (local.get $i) (local.get $n2)))
        (local.set $a (i32.load8_u (i32.add (local.get $p1) (local.get $i))))
        (local.set $b (i32.load8_u (i32.add (local.get $p2) (local.get $i))))
        (if (i32.lt_u (local.get $a) (local.get $b)) (then (return (i32.const -1))))
        (if (i32.gt_u (local.get $a) (local.get $b)) (then (return (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $byte)))
    (i32.sub (i32.gt_u (local.get $n1) (local.get $n2))
             (i32.lt_u (local.get $n1) (local.get $n2))))

  ;; $is(p, n, s) -> 1 when (p, n) is the constant string s.
  (func $is (param $p i32) (param $n i32) (param $s i32) (result i32)
    (i32.eqz (call $compare (local.get $p) (local.get $n) (call $lit (local.get $s)))))

  ;; $dash(p, n) -> (p, n), or an empty string when (p, n) is exactly "-".
  (func $dash (param $p i32) (param $n i32) (result i32 i32)
    (if (i32.and (i32.eq (local.get $n) (i32.const 1))
                 (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x2d)))
      (then (return (local.get $p) (i32.const 0))))
    (local.get $p) (local.get $n))

  ;; $fields(p, n, count) -> 1 when (p, n) splits at single spaces into
  ;; count fields, the last keeping any further spaces (Go's
  ;; strings.SplitN(s, " ", count)); 0 when there are fewer. The fields are
  ;; stored at $FIELDS, read back with $field / $text.
  (func $fields (param $p i32) (param $n i32) (param $count i32) (result i32)
    (local $i i32) (local $at i32) (local $sp i32)
    (block $last
      (loop $next
        (br_if $last (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $count)))
        (local.set $sp (call $index_of (local.get $p) (local.get $n) (i32.const 0x20)))
        (if (i32.lt_s (local.get $sp) (i32.const 0)) (then (return (i32.const 0))))
        (local.set $at (i32.add (global.get $FIELDS) (i32.shl (local.get $i) (i32.const 3))))
        (i32.store (local.get $at) (local.get $p))
        (i32.store offset=4 (local.get $at) (local.get $sp))
        (local.set $p (i32.add (local.get $p) (i32.add (local.get $sp) (i32.const 1))))
        (local.set $n (i32.sub (local.get $n) (i32.add (local.get $sp) (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.set $at (i32.add (global.get $FIELDS) (i32.shl (local.get $i) (i32.const 3))))
    (i32.store (local.get $at) (local.get $p))
    (i32.store offset=4 (local.get $at) (local.get $n))
    (i32.const 1))

  ;; $field(i) -> (ptr, len) of field i; $text(i) the same with "-" -> "".
  (func $field (param $i i32) (result i32 i32)
    (i32.load (i32.add (global.get $FIELDS) (i32.shl (local.get $i) (i32.const 3))))
    (i32.load offset=4 (i32.add (global.get $FIELDS) (i32.shl (local.get $i) (i32.const 3)))))
  (func $text (param $i i32) (result i32 i32)
    (call $dash (call $field (local.get $i))))

  ;; $id(i) -> (id, ok): field i as a connection id (decimal u64).
  (func $id (param $i i32) (result i64 i32)
    (call $parse_u (call $field (local.get $i)) (i64.const -1)))

  ;; $valid_utf8(p, n) -> 1 when the bytes are valid UTF-8, by Go's rules:
  ;; no overlong forms, no surrogates (U+D800..U+DFFF), nothing past U+10FFFF.
  (func $valid_utf8 (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $b i32) (local $more i32) (local $lo i32) (local $hi i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $bad
      (loop $char
        (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 1))))
        (local.set $b (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br_if $char (i32.lt_u (local.get $b) (i32.const 0x80))) ;; ASCII
        ;; A lead byte: how many more bytes, and the range of the next one.
        (local.set $lo (i32.const 0x80))
        (local.set $hi (i32.const 0xbf))
        (br_if $bad (i32.lt_u (local.get $b) (i32.const 0xc2)))  ;; a continuation byte, or overlong
        (if (i32.lt_u (local.get $b) (i32.const 0xe0))
          (then (local.set $more (i32.const 1)))                 ;; C2..DF: 2 bytes
          (else
            (if (i32.lt_u (local.get $b) (i32.const 0xf0))
              (then                                              ;; E0..EF: 3 bytes
                (local.set $more (i32.const 2))
                (if (i32.eq (local.get $b) (i32.const 0xe0)) (then (local.set $lo (i32.const 0xa0))))  ;; overlong
                (if (i32.eq (local.get $b) (i32.const 0xed)) (then (local.set $hi (i32.const 0x9f))))) ;; surrogates
              (else
                (br_if $bad (i32.gt_u (local.get $b) (i32.const 0xf4)))
                (local.set $more (i32.const 3))                  ;; F0..F4: 4 bytes
                (if (i32.eq (local.get $b) (i32.const 0xf0)) (then (local.set $lo (i32.const 0x90))))  ;; overlong
                (if (i32.eq (local.get $b) (i32.const 0xf4)) (then (local.set $hi (i32.const 0x8f)))))))) ;; > U+10FFFF
        (br_if $bad (i32.gt_u (local.get $more) (i32.sub (local.get $end) (local.get $p))))
        (local.set $b (i32.load8_u (local.get $p)))
        (br_if $bad (i32.lt_u (local.get $b) (local.get $lo)))
        (br_if $bad (i32.gt_u (local.get $b) (local.get $hi)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $more (i32.sub (local.get $more) (i32.const 1)))
        (block $done
          (loop $cont
            (br_if $done (i32.eqz (local.get $more)))
            (br_if $bad (i32.gt_u (i32.sub (i32.load8_u (local.get $p)) (i32.const 0x80)) (i32.const 0x3f)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $more (i32.sub (local.get $more) (i32.const 1)))
            (br $cont)))
        (br $char)))
    (i32.const 0))

  ;; =========================================================================
  ;; Sorting: insertion sorts, in place
  ;; =========================================================================

  ;; $sort_u64(arr, count): count u64 values at arr, ascending.
  (func $sort_u64 (param $arr i32) (param $count i32)
    (local $i i32) (local $j i32) (local $at i32) (local $v i64)
    (local.set $i (i32.const 1))
    (block $sorted
      (loop $next
        (br_if $sorted (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $v (i64.load (i32.add (local.get $arr) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $j (local.get $i))
        (block $found
          (loop $shift
            (br_if $found (i32.eqz (local.get $j)))
            (local.set $at (i32.add (local.get $arr) (i32.shl (i32.sub (local.get $j) (i32.const 1)) (i32.const 3))))
            (br_if $found (i64.le_u (i64.load (local.get $at)) (local.get $v)))
            (i64.store offset=8 (local.get $at) (i64.load (local.get $at)))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br $shift)))
        (i64.store (i32.add (local.get $arr) (i32.shl (local.get $j) (i32.const 3))) (local.get $v))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; $sort_strings(arr, count): count (ptr, len) pairs at arr, in byte order.
  (func $sort_strings (param $arr i32) (param $count i32)
    (local $i i32) (local $j i32) (local $at i32) (local $p i32) (local $n i32)
    (local.set $i (i32.const 1))
    (block $sorted
      (loop $next
        (br_if $sorted (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $at (i32.add (local.get $arr) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $p (i32.load (local.get $at)))
        (local.set $n (i32.load offset=4 (local.get $at)))
        (local.set $j (local.get $i))
        (block $found
          (loop $shift
            (br_if $found (i32.eqz (local.get $j)))
            (local.set $at (i32.add (local.get $arr) (i32.shl (i32.sub (local.get $j) (i32.const 1)) (i32.const 3))))
            (br_if $found (i32.le_s
              (call $compare (i32.load (local.get $at)) (i32.load offset=4 (local.get $at))
                             (local.get $p) (local.get $n))
              (i32.const 0)))
            (i64.store offset=8 (local.get $at) (i64.load (local.get $at)))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br $shift)))
        (local.set $at (i32.add (local.get $arr) (i32.shl (local.get $j) (i32.const 3))))
        (i32.store (local.get $at) (local.get $p))
        (i32.store offset=4 (local.get $at) (local.get $n))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; =========================================================================
  ;; Fetching results from the host (ABI §4): see chat-wat for the idea.
  ;; =========================================================================

  (type $filler (func (param i64 i32 i32 i32 i32) (result i32))) ;; (conn, a, b, buf, cap)
  (table 6 funcref)
  (elem (i32.const 0) $fill_event $fill_info $fill_rooms $fill_members $fill_state $fill_config)
  (global $FILL_EVENT   i32 (i32.const 0)) ;; event_read(buf, cap)
  (global $FILL_INFO    i32 (i32.const 1)) ;; conn_info(conn, key a/b, buf, cap)
  (global $FILL_ROOMS   i32 (i32.const 2)) ;; conn_rooms(conn, buf, cap)
  (global $FILL_MEMBERS i32 (i32.const 3)) ;; room_members(room a/b, buf, cap)
  (global $FILL_STATE   i32 (i32.const 4)) ;; state_get(key a/b, buf, cap)
  (global $FILL_CONFIG  i32 (i32.const 5)) ;; config_get(key a/b, buf, cap)

  (func $fill_event (type $filler) (param $conn i64) (param $a i32) (param $b i32) (param $buf i32) (param $cap i32) (result i32)
    (call $event_read (local.get $buf) (local.get $cap)))
  (func $fill_info (type $filler) (param $conn i64) (param $a i32) (param $b i32) (param $buf i32) (param $cap i32) (result i32)
    (call $conn_info (local.get $conn) (local.get $a) (local.get $b) (local.get $buf) (local.get $cap)))
  (func $fill_rooms (type $filler) (param $conn i64) (param $a i32) (param $b i32) (param $buf i32) (param $cap i32) (result i32)
    (call $conn_rooms (local.get $conn) (local.get $buf) (local.get $cap)))
  (func $fill_members (type $filler) (param $conn i64) (param $a i32) (param $b i32) (param $buf i32) (param $cap i32) (result i32)
    (call $room_members (local.get $a) (local.get $b) (local.get $buf) (local.get $cap)))
  (func $fill_state (type $filler) (param $conn i64) (param $a i32) (param $b i32) (param $buf i32) (param $cap i32) (result i32)
    (call $state_get (local.get $a) (local.get $b) (local.get $buf) (local.get $cap)))
  (func $fill_config (type $filler) (param $conn i64) (param $a i32) (param $b i32) (param $buf i32) (param $cap i32) (result i32)
    (call $config_get (local.get $a) (local.get $b) (local.get $buf) (local.get $cap)))

  ;; $fetch(filler, conn, a, b, unit) -> (ptr, rc): the whole result, rc *
  ;; unit bytes at ptr, taken from the heap; rc < 0: the host's error code.
  (func $fetch (param $filler i32) (param $conn i64) (param $a i32) (param $b i32) (param $unit i32)
               (result i32 i32)
    (local $p i32) (local $cap i32) (local $rc i32) (local $need i64)
    (call $reserve (i32.const 256))
    (local.set $p (global.get $heap))
    (loop $again
      (local.set $cap (i32.sub (call $mem_end) (local.get $p)))
      (local.set $rc (call_indirect (type $filler)
        (local.get $conn) (local.get $a) (local.get $b) (local.get $p) (local.get $cap)
        (local.get $filler)))
      (if (i32.lt_s (local.get $rc) (i32.const 0))
        (then (return (local.get $p) (local.get $rc))))
      (local.set $need (i64.mul (i64.extend_i32_u (local.get $rc)) (i64.extend_i32_u (local.get $unit))))
      (if (i64.gt_u (local.get $need) (i64.extend_i32_u (local.get $cap)))
        (then
          (if (i64.gt_u (local.get $need) (i64.const 0x7fffffff)) (then (unreachable)))
          (call $reserve (i32.wrap_i64 (local.get $need)))
          (br $again))))
    (global.set $heap (i32.add (local.get $p) (i32.wrap_i64 (local.get $need))))
    (local.get $p) (local.get $rc))

  ;; $read_event(len) -> (ptr, n): the event's payload; no call when empty.
  (func $read_event (param $len i32) (result i32 i32)
    (if (i32.eqz (local.get $len))
      (then (return (global.get $heap) (i32.const 0))))
    (call $fetch (global.get $FILL_EVENT) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 1)))

  ;; $lines(p, n) -> (arr, count): the names of a conn_rooms result ("a\nb\n")
  ;; as count (ptr, len) pairs at arr; a last name without '\n' is ignored.
  (func $lines (param $p i32) (param $n i32) (result i32 i32)
    (local $arr i32) (local $count i32) (local $i i32) (local $start i32)
    (local.set $arr (global.get $heap))
    (local.set $start (local.get $p))
    (block $done
      (loop $byte
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 0x0a))
          (then
            (i32.store (call $alloc (i32.const 4)) (local.get $start))
            (i32.store (call $alloc (i32.const 4))
              (i32.sub (i32.add (local.get $p) (local.get $i)) (local.get $start)))
            (local.set $count (i32.add (local.get $count) (i32.const 1)))
            (local.set $start (i32.add (i32.add (local.get $p) (local.get $i)) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $byte)))
    (local.get $arr) (local.get $count))

  ;; $append_joined(arr, count): the strings of count pairs, joined by ','.
  (func $append_joined (param $arr i32) (param $count i32)
    (local $i i32) (local $at i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (if (local.get $i) (then (call $append_byte (i32.const 0x2c)))) ;; ','
        (local.set $at (i32.add (local.get $arr) (i32.shl (local.get $i) (i32.const 3))))
        (call $append (i32.load (local.get $at)) (i32.load offset=4 (local.get $at)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; =========================================================================
  ;; Replies
  ;; =========================================================================

  ;; $failed(rc) -> 1 when rc is an error code (on_message's result).
  (func $failed (param $rc i32) (result i32)
    (i32.lt_s (local.get $rc) (i32.const 0)))

  ;; $reply(c, rc, err, vp, vn) -> on_message's result: send
  ;; "= RC[ VALUE]" to c. VALUE is left out when empty or when err is set;
  ;; a VALUE that is not valid UTF-8 is sent as "hex:" and lowercase hex.
  (func $reply (param $c i64) (param $rc i64) (param $err i32) (param $vp i32) (param $vn i32) (result i32)
    (local $m i32) (local $i i32) (local $b i32) (local $at i32)
    (local.set $m (call $mark))
    (call $append_lit (global.get $s_reply))
    (call $append_i64 (local.get $rc))
    (if (i32.and (i32.gt_s (local.get $vn) (i32.const 0)) (i32.eqz (local.get $err)))
      (then
        (call $append_byte (i32.const 0x20))
        (if (call $valid_utf8 (local.get $vp) (local.get $vn))
          (then (call $append (local.get $vp) (local.get $vn)))
          (else
            (call $append_lit (global.get $s_hex))
            (block $done
              (loop $byte
                (br_if $done (i32.ge_u (local.get $i) (local.get $vn)))
                (local.set $b (i32.load8_u (i32.add (local.get $vp) (local.get $i))))
                (local.set $at (call $alloc (i32.const 2)))
                (i32.store8 (local.get $at)
                  (i32.load8_u (i32.add (global.get $HEX) (i32.shr_u (local.get $b) (i32.const 4)))))
                (i32.store8 offset=1 (local.get $at)
                  (i32.load8_u (i32.add (global.get $HEX) (i32.and (local.get $b) (i32.const 15)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $byte)))))))
    (call $failed (call $send (local.get $c) (call $since (local.get $m)) (i32.const 0))))

  ;; =========================================================================
  ;; Exports
  ;; =========================================================================

  ;; on_open(c): ?open=VERB[:ARG] (VERB is what precedes the first ':').
  (func (export "on_open") (param $c i64) (result i32)
    (local $p i32) (local $n i32) (local $i i32)
    (local $vn i32)                 ;; VERB: the first vn bytes at p
    (local $ap i32) (local $an i32) ;; ARG
    (global.set $heap (global.get $HEAP_BASE))
    (call $fetch (global.get $FILL_INFO) (local.get $c) (call $lit (global.get $s_query_open)) (i32.const 1))
    (local.set $n) (local.set $p)
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.const 0)))) ;; no ?open=
    (local.set $vn (local.get $n))
    (local.set $ap (i32.add (local.get $p) (local.get $n)))
    (local.set $i (call $index_of (local.get $p) (local.get $n) (i32.const 0x3a))) ;; ':'
    (if (i32.ge_s (local.get $i) (i32.const 0))
      (then
        (local.set $vn (local.get $i))
        (local.set $ap (i32.add (i32.add (local.get $p) (local.get $i)) (i32.const 1)))
        (local.set $an (i32.sub (i32.sub (local.get $n) (local.get $i)) (i32.const 1)))))
    (if (call $is (local.get $p) (local.get $vn) (global.get $s_reject))
      (then (return (i32.const 1))))
    (if (call $is (local.get $p) (local.get $vn) (global.get $c_trap))
      (then (unreachable)))
    (if (call $is (local.get $p) (local.get $vn) (global.get $c_join))
      (then (drop (call $join (local.get $c) (local.get $ap) (local.get $an)))))
    (if (call $is (local.get $p) (local.get $vn) (global.get $s_joinreject))
      (then
        (drop (call $join (local.get $c) (local.get $ap) (local.get $an)))
        (return (i32.const 1))))
    (if (call $is (local.get $p) (local.get $vn) (global.get $c_send))
      (then (drop (call $send (local.get $c) (local.get $ap) (local.get $an) (i32.const 0)))))
    (if (call $is (local.get $p) (local.get $vn) (global.get $c_close))
      (then (drop (call $close (local.get $c) (i32.const 4000) (call $lit (global.get $s_bye))))))
    (i32.const 0))

  ;; on_message(c, len, flags): run one command, reply.
  (func (export "on_message") (param $c i64) (param $len i32) (param $flags i32) (result i32)
    (local $p i32) (local $n i32)     ;; the payload
    (local $cn i32)                   ;; the command: its first cn bytes
    (local $rp i32) (local $rn i32)   ;; the rest, after the first space
    (local $rc i64) (local $err i32)  ;; the reply: "= rc"...
    (local $vp i32) (local $vn i32)   ;; ...and " value" (unless err)
    (local $id i64) (local $ok i32) (local $num i64) (local $i i64) (local $r i32)
    (local $arr i32) (local $count i32) (local $m i32) (local $limited i64)
    (global.set $heap (global.get $HEAP_BASE))
    (call $read_event (local.get $len))
    (local.set $n) (local.set $p)
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.const 1))))

    ;; Binary: echoed unchanged.
    (if (i32.and (local.get $flags) (i32.const 1))
      (then (return (call $failed (call $send (local.get $c) (local.get $p) (local.get $n) (i32.const 1))))))

    ;; CMD REST: cut at the first space.
    (local.set $cn (local.get $n))
    (local.set $rp (i32.add (local.get $p) (local.get $n)))
    (local.set $rn (i32.const 0))
    (local.set $r (call $index_of (local.get $p) (local.get $n) (i32.const 0x20)))
    (if (i32.ge_s (local.get $r) (i32.const 0))
      (then
        (local.set $cn (local.get $r))
        (local.set $rp (i32.add (i32.add (local.get $p) (local.get $r)) (i32.const 1)))
        (local.set $rn (i32.sub (i32.sub (local.get $n) (local.get $r)) (i32.const 1)))))

    (block $reply
      (block $bad
        ;; id -> "= ID"
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_id))
          (then (local.set $rc (local.get $c)) (br $reply)))

        ;; echo TEXT -> TEXT
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_echo))
          (then (return (call $failed
            (call $send (local.get $c) (call $dash (local.get $rp) (local.get $rn)) (i32.const 0))))))

        ;; send ID TEXT / sendbin ID TEXT -> "= RC"
        (if (i32.or (call $is (local.get $p) (local.get $cn) (global.get $c_send))
                    (call $is (local.get $p) (local.get $cn) (global.get $c_sendbin)))
          (then
            (br_if $bad (i32.eqz (call $fields (local.get $rp) (local.get $rn) (i32.const 2))))
            (call $id (i32.const 0)) (local.set $ok) (local.set $id)
            (br_if $bad (i32.eqz (local.get $ok)))
            (local.set $rc (i64.extend_i32_s (call $send (local.get $id) (call $text (i32.const 1))
              ;; flags: 1 (binary) for sendbin, 0 (text) for send
              (call $is (local.get $p) (local.get $cn) (global.get $c_sendbin)))))
            (br $reply)))

        ;; sendflags ID FLAGS TEXT -> "= RC"
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_sendflags))
          (then
            (br_if $bad (i32.eqz (call $fields (local.get $rp) (local.get $rn) (i32.const 3))))
            (call $id (i32.const 0)) (local.set $ok) (local.set $id)
            (br_if $bad (i32.eqz (local.get $ok)))
            (call $parse_u (call $field (i32.const 1)) (i64.const 0xffffffff)) (local.set $ok) (local.set $num)
            (br_if $bad (i32.eqz (local.get $ok)))
            (local.set $rc (i64.extend_i32_s (call $send (local.get $id) (call $text (i32.const 2))
              (i32.wrap_i64 (local.get $num)))))
            (br $reply)))

        ;; broadcast ROOM EXCEPT TEXT -> "= RC"
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_broadcast))
          (then
            (br_if $bad (i32.eqz (call $fields (local.get $rp) (local.get $rn) (i32.const 3))))
            (call $id (i32.const 1)) (local.set $ok) (local.set $id)
            (br_if $bad (i32.eqz (local.get $ok)))
            (local.set $rc (i64.extend_i32_s (call $broadcast (call $text (i32.const 0)) (call $text (i32.const 2))
              (i32.const 0) (local.get $id))))
            (br $reply)))

        ;; join ID ROOM / leave ID ROOM -> "= RC"
        (if (i32.or (call $is (local.get $p) (local.get $cn) (global.get $c_join))
                    (call $is (local.get $p) (local.get $cn) (global.get $c_leave)))
          (then
            (br_if $bad (i32.eqz (call $fields (local.get $rp) (local.get $rn) (i32.const 2))))
            (call $id (i32.const 0)) (local.set $ok) (local.set $id)
            (br_if $bad (i32.eqz (local.get $ok)))
            (if (call $is (local.get $p) (local.get $cn) (global.get $c_join))
              (then (local.set $rc (i64.extend_i32_s (call $join (local.get $id) (call $text (i32.const 1))))))
              (else (local.set $rc (i64.extend_i32_s (call $leave (local.get $id) (call $text (i32.const 1)))))))
            (br $reply)))

        ;; close ID CODE REASON -> "= RC" (CODE: decimal i32, may be negative)
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_close))
          (then
            (br_if $bad (i32.eqz (call $fields (local.get $rp) (local.get $rn) (i32.const 3))))
            (call $id (i32.const 0)) (local.set $ok) (local.set $id)
            (br_if $bad (i32.eqz (local.get $ok)))
            (call $parse_s (call $field (i32.const 1)) (i64.const 0x7fffffff)) (local.set $ok) (local.set $num)
            (br_if $bad (i32.eqz (local.get $ok)))
            (local.set $rc (i64.extend_i32_s (call $close (local.get $id) (i32.wrap_i64 (local.get $num))
              (call $text (i32.const 2)))))
            (br $reply)))

        ;; size ROOM -> "= RC"
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_size))
          (then
            (local.set $rc (i64.extend_i32_s (call $room_size (call $dash (local.get $rp) (local.get $rn)))))
            (br $reply)))

        ;; members ROOM -> "= RC id1,id2,..." (ids ascending)
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_members))
          (then
            (call $fetch (global.get $FILL_MEMBERS) (i64.const 0) (call $dash (local.get $rp) (local.get $rn)) (i32.const 8))
            (local.set $count) (local.set $arr)
            (local.set $rc (i64.extend_i32_s (local.get $count)))
            (if (i32.gt_s (local.get $count) (i32.const 0))
              (then
                (call $sort_u64 (local.get $arr) (local.get $count))
                (local.set $vp (call $mark))
                (local.set $r (i32.const 0))
                (loop $each
                  (if (local.get $r) (then (call $append_byte (i32.const 0x2c)))) ;; ','
                  (call $append_u64 (i64.load (i32.add (local.get $arr) (i32.shl (local.get $r) (i32.const 3)))))
                  (local.set $r (i32.add (local.get $r) (i32.const 1)))
                  (br_if $each (i32.lt_s (local.get $r) (local.get $count))))
                (local.set $vn (i32.sub (call $mark) (local.get $vp)))))
            (local.set $err (i32.lt_s (local.get $count) (i32.const 0)))
            (br $reply)))

        ;; rooms ID -> "= RC name1,name2" (names sorted; RC = sum of len+1)
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_rooms))
          (then
            (call $parse_u (local.get $rp) (local.get $rn) (i64.const -1)) (local.set $ok) (local.set $id)
            (br_if $bad (i32.eqz (local.get $ok)))
            (call $fetch (global.get $FILL_ROOMS) (local.get $id) (i32.const 0) (i32.const 0) (i32.const 1))
            (local.set $r) (local.set $m)
            (if (i32.lt_s (local.get $r) (i32.const 0))
              (then
                (local.set $rc (i64.extend_i32_s (local.get $r)))
                (local.set $err (i32.const 1))
                (br $reply)))
            (call $lines (local.get $m) (local.get $r))
            (local.set $count) (local.set $arr)
            (call $sort_strings (local.get $arr) (local.get $count))
            (local.set $vp (call $mark))
            (call $append_joined (local.get $arr) (local.get $count))
            (local.set $vn (i32.sub (call $mark) (local.get $vp)))
            ;; RC: each name with its '\n', i.e. the joined length, less the
            ;; count-1 commas, plus count newlines (0 when there are none)
            (local.set $rc (i64.extend_i32_u (i32.add (local.get $vn) (i32.ne (local.get $count) (i32.const 0)))))
            (br $reply)))

        ;; info ID KEY -> "= RC VALUE"
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_info))
          (then
            (br_if $bad (i32.eqz (call $fields (local.get $rp) (local.get $rn) (i32.const 2))))
            (call $id (i32.const 0)) (local.set $ok) (local.set $id)
            (br_if $bad (i32.eqz (local.get $ok)))
            (call $fetch (global.get $FILL_INFO) (local.get $id) (call $text (i32.const 1)) (i32.const 1))
            (local.set $vn) (local.set $vp)
            (local.set $rc (i64.extend_i32_s (local.get $vn)))
            (local.set $err (i32.lt_s (local.get $vn) (i32.const 0)))
            (br $reply)))

        ;; infobuf ID KEY N -> "= RC BUF": conn_info into an N-byte buffer of
        ;; N+4 bytes filled with '#' beforehand.
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_infobuf))
          (then
            (br_if $bad (i32.eqz (call $fields (local.get $rp) (local.get $rn) (i32.const 3))))
            (call $id (i32.const 0)) (local.set $ok) (local.set $id)
            (br_if $bad (i32.eqz (local.get $ok)))
            (call $parse_u (call $field (i32.const 2)) (i64.const 0xfffff)) (local.set $ok) (local.set $num)
            (br_if $bad (i32.eqz (local.get $ok)))
            (local.set $vn (i32.add (i32.wrap_i64 (local.get $num)) (i32.const 4)))
            (local.set $vp (call $alloc (local.get $vn)))
            (memory.fill (local.get $vp) (i32.const 0x23) (local.get $vn)) ;; '#'
            (local.set $rc (i64.extend_i32_s (call $conn_info (local.get $id) (call $text (i32.const 1))
              (local.get $vp) (i32.wrap_i64 (local.get $num)))))
            (br $reply)))

        ;; set ID KEY VALUE -> "= RC"
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_set))
          (then
            (br_if $bad (i32.eqz (call $fields (local.get $rp) (local.get $rn) (i32.const 3))))
            (call $id (i32.const 0)) (local.set $ok) (local.set $id)
            (br_if $bad (i32.eqz (local.get $ok)))
            (local.set $rc (i64.extend_i32_s (call $conn_set (local.get $id)
              (call $text (i32.const 1)) (call $text (i32.const 2)))))
            (br $reply)))

        ;; sget KEY -> "= RC VALUE"
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_sget))
          (then
            (call $fetch (global.get $FILL_STATE) (i64.const 0) (call $dash (local.get $rp) (local.get $rn)) (i32.const 1))
            (local.set $vn) (local.set $vp)
            (local.set $rc (i64.extend_i32_s (local.get $vn)))
            (local.set $err (i32.lt_s (local.get $vn) (i32.const 0)))
            (br $reply)))

        ;; sset KEY VALUE -> "= RC"
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_sset))
          (then
            (br_if $bad (i32.eqz (call $fields (local.get $rp) (local.get $rn) (i32.const 2))))
            (local.set $rc (i64.extend_i32_s (call $state_set (call $text (i32.const 0)) (call $text (i32.const 1)))))
            (br $reply)))

        ;; sdel KEY -> "= RC"
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_sdel))
          (then
            (local.set $rc (i64.extend_i32_s (call $state_delete (call $dash (local.get $rp) (local.get $rn)))))
            (br $reply)))

        ;; sadd KEY DELTA -> "= RC NEWVALUE"
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_sadd))
          (then
            (br_if $bad (i32.eqz (call $fields (local.get $rp) (local.get $rn) (i32.const 2))))
            (call $parse_s (call $field (i32.const 1)) (i64.const 0x7fffffffffffffff)) (local.set $ok) (local.set $num)
            (br_if $bad (i32.eqz (local.get $ok)))
            (local.set $r (call $state_add (call $text (i32.const 0)) (local.get $num) (global.get $OUT8)))
            (local.set $rc (i64.extend_i32_s (local.get $r)))
            (local.set $err (i32.lt_s (local.get $r) (i32.const 0)))
            (local.set $vp (call $mark))
            (call $append_i64 (i64.load (global.get $OUT8)))
            (local.set $vn (i32.sub (call $mark) (local.get $vp)))
            (br $reply)))

        ;; config KEY -> "= RC VALUE"
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_config))
          (then
            (call $fetch (global.get $FILL_CONFIG) (i64.const 0) (call $dash (local.get $rp) (local.get $rn)) (i32.const 1))
            (local.set $vn) (local.set $vp)
            (local.set $rc (i64.extend_i32_s (local.get $vn)))
            (local.set $err (i32.lt_s (local.get $vn) (i32.const 0)))
            (br $reply)))

        ;; log LEVEL TEXT -> "= 0"
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_log))
          (then
            (br_if $bad (i32.eqz (call $fields (local.get $rp) (local.get $rn) (i32.const 2))))
            (call $parse_s (call $field (i32.const 0)) (i64.const 0x7fffffff)) (local.set $ok) (local.set $num)
            (br_if $bad (i32.eqz (local.get $ok)))
            (call $log (i32.wrap_i64 (local.get $num)) (call $text (i32.const 1)))
            (br $reply)))

        ;; now -> "= NANOS"
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_now))
          (then (local.set $rc (call $now)) (br $reply)))

        ;; hostcalls N -> "= OK LIMITED": N calls of room_size("hostcalls")
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_hostcalls))
          (then
            (call $parse_s (local.get $rp) (local.get $rn) (i64.const 0x7fffffffffffffff)) (local.set $ok) (local.set $num)
            (br_if $bad (i32.eqz (local.get $ok)))
            (block $counted
              (loop $call
                (br_if $counted (i64.ge_s (local.get $i) (local.get $num)))
                (local.set $r (call $room_size (call $lit (global.get $c_hostcalls))))
                (if (i32.ge_s (local.get $r) (i32.const 0))
                  (then (local.set $rc (i64.add (local.get $rc) (i64.const 1)))))
                (if (i32.eq (local.get $r) (i32.const -5))
                  (then (local.set $limited (i64.add (local.get $limited) (i64.const 1)))))
                (local.set $i (i64.add (local.get $i) (i64.const 1)))
                (br $call)))
            (local.set $vp (call $mark))
            (call $append_i64 (local.get $limited))
            (local.set $vn (i32.sub (call $mark) (local.get $vp)))
            (br $reply)))

        ;; badptr -> "= A B C D E": five calls with memory ranges outside
        ;; linear memory; each must return -2 (ERR_BAD_ARG), never trap.
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_badptr))
          (then
            ;; A: send(self, 0xFFFFFF00, 16, 0)
            (local.set $rc (i64.extend_i32_s
              (call $send (local.get $c) (global.get $OUTSIDE) (i32.const 16) (i32.const 0))))
            (local.set $vp (call $mark))
            ;; B: event_read(0xFFFFFF00, 16)
            (call $append_i64 (i64.extend_i32_s
              (call $event_read (global.get $OUTSIDE) (i32.const 16))))
            (call $append_byte (i32.const 0x20))
            ;; C: conn_info(self, "id", 0xFFFFFFF0, 32)
            (call $append_i64 (i64.extend_i32_s
              (call $conn_info (local.get $c) (call $lit (global.get $c_id)) (global.get $OUTSIDE_F0) (i32.const 32))))
            (call $append_byte (i32.const 0x20))
            ;; D: state_set(key at 0xFFFFFF00 len 8, value "x")
            (call $append_i64 (i64.extend_i32_s
              (call $state_set (global.get $OUTSIDE) (i32.const 8) (call $lit (global.get $s_x)))))
            (call $append_byte (i32.const 0x20))
            ;; E: state_add("badptr", 1, out 0xFFFFFFFC)
            (call $append_i64 (i64.extend_i32_s
              (call $state_add (call $lit (global.get $c_badptr)) (i64.const 1) (global.get $OUTSIDE_FC))))
            (local.set $vn (i32.sub (call $mark) (local.get $vp)))
            (br $reply)))

        ;; trap: a fault (on_error kind 3, "trap: ...").
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_trap))
          (then (unreachable)))

        ;; loop: forever, with no host calls; the host's deadline ends it.
        (if (call $is (local.get $p) (local.get $cn) (global.get $c_loop))
          (then (loop $forever (br $forever))))

        (br $bad))
      ;; Unknown or malformed: "= ?".
      (return (call $failed (call $send (local.get $c) (call $lit (global.get $s_unknown)) (i32.const 0)))))
    (call $reply (local.get $c) (local.get $rc) (local.get $err) (local.get $vp) (local.get $vn)))

  ;; on_close(c, code, len): state "close:ID" = "CODE REASON|ROOMS" (the
  ;; rooms it was still in, sorted, joined by ','); then closes += 1.
  (func (export "on_close") (param $c i64) (param $code i32) (param $len i32)
    (local $tp i32) (local $tn i32) (local $bp i32) (local $bn i32)
    (local $arr i32) (local $count i32) (local $v i32) (local $k i32)
    (global.set $heap (global.get $HEAP_BASE))
    (call $read_event (local.get $len))
    (local.set $tn) (local.set $tp)
    (if (i32.lt_s (local.get $tn) (i32.const 0)) (then (local.set $tn (i32.const 0))))
    (call $fetch (global.get $FILL_ROOMS) (local.get $c) (i32.const 0) (i32.const 0) (i32.const 1))
    (local.set $bn) (local.set $bp)
    (if (i32.lt_s (local.get $bn) (i32.const 0)) (then (local.set $bn (i32.const 0))))
    (call $lines (local.get $bp) (local.get $bn))
    (local.set $count) (local.set $arr)
    (call $sort_strings (local.get $arr) (local.get $count))
    ;; the value
    (local.set $v (call $mark))
    (call $append_i64 (i64.extend_i32_s (local.get $code)))
    (call $append_byte (i32.const 0x20))
    (call $append (local.get $tp) (local.get $tn))
    (call $append_byte (i32.const 0x7c)) ;; '|'
    (call $append_joined (local.get $arr) (local.get $count))
    ;; the key
    (local.set $k (call $mark))
    (call $append_lit (global.get $s_close_key))
    (call $append_u64 (local.get $c))
    (drop (call $state_set (call $since (local.get $k)) (local.get $v) (i32.sub (local.get $k) (local.get $v))))
    (drop (call $state_add (call $lit (global.get $s_closes)) (i64.const 1) (global.get $OUT8))))

  ;; on_error(c, kind, len): state "error:ID" = "KIND TEXT"; errors += 1.
  (func (export "on_error") (param $c i64) (param $kind i32) (param $len i32)
    (local $tp i32) (local $tn i32) (local $v i32) (local $k i32)
    (global.set $heap (global.get $HEAP_BASE))
    (call $read_event (local.get $len))
    (local.set $tn) (local.set $tp)
    (if (i32.lt_s (local.get $tn) (i32.const 0)) (then (local.set $tn (i32.const 0))))
    (local.set $v (call $mark))
    (call $append_i64 (i64.extend_i32_s (local.get $kind)))
    (call $append_byte (i32.const 0x20))
    (call $append (local.get $tp) (local.get $tn))
    (local.set $k (call $mark))
    (call $append_lit (global.get $s_error_key))
    (call $append_u64 (local.get $c))
    (drop (call $state_set (call $since (local.get $k)) (local.get $v) (i32.sub (local.get $k) (local.get $v))))
    (drop (call $state_add (call $lit (global.get $s_errors)) (i64.const 1) (global.get $OUT8))))
)
