#!/bin/sh
# test_sysinfo.sh: `shotclock sysinfo` prints the system stats, as text and as the report's JSON.
. "$(dirname "$0")/lib.sh"

# The header defines cpus as the online CPUs, sysconf(_SC_NPROCESSORS_ONLN), which getconf prints;
# nproc would print fewer under a CPU affinity mask.
online=$(getconf _NPROCESSORS_ONLN)

sc sysinfo
ok "sysinfo: exit 0" status_is 0
ok "sysinfo: heading" out_has "System Stats:"
ok "sysinfo: cpus is the online CPU count" grep -qx "  cpus: $online" "$TMP/out"
ok "sysinfo: kernel is uname's" grep -qx "  kernel: $(uname -s) $(uname -r) $(uname -m)" "$TMP/out"
for key in cpu_model hostname memory_total_mb memory_available_mb load_avg disk_path disk_total_gb \
	disk_free_gb disk_used_percent; do
	ok "sysinfo: $key" grep -q "^  $key: " "$TMP/out"
done

sc sysinfo --json
ok "sysinfo --json: exit 0" status_is 0
ok "sysinfo --json: cpus" jq_true "$TMP/out" ".cpus == $online"
# MemTotal is fixed at boot; the JSON keeps 10 significant digits of kB / 1024.
ok "sysinfo --json: memory_total_mb matches /proc/meminfo" near "$(jq .memory_total_mb "$TMP/out")" \
	"$(awk '/^MemTotal:/ { printf "%.6f", $2 / 1024 }' /proc/meminfo)" 0.001
ok "sysinfo --json: the report's system fields" jq_true "$TMP/out" 'has("cpu_model")
	and has("kernel") and has("hostname") and has("memory_available_mb")
	and (.load_avg | length == 3) and (.disk | has("path") and has("total_gb"))'

finish
