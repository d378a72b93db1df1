/* spawn_wire.h: the wire format between src/spawn.c and spawner/shotclock-spawner.c
 * (docs/spawner-protocol.md). */
#ifndef SC_SPAWN_WIRE_H
#define SC_SPAWN_WIRE_H

#include <stdint.h>

/* Both ends include this one definition, so they cannot drift apart; the magic and version still
 * guard against a spawner from another build. */
#define WIRE_REQUEST_MAGIC 0x51534353u /* "SCSQ" in little-endian memory order */
#define WIRE_REPLY_MAGIC   0x52534353u /* "SCSR" */
#define WIRE_VERSION       1
#define WIRE_MAX_REQUEST   (16u << 20)

enum { WIRE_STARTED = 1, WIRE_ERROR = 2, WIRE_EXITED = 3 };

/* Request flag: reply STARTED with the pid as soon as the command runs. Without it the only reply
 * comes at the end (ERROR or EXITED): the profiler needs the pid only to sample the command or to
 * kill it at a timeout, and a reply sent while the command starts up costs a wake-up of the
 * profiler in the timed window (about 2% of a 0.7 ms run of `true` on 2 CPUs). */
#define WIRE_FLAG_REPORT_START 1u

struct wire_request {
	uint32_t magic;
	uint16_t version;
	uint16_t flags; /* WIRE_FLAG_*; other bits 0 */
	uint32_t argc;
	uint32_t envc;
	uint32_t length; /* of the whole request, this header included */
};

struct wire_reply {
	uint32_t magic;
	uint16_t version;
	uint16_t kind;
	int32_t value; /* STARTED: pid; ERROR: errno; EXITED: wait status */
	uint32_t reserved;
	uint64_t wall_ns;
	int64_t utime_us;
	int64_t stime_us;
	int64_t maxrss_kb;
	int64_t minflt;
	int64_t majflt;
	int64_t inblock;
	int64_t oublock;
	int64_t nvcsw;
	int64_t nivcsw;
};

_Static_assert(sizeof(struct wire_request) == 20, "request header layout");
_Static_assert(sizeof(struct wire_reply) == 96, "reply layout");

#endif
