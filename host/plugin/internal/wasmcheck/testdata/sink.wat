(module $sink
  (type $v (func))
  (type $m (func (param i64 i32 i32) (result i32)))
  (import "wshost" "log" (func $log (param i32 i32 i32)))
  (import "wshost" "tab" (table $it 1 10 funcref))
  (import "wshost" "g" (global $ig i32))
  (import "wshost" "gm" (global $igm (mut i64)))
  (table $t0 4 funcref)
  (table $t1 2 8 externref)
  (memory $mem 2 3000)
  (global $g1 (mut i32) (i32.const 7))
  (global $g2 i64 (i64.const -9223372036854775808))
  (global $g3 f32 (f32.const 1.5))
  (global $g4 f64 (f64.const -2.25))
  (global $g5 funcref (ref.func $a))
  (global $g6 externref (ref.null extern))
  (global $g7 i32 (global.get $ig))
  (global $g8 v128 (v128.const i32x4 1 2 3 4))
  (export "memory" (memory $mem))
  (export "wshost_abi_v1" (func $a))
  (export "on_message" (func $b))
  (export "t0" (table $t0))
  (export "g1" (global $g1))
  (export "log2" (func $log))
  (start $a)
  ;; every element segment encoding
  (elem (i32.const 0) $a $b)                                   ;; 0
  (elem func $a $b)                                            ;; 1
  (elem (table $t0) (i32.const 1) func $a)                     ;; 2
  (elem declare func $c)                                       ;; 3
  (elem (i32.const 0) funcref (ref.null func) (ref.func $a))   ;; 4
  (elem funcref (ref.null func) (ref.func $b))                 ;; 5
  (elem (table $t1) (i32.const 0) externref (ref.null extern)) ;; 6
  (elem declare funcref (ref.null func) (ref.func $c))         ;; 7
  (data (i32.const 16) "hello")
  (data "passive")
  (data (memory $mem) (i32.const 32) "\00\01\02")
  (func $a (type $v))
  (func $b (type $m) (local i32 i64) (local f32)
    (local.set 3 (i32.const 1))
    (drop (ref.func $c))
    (block $out (br_table 0 0 $out (local.get 1)))
    (if (local.get 1) (then (nop)) (else (nop)))
    (memory.init 1 (i32.const 0) (i32.const 0) (i32.const 1))
    (data.drop 1)
    (call_indirect $t0 (type $v) (i32.const 0))
    (v128.const i64x2 0 0) drop
    (i32.const 0))
  (func $c (result i32) (local v128) (i32.const 1))
)
