;; A DataCount section (here because of memory.init): nitro's parser has no case for it.
(module
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (memory (export "memory") 1)
  (data $d "abc")
  (func (export "user_entrypoint") (param i32) (result i32)
    (memory.init $d (i32.const 0) (i32.const 0) (i32.const 3))
    (i32.const 0)))
