# The bare-metal host image (metal/): tcg86's no_std core booted by qemu-system-x86_64 through a
# PVH note, running the embedded demo kernel under the JIT. tests/metal.rs builds and boots it too.
#   make metal       build metal/target/x86_64-unknown-none/debug/tcg86-metal
#   make run-metal   boot it (serial on stdout; exit status (guest status << 1) | 1)

METAL_IMAGE := metal/target/x86_64-unknown-none/debug/tcg86-metal

.PHONY: metal run-metal
metal:
	cd metal && cargo build

run-metal: metal
	timeout 60 qemu-system-x86_64 -nodefaults -no-reboot -display none -m 256M -serial stdio \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel $(METAL_IMAGE)
