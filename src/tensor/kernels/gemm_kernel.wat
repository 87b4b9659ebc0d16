;; WebAssembly SIMD micro-kernels of nestgrad's matmul. Both compute C = A·B for
;; A and B placed by src/tensor/kernels/gemm_wasm.ts:
;;   a:   row 4s + r of A (r < 4) starts at a + s·ass + r·ars (bytes), and its element p
;;        lies p·aps further on: A copied as it is (row-major: ass = 4·ars, aps = one
;;        element; transposed: ars = one element, aps = its row stride) or packed in
;;        strips of 4 rows
;;   bp:  the columns of B in strips of NR contiguous elements: B[p, NR·t..NR·t+NR] lies
;;        at bp + t·bss + p·bps (bytes): B copied as it is (row-major: bss = NR elements,
;;        bps = its row stride) or packed (bss = k·NR elements, bps = NR elements)
;;   c:   C, row-major, (4·m4) × np (np padded to the strip width NR)
;; A 4 × NR block of C stays in 8 v128 registers while p runs over k; each element of C
;; is the sum over p = 0, 1, ..., k-1 in that order (no fused multiply-add), so any
;; partition of the rows (blocks, threads) gives the same bits.
;; Compile with `npm run build:wasm` (wabt), which regenerates gemm_wasm.generated.ts
;; (and gemm_wasm_shared.generated.ts, with the memory import made shared).
(module
  (import "env" "memory" (memory 1))

  ;; float32: 4 × 8 blocks (two f32x4 per row of the block)
  (func (export "gemm_f32")
    (param $a i32) (param $ass i32) (param $ars i32) (param $aps i32)
    (param $bp i32) (param $bss i32) (param $bps i32) (param $c i32) (param $m4 i32) (param $n8 i32) (param $k i32)
    (local $t i32) (local $s i32) (local $p i32) (local $pb i32) (local $pc i32) (local $ldc i32)
    (local $pa0 i32) (local $pa1 i32) (local $pa2 i32) (local $pa3 i32)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    ;; bytes per row of C: np · 4 = n8 · 32
    (local.set $ldc (i32.shl (local.get $n8) (i32.const 5)))
    (local.set $t (i32.const 0))
    (block $tdone (loop $tloop
      (br_if $tdone (i32.ge_u (local.get $t) (local.get $n8)))
      (local.set $s (i32.const 0))
      (block $sdone (loop $sloop
        (br_if $sdone (i32.ge_u (local.get $s) (local.get $m4)))
        (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
        (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))
        ;; rows 4s..4s+3 of A start at a + s·ass, one row stride apart; strip t of B at t·bss bytes
        (local.set $pa0 (i32.add (local.get $a) (i32.mul (local.get $s) (local.get $ass))))
        (local.set $pa1 (i32.add (local.get $pa0) (local.get $ars)))
        (local.set $pa2 (i32.add (local.get $pa1) (local.get $ars)))
        (local.set $pa3 (i32.add (local.get $pa2) (local.get $ars)))
        (local.set $pb (i32.add (local.get $bp) (i32.mul (local.get $t) (local.get $bss))))
        (local.set $p (local.get $k))
        (block $pdone (loop $ploop
          (br_if $pdone (i32.eqz (local.get $p)))
          (local.set $b0 (v128.load (local.get $pb)))
          (local.set $b1 (v128.load offset=16 (local.get $pb)))
          ;; row r of the block: A[4s + r, p] broadcast to every lane
          (local.set $x (v128.load32_splat (local.get $pa0)))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat (local.get $pa1)))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat (local.get $pa2)))
          (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat (local.get $pa3)))
          (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $pa0 (i32.add (local.get $pa0) (local.get $aps)))
          (local.set $pa1 (i32.add (local.get $pa1) (local.get $aps)))
          (local.set $pa2 (i32.add (local.get $pa2) (local.get $aps)))
          (local.set $pa3 (i32.add (local.get $pa3) (local.get $aps)))
          (local.set $pb (i32.add (local.get $pb) (local.get $bps)))
          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
          (br $ploop)))
        ;; C block at row 4s, column 8t
        (local.set $pc (i32.add (local.get $c)
          (i32.add (i32.mul (i32.shl (local.get $s) (i32.const 2)) (local.get $ldc)) (i32.shl (local.get $t) (i32.const 5)))))
        (v128.store (local.get $pc) (local.get $c00))
        (v128.store offset=16 (local.get $pc) (local.get $c01))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c10))
        (v128.store offset=16 (local.get $pc) (local.get $c11))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c20))
        (v128.store offset=16 (local.get $pc) (local.get $c21))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c30))
        (v128.store offset=16 (local.get $pc) (local.get $c31))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $sloop)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $tloop)))
  )

  ;; float64: 4 × 4 blocks (two f64x2 per row of the block)
  (func (export "gemm_f64")
    (param $a i32) (param $ass i32) (param $ars i32) (param $aps i32)
    (param $bp i32) (param $bss i32) (param $bps i32) (param $c i32) (param $m4 i32) (param $n4 i32) (param $k i32)
    (local $t i32) (local $s i32) (local $p i32) (local $pb i32) (local $pc i32) (local $ldc i32)
    (local $pa0 i32) (local $pa1 i32) (local $pa2 i32) (local $pa3 i32)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    ;; bytes per row of C: np · 8 = n4 · 32
    (local.set $ldc (i32.shl (local.get $n4) (i32.const 5)))
    (local.set $t (i32.const 0))
    (block $tdone (loop $tloop
      (br_if $tdone (i32.ge_u (local.get $t) (local.get $n4)))
      (local.set $s (i32.const 0))
      (block $sdone (loop $sloop
        (br_if $sdone (i32.ge_u (local.get $s) (local.get $m4)))
        (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
        (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))
        ;; rows 4s..4s+3 of A start at a + s·ass, one row stride apart; strip t of B at t·bss bytes
        (local.set $pa0 (i32.add (local.get $a) (i32.mul (local.get $s) (local.get $ass))))
        (local.set $pa1 (i32.add (local.get $pa0) (local.get $ars)))
        (local.set $pa2 (i32.add (local.get $pa1) (local.get $ars)))
        (local.set $pa3 (i32.add (local.get $pa2) (local.get $ars)))
        (local.set $pb (i32.add (local.get $bp) (i32.mul (local.get $t) (local.get $bss))))
        (local.set $p (local.get $k))
        (block $pdone (loop $ploop
          (br_if $pdone (i32.eqz (local.get $p)))
          (local.set $b0 (v128.load (local.get $pb)))
          (local.set $b1 (v128.load offset=16 (local.get $pb)))
          ;; row r of the block: A[4s + r, p] broadcast to every lane
          (local.set $x (v128.load64_splat (local.get $pa0)))
          (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $x (v128.load64_splat (local.get $pa1)))
          (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $x (v128.load64_splat (local.get $pa2)))
          (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $x (v128.load64_splat (local.get $pa3)))
          (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $pa0 (i32.add (local.get $pa0) (local.get $aps)))
          (local.set $pa1 (i32.add (local.get $pa1) (local.get $aps)))
          (local.set $pa2 (i32.add (local.get $pa2) (local.get $aps)))
          (local.set $pa3 (i32.add (local.get $pa3) (local.get $aps)))
          (local.set $pb (i32.add (local.get $pb) (local.get $bps)))
          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
          (br $ploop)))
        ;; C block at row 4s, column 4t
        (local.set $pc (i32.add (local.get $c)
          (i32.add (i32.mul (i32.shl (local.get $s) (i32.const 2)) (local.get $ldc)) (i32.shl (local.get $t) (i32.const 5)))))
        (v128.store (local.get $pc) (local.get $c00))
        (v128.store offset=16 (local.get $pc) (local.get $c01))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c10))
        (v128.store offset=16 (local.get $pc) (local.get $c11))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c20))
        (v128.store offset=16 (local.get $pc) (local.get $c21))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c30))
        (v128.store offset=16 (local.get $pc) (local.get $c31))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $sloop)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $tloop)))
  )
;; Packing of an operand whose strips are runs of contiguous elements (B with contiguous
  ;; rows, A with adjacent rows), copied from where it lies in this memory: strip s of
  ;; `bytes` (16 or 32) per element p is read at src + s·bytes + p·along and written to
  ;; dst + (s·len + p)·bytes. The same layout as packStrips in src/tensor/kernels/pack.ts.
  (func (export "pack_lines")
    (param $src i32) (param $along i32) (param $len i32) (param $strips i32) (param $bytes i32)
    (param $dst i32)
    (local $p i32) (local $q i32)
    (block $sdone (loop $sloop
      (br_if $sdone (i32.eqz (local.get $strips)))
      (local.set $q (local.get $src))
      (local.set $p (local.get $len))
      (if (i32.eq (local.get $bytes) (i32.const 32))
        (then
          (block $pdone (loop $ploop
            (br_if $pdone (i32.eqz (local.get $p)))
            (v128.store (local.get $dst) (v128.load (local.get $q)))
            (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $q)))
            (local.set $q (i32.add (local.get $q) (local.get $along)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (br $ploop))))
        (else
          (block $pdone16 (loop $ploop16
            (br_if $pdone16 (i32.eqz (local.get $p)))
            (v128.store (local.get $dst) (v128.load (local.get $q)))
            (local.set $q (i32.add (local.get $q) (local.get $along)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (br $ploop16)))))
      (local.set $src (i32.add (local.get $src) (local.get $bytes)))
      (local.set $strips (i32.sub (local.get $strips) (i32.const 1)))
      (br $sloop)))
  )
)
