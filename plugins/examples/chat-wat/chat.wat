;; chat.wat — wshost's example chat, written by hand in WebAssembly text.
;;
;; It behaves exactly like the Go chat: plugins/examples/chat/README.md is
;; its specification, and every message it sends is byte for byte the one the
;; Go plugin (plugins/examples/chat/main.go) sends. In short: connect to
;; /ws/chat?nick=NAME&room=ROOM; text is relayed to the room as
;; "[ROOM] NICK: TEXT"; /nick NAME, /join ROOM and /who are commands. The
;; nick and the room are connection attributes (attr.nick, attr.room) read
;; from the host on every event: the plugin keeps no state of its own.
;;
;; Only the ABI (sdk/ABI.md) is used: no SDK, no allocator, no WASI.
;;
;; Build:  wat2wasm chat.wat -o chat.wasm      (or: make)
;;
;; ---------------------------------------------------------------------------
;; Memory map (linear memory, starts at 1 page = 64 KiB, grows on demand)
;;
;;   0x0000 .. 0x00ff   unused (address 0 is kept free)
;;   0x0100 .. 0x02ef   constant strings, one data segment each: a length
;;                      byte, then the bytes ("\0a" "query.nick"). $lit(s)
;;                      turns the address s into the (ptr, len) pair the
;;                      host functions want; the global $s_NAME holds s.
;;   0x0f00 .. 0x0f17   $DIGITS: scratch for $utoa (20 digits max)
;;   0x1000 .. end      the heap: a bump area reset at the start of every
;;                      callback. The payload, the values fetched from the
;;                      host (nick, room, member lists) and the outgoing
;;                      messages are all placed here, one after the other;
;;                      nothing outlives the callback. $alloc grows memory
;;                      when the heap reaches its end.
;;
;; An outgoing message is built at the top of the heap: remember where it
;; starts ($mark), $append its parts, then ($since m) gives (ptr, len).
;; Everything read from the host is fetched below that point first, so a
;; message never overwrites the strings it is built from.
;; ---------------------------------------------------------------------------
(module
  ;; Host functions, module "wshost", exact ABI v1 signatures. Only these
  ;; are imported: anything else (another module) makes the host refuse us.
  (import "wshost" "event_read"   (func $event_read   (param i32 i32) (result i32)))
  (import "wshost" "send"         (func $send         (param i64 i32 i32 i32) (result i32)))
  (import "wshost" "broadcast"    (func $broadcast    (param i32 i32 i32 i32 i32 i64) (result i32)))
  (import "wshost" "join"         (func $join         (param i64 i32 i32) (result i32)))
  (import "wshost" "leave"        (func $leave        (param i64 i32 i32) (result i32)))
  (import "wshost" "room_members" (func $room_members (param i32 i32 i32 i32) (result i32)))
  (import "wshost" "conn_rooms"   (func $conn_rooms   (param i64 i32 i32) (result i32)))
  (import "wshost" "conn_info"    (func $conn_info    (param i64 i32 i32 i32 i32) (result i32)))
  (import "wshost" "conn_set"     (func $conn_set     (param i64 i32 i32 i32 i32) (result i32)))
  (import "wshost" "log"          (func $log          (param i32 i32 i32)))

  ;; Exported as "memory" (required). No maximum: the host caps it at the
  ;; plugin's memory limit (64 MiB by default).
  (memory (export "memory") 1)

  ;; The ABI v1 marker: never called, its presence is what counts.
  (func (export "wshost_abi_v1"))

  (global $HEAP_BASE i32 (i32.const 0x1000))
  (global $DIGITS i32 (i32.const 0x0f00))
  (global $heap (mut i32) (i32.const 0x1000)) ;; next free byte of the heap

  ;; Limits of the chat (README: "1 to 32", "1 to 64").
  (global $MAX_NICK i32 (i32.const 32))
  (global $MAX_ROOM i32 (i32.const 64))

  ;; ---- constant strings: length byte + bytes, see the memory map ---------
  (global $s_query_nick i32 (i32.const 0x0100)) (data (i32.const 0x0100) "\0a" "query.nick")
  (global $s_query_room i32 (i32.const 0x010c)) (data (i32.const 0x010c) "\0a" "query.room")
  (global $s_attr_nick  i32 (i32.const 0x0118)) (data (i32.const 0x0118) "\09" "attr.nick")
  (global $s_attr_room  i32 (i32.const 0x0124)) (data (i32.const 0x0124) "\09" "attr.room")
  (global $s_nick       i32 (i32.const 0x0130)) (data (i32.const 0x0130) "\04" "nick")
  (global $s_room       i32 (i32.const 0x0138)) (data (i32.const 0x0138) "\04" "room")
  (global $s_general    i32 (i32.const 0x0140)) (data (i32.const 0x0140) "\07" "general")
  (global $s_guest      i32 (i32.const 0x0148)) (data (i32.const 0x0148) "\06" "guest-")
  (global $s_welcome    i32 (i32.const 0x0150)) (data (i32.const 0x0150) "\0a" "* welcome ")
  (global $s_in_room    i32 (i32.const 0x015c)) (data (i32.const 0x015c) "\0e" "! you are in #")
  (global $s_commands   i32 (i32.const 0x016c)) (data (i32.const 0x016c) "\28" ". commands: /nick NAME, /join ROOM, /who")
  (global $s_star       i32 (i32.const 0x0198)) (data (i32.const 0x0198) "\02" "* ")
  (global $s_joined     i32 (i32.const 0x019c)) (data (i32.const 0x019c) "\09" " joined #")
  (global $s_left       i32 (i32.const 0x01a8)) (data (i32.const 0x01a8) "\07" " left #")
  (global $s_known      i32 (i32.const 0x01b0)) (data (i32.const 0x01b0) "\11" " is now known as ")
  (global $s_binary     i32 (i32.const 0x01c4)) (data (i32.const 0x01c4) "\23" "! binary messages are not supported")
  (global $s_lbracket   i32 (i32.const 0x01e8)) (data (i32.const 0x01e8) "\01" "[")
  (global $s_rbracket   i32 (i32.const 0x01ec)) (data (i32.const 0x01ec) "\02" "] ")
  (global $s_colon      i32 (i32.const 0x01f0)) (data (i32.const 0x01f0) "\02" ": ")
  (global $s_cmd_nick   i32 (i32.const 0x01f4)) (data (i32.const 0x01f4) "\05" "/nick")
  (global $s_cmd_join   i32 (i32.const 0x01fc)) (data (i32.const 0x01fc) "\05" "/join")
  (global $s_cmd_who    i32 (i32.const 0x0204)) (data (i32.const 0x0204) "\04" "/who")
  (global $s_bad_nick   i32 (i32.const 0x020c)) (data (i32.const 0x020c) "\30" "! invalid nick: use 1-32 letters, digits, _ or -")
  (global $s_bad_room   i32 (i32.const 0x0240)) (data (i32.const 0x0240) "\30" "! invalid room: use 1-64 letters, digits, _ or -")
  (global $s_already    i32 (i32.const 0x0274)) (data (i32.const 0x0274) "\16" "! you are already in #")
  (global $s_in         i32 (i32.const 0x028c)) (data (i32.const 0x028c) "\06" "* in #")
  (global $s_comma      i32 (i32.const 0x0294)) (data (i32.const 0x0294) "\02" ", ")
  (global $s_unknown    i32 (i32.const 0x0298)) (data (i32.const 0x0298) "\13" "! unknown command: ")
  (global $s_connection i32 (i32.const 0x02ac)) (data (i32.const 0x02ac) "\0b" "connection ")
  (global $s_error      i32 (i32.const 0x02b8)) (data (i32.const 0x02b8) "\08" " error: ")
  (global $s_protocol   i32 (i32.const 0x02c4)) (data (i32.const 0x02c4) "\08" "protocol")
  (global $s_slow       i32 (i32.const 0x02d0)) (data (i32.const 0x02d0) "\04" "slow")
  (global $s_fault      i32 (i32.const 0x02d8)) (data (i32.const 0x02d8) "\05" "fault")
  (global $s_io         i32 (i32.const 0x02e0)) (data (i32.const 0x02e0) "\02" "io")
  (global $s_kind       i32 (i32.const 0x02e4)) (data (i32.const 0x02e4) "\05" "kind(")
  (global $s_rparen     i32 (i32.const 0x02ec)) (data (i32.const 0x02ec) "\01" ")")

  ;; =========================================================================
  ;; Memory: the heap
  ;; =========================================================================

  ;; $lit(s) -> (ptr, len): the constant string at s (length byte + bytes).
  (func $lit (param $s i32) (result i32 i32)
    (i32.add (local.get $s) (i32.const 1))
    (i32.load8_u (local.get $s)))

  ;; $mem_end() -> the size of linear memory in bytes.
  (func $mem_end (result i32)
    (i32.shl (memory.size) (i32.const 16)))

  ;; $reserve(n): make sure n bytes are free from $heap to the end of
  ;; memory, growing memory by whole pages. A grow past the memory limit
  ;; returns -1; we trap then (as a Go plugin panics when out of memory).
  (func $reserve (param $n i32)
    (local $short i64) ;; bytes missing, computed in 64 bits: no overflow
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

  ;; $memcpy(dst, src, n). memory.copy is bulk memory (Wasm 2.0): wat2wasm
  ;; and wazero enable it by default; it handles overlapping ranges.
  (func $memcpy (param $dst i32) (param $src i32) (param $n i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $n)))

  ;; $append(src, n): copy n bytes to the top of the heap.
  (func $append (param $src i32) (param $n i32)
    (call $memcpy (call $alloc (local.get $n)) (local.get $src) (local.get $n)))

  ;; $append_lit(s): append the constant string at s.
  (func $append_lit (param $s i32)
    (call $append (call $lit (local.get $s))))

  ;; $mark() -> where the next message starts; $since(m) -> (m, bytes since).
  (func $mark (result i32) (global.get $heap))
  (func $since (param $m i32) (result i32 i32)
    (local.get $m)
    (i32.sub (global.get $heap) (local.get $m)))

  ;; =========================================================================
  ;; Numbers
  ;; =========================================================================

  ;; $utoa(dst, v) -> end: write v (unsigned 64-bit) in decimal at dst,
  ;; return the address just past the last digit.
  (func $utoa (param $dst i32) (param $v i64) (result i32)
    (local $end i32)
    (local $t i64)
    ;; Count the digits: end = dst + number of digits.
    (local.set $end (i32.add (local.get $dst) (i32.const 1)))
    (local.set $t (local.get $v))
    (block $counted
      (loop $count
        (br_if $counted (i64.lt_u (local.get $t) (i64.const 10)))
        (local.set $t (i64.div_u (local.get $t) (i64.const 10)))
        (local.set $end (i32.add (local.get $end) (i32.const 1)))
        (br $count)))
    ;; Write them from the last one back to dst.
    (local.set $dst (local.get $end))
    (loop $digit
      (local.set $dst (i32.sub (local.get $dst) (i32.const 1)))
      (i32.store8 (local.get $dst)
        (i32.add (i32.const 0x30) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $v) (i64.const 0))))
    (local.get $end))

  ;; $append_u64(v): append v in decimal (a connection id).
  (func $append_u64 (param $v i64)
    (call $append (global.get $DIGITS)
      (i32.sub (call $utoa (global.get $DIGITS) (local.get $v)) (global.get $DIGITS))))

  ;; $append_i32(v): append v, signed, in decimal.
  (func $append_i32 (param $v i32)
    (if (i32.lt_s (local.get $v) (i32.const 0))
      (then
        (i32.store8 (call $alloc (i32.const 1)) (i32.const 0x2d)) ;; '-'
        ;; |v| as unsigned: right even for -2147483648.
        (call $append_u64 (i64.extend_i32_u (i32.sub (i32.const 0) (local.get $v)))))
      (else (call $append_u64 (i64.extend_i32_u (local.get $v))))))

  ;; =========================================================================
  ;; Text
  ;; =========================================================================

  ;; $is_space(b): ASCII whitespace only: ' ', \t \n \v \f \r (9..13).
  (func $is_space (param $b i32) (result i32)
    (i32.or
      (i32.eq (local.get $b) (i32.const 0x20))
      (i32.lt_u (i32.sub (local.get $b) (i32.const 9)) (i32.const 5))))

  ;; $trim(p, n) -> (p, n) without leading and trailing ASCII whitespace.
  (func $trim (param $p i32) (param $n i32) (result i32 i32)
    (block $front
      (loop $more
        (br_if $front (i32.eqz (local.get $n)))
        (br_if $front (i32.eqz (call $is_space (i32.load8_u (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $more)))
    (block $back
      (loop $more
        (br_if $back (i32.eqz (local.get $n)))
        (br_if $back (i32.eqz (call $is_space
          (i32.load8_u (i32.sub (i32.add (local.get $p) (local.get $n)) (i32.const 1))))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $more)))
    (local.get $p) (local.get $n))

  ;; $index_space(p, n) -> index of the first ASCII whitespace, or -1.
  (func $index_space (param $p i32) (param $n i32) (result i32)
    (local $i i32)
    (block $none
      (loop $scan
        (br_if $none (i32.ge_u (local.get $i) (local.get $n)))
        (if (call $is_space (i32.load8_u (i32.add (local.get $p) (local.get $i))))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (i32.const -1))

  ;; $compare(p1, n1, p2, n2) -> -1, 0 or 1: byte order, a prefix first
  ;; (what Go's slices.Sort does with strings).
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
    ;; One is a prefix of the other: the shorter one comes first.
    (i32.sub (i32.gt_u (local.get $n1) (local.get $n2))
             (i32.lt_u (local.get $n1) (local.get $n2))))

  ;; $equal(p1, n1, p2, n2) -> 1 when the two strings are the same bytes.
  (func $equal (param $p1 i32) (param $n1 i32) (param $p2 i32) (param $n2 i32) (result i32)
    (i32.eqz (call $compare (local.get $p1) (local.get $n1) (local.get $p2) (local.get $n2))))

  ;; $is(p, n, s) -> 1 when (p, n) is the constant string s.
  (func $is (param $p i32) (param $n i32) (param $s i32) (result i32)
    (call $equal (local.get $p) (local.get $n) (call $lit (local.get $s))))

  ;; $valid_name(p, n, max) -> 1 when n is 1..max and every byte is one of
  ;; A-Z a-z 0-9 _ -. n may be negative (an error code): not valid.
  (func $valid_name (param $p i32) (param $n i32) (param $max i32) (result i32)
    (local $b i32)
    (local $end i32)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return (i32.const 0))))
    (if (i32.gt_s (local.get $n) (local.get $max)) (then (return (i32.const 0))))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (loop $byte
      (local.set $b (i32.load8_u (local.get $p)))
      (if (i32.eqz
            (i32.or
              (i32.or
                ;; 'a'..'z' and 'A'..'Z': set bit 5 and test the lower case range
                (i32.lt_u (i32.sub (i32.or (local.get $b) (i32.const 0x20)) (i32.const 0x61)) (i32.const 26))
                (i32.lt_u (i32.sub (local.get $b) (i32.const 0x30)) (i32.const 10)))   ;; '0'..'9'
              (i32.or
                (i32.eq (local.get $b) (i32.const 0x5f))                                ;; '_'
                (i32.eq (local.get $b) (i32.const 0x2d)))))                             ;; '-'
        (then (return (i32.const 0))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $byte (i32.lt_u (local.get $p) (local.get $end))))
    (i32.const 1))

  ;; $sort_strings(arr, count): insertion sort, in place, of count (ptr, len)
  ;; pairs of i32 stored at arr (8 bytes each), in byte order.
  (func $sort_strings (param $arr i32) (param $count i32)
    (local $i i32) (local $j i32) (local $at i32) (local $p i32) (local $n i32)
    (local.set $i (i32.const 1))
    (block $sorted
      (loop $next
        (br_if $sorted (i32.ge_u (local.get $i) (local.get $count)))
        ;; Take pair i out...
        (local.set $at (i32.add (local.get $arr) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $p (i32.load (local.get $at)))
        (local.set $n (i32.load offset=4 (local.get $at)))
        ;; ...shift the greater pairs before it one place up...
        (local.set $j (local.get $i))
        (block $found
          (loop $shift
            (br_if $found (i32.eqz (local.get $j)))
            (local.set $at (i32.add (local.get $arr)
              (i32.shl (i32.sub (local.get $j) (i32.const 1)) (i32.const 3))))
            (br_if $found (i32.le_s
              (call $compare (i32.load (local.get $at)) (i32.load offset=4 (local.get $at))
                             (local.get $p) (local.get $n))
              (i32.const 0)))
            (i64.store offset=8 (local.get $at) (i64.load (local.get $at)))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br $shift)))
        ;; ...and put it in the hole.
        (local.set $at (i32.add (local.get $arr) (i32.shl (local.get $j) (i32.const 3))))
        (i32.store (local.get $at) (local.get $p))
        (i32.store offset=4 (local.get $at) (local.get $n))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; =========================================================================
  ;; Fetching results from the host (ABI §4, "Buffers")
  ;; =========================================================================
  ;;
  ;; event_read, conn_info, conn_rooms and room_members fill a buffer and
  ;; return the FULL size of the result (for room_members: a count of 8-byte
  ;; ids). $fetch hands the host all the memory from $heap to the end; when
  ;; the result is larger, it grows memory and asks again (the result may
  ;; have changed in between, hence the loop). The four host functions have
  ;; different signatures, so each gets a "filler" of one common type, and
  ;; $fetch calls the one it is given through the table.

  (type $filler (func (param i64 i32 i32 i32 i32) (result i32))) ;; (conn, a, b, buf, cap)
  (table 4 funcref)
  (elem (i32.const 0) $fill_event $fill_info $fill_rooms $fill_members)
  (global $FILL_EVENT   i32 (i32.const 0)) ;; event_read(buf, cap)
  (global $FILL_INFO    i32 (i32.const 1)) ;; conn_info(conn, key a/b, buf, cap)
  (global $FILL_ROOMS   i32 (i32.const 2)) ;; conn_rooms(conn, buf, cap)
  (global $FILL_MEMBERS i32 (i32.const 3)) ;; room_members(room a/b, buf, cap)

  (func $fill_event (type $filler) (param $conn i64) (param $a i32) (param $b i32) (param $buf i32) (param $cap i32) (result i32)
    (call $event_read (local.get $buf) (local.get $cap)))
  (func $fill_info (type $filler) (param $conn i64) (param $a i32) (param $b i32) (param $buf i32) (param $cap i32) (result i32)
    (call $conn_info (local.get $conn) (local.get $a) (local.get $b) (local.get $buf) (local.get $cap)))
  (func $fill_rooms (type $filler) (param $conn i64) (param $a i32) (param $b i32) (param $buf i32) (param $cap i32) (result i32)
    (call $conn_rooms (local.get $conn) (local.get $buf) (local.get $cap)))
  (func $fill_members (type $filler) (param $conn i64) (param $a i32) (param $b i32) (param $buf i32) (param $cap i32) (result i32)
    (call $room_members (local.get $a) (local.get $b) (local.get $buf) (local.get $cap)))

  ;; $fetch(filler, conn, a, b, unit) -> (ptr, rc): the result is at ptr,
  ;; rc * unit bytes, taken from the heap; rc < 0 is the host's error code
  ;; (and nothing is taken).
  (func $fetch (param $filler i32) (param $conn i64) (param $a i32) (param $b i32) (param $unit i32)
               (result i32 i32)
    (local $p i32) (local $cap i32) (local $rc i32) (local $need i64)
    (call $reserve (i32.const 256)) ;; never hand the host an empty buffer at the very end
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

  ;; $read_event(len) -> (ptr, n): the current event's payload (n < 0: the
  ;; host's error). No host call for an empty payload.
  (func $read_event (param $len i32) (result i32 i32)
    (if (i32.eqz (local.get $len))
      (then (return (global.get $heap) (i32.const 0))))
    (call $fetch (global.get $FILL_EVENT) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 1)))

  ;; $info(conn, key) -> (ptr, rc): conn_info for the constant key.
  (func $info (param $conn i64) (param $key i32) (result i32 i32)
    (call $fetch (global.get $FILL_INFO) (local.get $conn) (call $lit (local.get $key)) (i32.const 1)))

  ;; =========================================================================
  ;; The chat
  ;; =========================================================================

  ;; $guest(c) -> (ptr, len): "guest-ID", built on the heap.
  (func $guest (param $c i64) (result i32 i32)
    (local $m i32)
    (local.set $m (call $mark))
    (call $append_lit (global.get $s_guest))
    (call $append_u64 (local.get $c))
    (call $since (local.get $m)))

  ;; $nick_of(c) -> (ptr, len): attr.nick, or guest-ID when absent or empty.
  (func $nick_of (param $c i64) (result i32 i32)
    (local $p i32) (local $n i32)
    (call $info (local.get $c) (global.get $s_attr_nick))
    (local.set $n) (local.set $p)
    (if (i32.le_s (local.get $n) (i32.const 0))
      (then (return (call $guest (local.get $c)))))
    (local.get $p) (local.get $n))

  ;; $room_of(c) -> (ptr, len): attr.room, or "general" when absent or empty.
  (func $room_of (param $c i64) (result i32 i32)
    (local $p i32) (local $n i32)
    (call $info (local.get $c) (global.get $s_attr_room))
    (local.set $n) (local.set $p)
    (if (i32.le_s (local.get $n) (i32.const 0))
      (then (return (call $lit (global.get $s_general)))))
    (local.get $p) (local.get $n))

  ;; $failed(rc) -> on_message's result: 1 (a handler error) when the last
  ;; host call failed, else 0.
  (func $failed (param $rc i32) (result i32)
    (i32.lt_s (local.get $rc) (i32.const 0)))

  ;; $send_lit(c, s) -> rc: send the constant string s to c, as text.
  (func $send_lit (param $c i64) (param $s i32) (result i32)
    (call $send (local.get $c) (call $lit (local.get $s)) (i32.const 0)))

  ;; $announce(np, nn, s, rp, rn) -> (ptr, len): "* NICK" + s + "ROOM",
  ;; where s is " joined #" or " left #".
  (func $announce (param $np i32) (param $nn i32) (param $s i32) (param $rp i32) (param $rn i32)
                  (result i32 i32)
    (local $m i32)
    (local.set $m (call $mark))
    (call $append_lit (global.get $s_star))
    (call $append (local.get $np) (local.get $nn))
    (call $append_lit (local.get $s))
    (call $append (local.get $rp) (local.get $rn))
    (call $since (local.get $m)))

  ;; on_open(c) -> 0: pick the nick and the room, store them as attributes,
  ;; join, greet, and tell the room.
  (func (export "on_open") (param $c i64) (result i32)
    (local $np i32) (local $nn i32) ;; nick
    (local $rp i32) (local $rn i32) ;; room
    (local $m i32)
    (global.set $heap (global.get $HEAP_BASE))

    ;; ?nick=, or guest-ID when missing or invalid.
    (call $info (local.get $c) (global.get $s_query_nick))
    (local.set $nn) (local.set $np)
    (if (i32.eqz (call $valid_name (local.get $np) (local.get $nn) (global.get $MAX_NICK)))
      (then
        (call $guest (local.get $c))
        (local.set $nn) (local.set $np)))

    ;; ?room=, or general when missing or invalid.
    (call $info (local.get $c) (global.get $s_query_room))
    (local.set $rn) (local.set $rp)
    (if (i32.eqz (call $valid_name (local.get $rp) (local.get $rn) (global.get $MAX_ROOM)))
      (then
        (call $lit (global.get $s_general))
        (local.set $rn) (local.set $rp)))

    (drop (call $conn_set (local.get $c) (call $lit (global.get $s_nick)) (local.get $np) (local.get $nn)))
    (drop (call $conn_set (local.get $c) (call $lit (global.get $s_room)) (local.get $rp) (local.get $rn)))
    (drop (call $join (local.get $c) (local.get $rp) (local.get $rn)))

    ;; To self: "* welcome NICK! you are in #ROOM. commands: /nick NAME, /join ROOM, /who"
    (local.set $m (call $mark))
    (call $append_lit (global.get $s_welcome))
    (call $append (local.get $np) (local.get $nn))
    (call $append_lit (global.get $s_in_room))
    (call $append (local.get $rp) (local.get $rn))
    (call $append_lit (global.get $s_commands))
    (drop (call $send (local.get $c) (call $since (local.get $m)) (i32.const 0)))

    ;; To the room except self: "* NICK joined #ROOM"
    (drop (call $broadcast (local.get $rp) (local.get $rn)
      (call $announce (local.get $np) (local.get $nn) (global.get $s_joined) (local.get $rp) (local.get $rn))
      (i32.const 0) (local.get $c)))
    (i32.const 0))

  ;; on_message(c, len, flags) -> 0, or 1 when the reply or relay failed.
  (func (export "on_message") (param $c i64) (param $len i32) (param $flags i32) (result i32)
    (local $tp i32) (local $tn i32) ;; the text, trimmed
    (local $np i32) (local $nn i32) ;; the sender's nick
    (local $rp i32) (local $rn i32) ;; the sender's room
    (local $cn i32)                 ;; the command: the first cn bytes of the text
    (local $ap i32) (local $an i32) ;; the command's argument, trimmed
    (local $i i32) (local $m i32) (local $count i32) (local $ids i32)
    (local $pairs i32) (local $nicks i32) (local $p i32) (local $n i32)
    (global.set $heap (global.get $HEAP_BASE))

    ;; Binary: "! binary messages are not supported", to self.
    (if (i32.and (local.get $flags) (i32.const 1))
      (then (return (call $failed (call $send_lit (local.get $c) (global.get $s_binary))))))

    (call $read_event (local.get $len))
    (local.set $tn) (local.set $tp)
    (if (i32.lt_s (local.get $tn) (i32.const 0)) (then (return (i32.const 1))))
    (call $trim (local.get $tp) (local.get $tn))
    (local.set $tn) (local.set $tp)
    (if (i32.eqz (local.get $tn)) (then (return (i32.const 0)))) ;; nothing left: nothing to do

    (call $room_of (local.get $c)) (local.set $rn) (local.set $rp)
    (call $nick_of (local.get $c)) (local.set $nn) (local.set $np)

    ;; Not a command: "[ROOM] NICK: TEXT" to the room, sender included.
    (if (i32.ne (i32.load8_u (local.get $tp)) (i32.const 0x2f)) ;; '/'
      (then
        (local.set $m (call $mark))
        (call $append_lit (global.get $s_lbracket))
        (call $append (local.get $rp) (local.get $rn))
        (call $append_lit (global.get $s_rbracket))
        (call $append (local.get $np) (local.get $nn))
        (call $append_lit (global.get $s_colon))
        (call $append (local.get $tp) (local.get $tn))
        (return (call $failed (call $broadcast (local.get $rp) (local.get $rn)
          (call $since (local.get $m)) (i32.const 0) (i64.const 0))))))

    ;; A command: the word up to the first whitespace, then the argument.
    (local.set $cn (local.get $tn))
    (local.set $ap (local.get $tp))
    (local.set $an (i32.const 0))
    (local.set $i (call $index_space (local.get $tp) (local.get $tn)))
    (if (i32.ge_s (local.get $i) (i32.const 0))
      (then
        (local.set $cn (local.get $i))
        (call $trim (i32.add (local.get $tp) (local.get $i)) (i32.sub (local.get $tn) (local.get $i)))
        (local.set $an) (local.set $ap)))

    ;; /nick NEW
    (if (call $is (local.get $tp) (local.get $cn) (global.get $s_cmd_nick))
      (then
        (if (i32.eqz (call $valid_name (local.get $ap) (local.get $an) (global.get $MAX_NICK)))
          (then (return (call $failed (call $send_lit (local.get $c) (global.get $s_bad_nick))))))
        (drop (call $conn_set (local.get $c) (call $lit (global.get $s_nick)) (local.get $ap) (local.get $an)))
        ;; "* OLD is now known as NEW" to the room.
        (local.set $m (call $mark))
        (call $append_lit (global.get $s_star))
        (call $append (local.get $np) (local.get $nn))
        (call $append_lit (global.get $s_known))
        (call $append (local.get $ap) (local.get $an))
        (return (call $failed (call $broadcast (local.get $rp) (local.get $rn)
          (call $since (local.get $m)) (i32.const 0) (i64.const 0))))))

    ;; /join NEW
    (if (call $is (local.get $tp) (local.get $cn) (global.get $s_cmd_join))
      (then
        (if (i32.eqz (call $valid_name (local.get $ap) (local.get $an) (global.get $MAX_ROOM)))
          (then (return (call $failed (call $send_lit (local.get $c) (global.get $s_bad_room))))))
        (if (call $equal (local.get $ap) (local.get $an) (local.get $rp) (local.get $rn))
          (then
            ;; "! you are already in #ROOM" to self.
            (local.set $m (call $mark))
            (call $append_lit (global.get $s_already))
            (call $append (local.get $rp) (local.get $rn))
            (return (call $failed (call $send (local.get $c) (call $since (local.get $m)) (i32.const 0))))))
        ;; Leave OLD and tell it (except self), join NEW and tell it (all).
        (drop (call $leave (local.get $c) (local.get $rp) (local.get $rn)))
        (drop (call $broadcast (local.get $rp) (local.get $rn)
          (call $announce (local.get $np) (local.get $nn) (global.get $s_left) (local.get $rp) (local.get $rn))
          (i32.const 0) (local.get $c)))
        (drop (call $join (local.get $c) (local.get $ap) (local.get $an)))
        (drop (call $conn_set (local.get $c) (call $lit (global.get $s_room)) (local.get $ap) (local.get $an)))
        (return (call $failed (call $broadcast (local.get $ap) (local.get $an)
          (call $announce (local.get $np) (local.get $nn) (global.get $s_joined) (local.get $ap) (local.get $an))
          (i32.const 0) (i64.const 0))))))

    ;; /who: "* in #ROOM: NICK1, NICK2, ..." to self, nicks sorted by bytes.
    (if (call $is (local.get $tp) (local.get $cn) (global.get $s_cmd_who))
      (then
        ;; The members' ids (8 bytes each, little-endian); an error counts as
        ;; no members.
        (call $fetch (global.get $FILL_MEMBERS) (i64.const 0) (local.get $rp) (local.get $rn) (i32.const 8))
        (local.set $count) (local.set $ids)
        (if (i32.lt_s (local.get $count) (i32.const 0)) (then (local.set $count (i32.const 0))))
        ;; One (ptr, len) pair per nick, then each member's attr.nick;
        ;; members without one are left out.
        (local.set $pairs (call $alloc (i32.shl (local.get $count) (i32.const 3))))
        (local.set $nicks (i32.const 0))
        (local.set $i (i32.const 0))
        (block $listed
          (loop $member
            (br_if $listed (i32.ge_u (local.get $i) (local.get $count)))
            (call $info (i64.load (i32.add (local.get $ids) (i32.shl (local.get $i) (i32.const 3))))
                        (global.get $s_attr_nick))
            (local.set $n) (local.set $p)
            (if (i32.ge_s (local.get $n) (i32.const 0))
              (then
                (i32.store (i32.add (local.get $pairs) (i32.shl (local.get $nicks) (i32.const 3))) (local.get $p))
                (i32.store offset=4 (i32.add (local.get $pairs) (i32.shl (local.get $nicks) (i32.const 3))) (local.get $n))
                (local.set $nicks (i32.add (local.get $nicks) (i32.const 1)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $member)))
        (call $sort_strings (local.get $pairs) (local.get $nicks))
        (local.set $m (call $mark))
        (call $append_lit (global.get $s_in))
        (call $append (local.get $rp) (local.get $rn))
        (call $append_lit (global.get $s_colon))
        (local.set $i (i32.const 0))
        (block $joined
          (loop $nick
            (br_if $joined (i32.ge_u (local.get $i) (local.get $nicks)))
            (if (local.get $i) (then (call $append_lit (global.get $s_comma))))
            (local.set $p (i32.add (local.get $pairs) (i32.shl (local.get $i) (i32.const 3))))
            (call $append (i32.load (local.get $p)) (i32.load offset=4 (local.get $p)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $nick)))
        (return (call $failed (call $send (local.get $c) (call $since (local.get $m)) (i32.const 0))))))

    ;; Anything else: "! unknown command: /WORD" to self.
    (local.set $m (call $mark))
    (call $append_lit (global.get $s_unknown))
    (call $append (local.get $tp) (local.get $cn))
    (call $failed (call $send (local.get $c) (call $since (local.get $m)) (i32.const 0))))

  ;; on_close(c, code, len): "* NICK left #ROOM" to every room the
  ;; connection is still in (conn_rooms still lists them), except self.
  (func (export "on_close") (param $c i64) (param $code i32) (param $len i32)
    (local $np i32) (local $nn i32) ;; nick
    (local $bp i32) (local $bn i32) ;; conn_rooms: "room\n" "room\n" ...
    (local $start i32) (local $i i32) (local $m i32)
    (global.set $heap (global.get $HEAP_BASE))
    (call $nick_of (local.get $c)) (local.set $nn) (local.set $np)
    (call $fetch (global.get $FILL_ROOMS) (local.get $c) (i32.const 0) (i32.const 0) (i32.const 1))
    (local.set $bn) (local.set $bp)
    (if (i32.le_s (local.get $bn) (i32.const 0)) (then (return)))
    (local.set $start (local.get $bp))
    (block $done
      (loop $byte
        (br_if $done (i32.ge_u (local.get $i) (local.get $bn)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $bp) (local.get $i))) (i32.const 0x0a)) ;; '\n'
          (then
            ;; The room is start .. bp+i.
            (local.set $m (call $mark))
            (drop (call $broadcast
              (local.get $start) (i32.sub (i32.add (local.get $bp) (local.get $i)) (local.get $start))
              (call $announce (local.get $np) (local.get $nn) (global.get $s_left)
                (local.get $start) (i32.sub (i32.add (local.get $bp) (local.get $i)) (local.get $start)))
              (i32.const 0) (local.get $c)))
            (global.set $heap (local.get $m)) ;; the message is sent: reuse its bytes
            (local.set $start (i32.add (i32.add (local.get $bp) (local.get $i)) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $byte))))

  ;; on_error(c, kind, len): log at warn level
  ;; "connection ID: KIND error: TEXT".
  (func (export "on_error") (param $c i64) (param $kind i32) (param $len i32)
    (local $tp i32) (local $tn i32) (local $m i32)
    (global.set $heap (global.get $HEAP_BASE))
    (call $read_event (local.get $len))
    (local.set $tn) (local.set $tp)
    (if (i32.lt_s (local.get $tn) (i32.const 0)) (then (local.set $tn (i32.const 0))))
    (local.set $m (call $mark))
    (call $append_lit (global.get $s_connection))
    (call $append_u64 (local.get $c))
    (call $append_lit (global.get $s_colon))
    (block $named
      (if (i32.eq (local.get $kind) (i32.const 1)) (then (call $append_lit (global.get $s_protocol)) (br $named)))
      (if (i32.eq (local.get $kind) (i32.const 2)) (then (call $append_lit (global.get $s_slow)) (br $named)))
      (if (i32.eq (local.get $kind) (i32.const 3)) (then (call $append_lit (global.get $s_fault)) (br $named)))
      (if (i32.eq (local.get $kind) (i32.const 4)) (then (call $append_lit (global.get $s_io)) (br $named)))
      ;; An unknown kind: "kind(N)".
      (call $append_lit (global.get $s_kind))
      (call $append_i32 (local.get $kind))
      (call $append_lit (global.get $s_rparen)))
    (call $append_lit (global.get $s_error))
    (call $append (local.get $tp) (local.get $tn))
    (call $log (i32.const 2) (call $since (local.get $m))))
)
