/* heap_shim.c: the LD_PRELOAD heap shim (being written; see src/heap_wire.h). */
