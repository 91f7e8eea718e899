#!/usr/bin/env bash
# What a remote probe agent costs: its binary size, and its CPU and peak memory over a run,
# probing either the Humanoid catalog (config/humanoid.toml, its targets pointed at a loopback
# server) or N HTTP monitors, against a real central (`vigie serve`) on loopback.
#
#   scripts/bench-agent.sh humanoid [SECONDS]
#   scripts/bench-agent.sh 1000 [SECONDS] [INTERVAL]
#
# The agent is the release build (`make bench-agent` builds it); central may be any build
# (its cost is not measured). Binaries: AGENT_BIN (default $CARGO_TARGET_DIR/release/
# vigie-agent) and VIGIE_BIN (default $CARGO_TARGET_DIR/debug/vigie). Nothing leaves
# 127.0.0.1. The target answers every connection with a short HTTP 200 and closes it, and
# counts connections: each check is one.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
agent=${AGENT_BIN:-$target_dir/release/vigie-agent}
vigie=${VIGIE_BIN:-$target_dir/debug/vigie}
what=${1:-humanoid}
seconds=${2:-60}
interval=${3:-30s}
for b in "$agent" "$vigie"; do
    [ -x "$b" ] || { echo "bench-agent: no binary at $b (build it first)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/vigie-bench-agent.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The loopback target: one listener for HTTP and TCP monitors alike.
cat >"$work/target.py" <<'PY'
import socket, socketserver, sys, threading, time
count = 0
lock = threading.Lock()
class H(socketserver.BaseRequestHandler):
    def handle(self):
        global count
        with lock:
            count += 1
        self.request.settimeout(1)
        try:
            data = self.request.recv(4096)
            if data[:4] in (b"GET ", b"HEAD"):
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except OSError:
            pass
class S(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
def dump():
    while True:
        time.sleep(0.5)
        with open(sys.argv[1], "w") as f:
            f.write(str(count))
threading.Thread(target=dump, daemon=True).start()
s.serve_forever()
PY
python3 "$work/target.py" "$work/count" >"$work/port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(head -1 "$work/port")

if [ "$what" = humanoid ]; then
    location=amsterdam
    sed -E -e "s#target = \"https?://[^\"]*\"#target = \"http://127.0.0.1:$port/\"#" \
        -e "s#target = \"[A-Za-z0-9.-]+:[0-9]+\"#target = \"127.0.0.1:$port\"#" \
        "$root/config/humanoid.toml" >"$work/vigie.toml"
else
    location=agent
    {
        printf '[site]\ntitle = "Agent bench"\n\n[probe]\nlocation = "central"\n\n'
        printf '[[locations]]\nid = "central"\nname = "Central"\n\n[[locations]]\nid = "agent"\nname = "Agent"\n\n'
        printf '[[groups]]\nid = "g"\nname = "G"\n'
        for ((i = 0; i < what; i += 10)); do
            printf '\n[[services]]\nid = "s%d"\nname = "S%d"\ngroup = "g"\n' "$i" "$i"
            for ((j = i; j < i + 10 && j < what; j++)); do
                printf '\n[[services.monitors]]\nid = "m%d"\nkind = "http"\ntarget = "http://127.0.0.1:%s/%d"\ninterval = "%s"\nlocations = ["agent"]\n' \
                    "$j" "$port" "$j" "$interval"
            done
        done
    } >"$work/vigie.toml"
fi

export VIGIE_DATABASE_URL="sqlite://$work/vigie.db?mode=rwc"
VIGIE_PROBES=off RUST_LOG=warn "$vigie" --config "$work/vigie.toml" serve --listen 127.0.0.1:0 \
    >"$work/central.out" 2>"$work/central.log" &
pids+=($!)
central=""
for _ in $(seq 300); do
    central=$(sed -n 's/.* on \(http[^ ]*\).*/\1/p' "$work/central.out" | head -1)
    [ -n "$central" ] && break
    sleep 0.1
done
[ -n "$central" ] || { echo "bench-agent: central did not start" >&2; cat "$work/central.log" >&2; exit 1; }
token=$("$vigie" --config "$work/vigie.toml" agent-token create --location "$location" --label bench 2>/dev/null)

VIGIE_AGENT_TOKEN=$token RUST_LOG=warn "$agent" --central "${central%/}" 2>"$work/agent.log" &
apid=$!
pids+=($apid)
sleep 2
start_count=$(cat "$work/count" 2>/dev/null || echo 0)
read -r -a st0 </proc/$apid/stat
sleep "$seconds"
read -r -a st1 </proc/$apid/stat
end_count=$(cat "$work/count")
hz=$(getconf CLK_TCK)
cpu_ticks=$(( (st1[13] + st1[14]) - (st0[13] + st0[14]) ))
hwm=$(awk '/VmHWM/ {print $2}' /proc/$apid/status)
rss=$(awk '/VmRSS/ {print $2}' /proc/$apid/status)
checks=$(( end_count - start_count ))
size=$(stat -c %s "$agent")
awk -v what="$what" -v s="$seconds" -v t="$cpu_ticks" -v hz="$hz" -v c="$checks" \
    -v hwm="$hwm" -v rss="$rss" -v size="$size" 'BEGIN {
    cpu = t / hz
    printf "agent binary: %d bytes (%.1f MB)\n", size, size / 1048576
    printf "%s monitors, %d s: %d checks, CPU %.2f s (%.2f %% of one core), %s per check, peak RSS %.1f MB (now %.1f MB)\n",
        what, s, c, cpu, 100 * cpu / s, (c > 0 ? sprintf("%.0f us", 1e6 * cpu / c) : "n/a"), hwm / 1024, rss / 1024
}'
if grep -q "ERROR" "$work/agent.log"; then
    echo "bench-agent: the agent logged errors:" >&2
    grep ERROR "$work/agent.log" | head -5 >&2
fi
