#!/usr/bin/env bash
# The hoster outage across real networks, to watch in a browser: the network of
# server/tests/it/netns.rs (network namespaces, veth pairs, a bridge, two routers), with the
# real `vigie serve` off-site and two real `vigie-agent` processes, one in the hoster's rack
# and one away. The hoster then cuts phys-1, phys-2 and the rack's uplink, gives the uplink
# back (the rack replays what it saw), then the hosts.
#
# Usage (as root; from any directory):
#   scripts/netns-replay.sh            # each step waits for Enter (or 40 s without a terminal)
#   STEP=20 scripts/netns-replay.sh    # each step after 20 s, no questions
# Open the printed address (http://10.231.8.2:8080/); from another machine:
#   ssh -L 8080:10.231.8.2:8080 root@this-machine, then http://127.0.0.1:8080/
# Ctrl-C (or the end) deletes every namespace, veth and file it made.
#
# VIGIE_BIN and AGENT_BIN pick the binaries; by default they are built (debug) in the
# repository's target directory (CARGO_TARGET_DIR if set).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="vgreplay$$"
ROLES=(net hoster phys-1 phys-2 phys-3 rack offsite away)
STEP="${STEP:-}"
CENTRAL=10.231.2.2:8080
WEB=10.231.8.2:8080

die() { echo "netns-replay: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (network namespaces need it)"
command -v ip >/dev/null || die "ip (iproute2) is missing"
command -v python3 >/dev/null || die "python3 is missing (it serves the simulated hosts)"
command -v curl >/dev/null || die "curl is missing"

target="${CARGO_TARGET_DIR:-$ROOT/target}"
if [ -z "${VIGIE_BIN:-}" ] || [ -z "${AGENT_BIN:-}" ]; then
    (cd "$ROOT" && cargo build -p server -p agent --bin vigie --bin vigie-agent)
fi
VIGIE_BIN="${VIGIE_BIN:-$target/debug/vigie}"
AGENT_BIN="${AGENT_BIN:-$target/debug/vigie-agent}"
[ -x "$VIGIE_BIN" ] || die "no vigie binary at $VIGIE_BIN"
[ -x "$AGENT_BIN" ] || die "no vigie-agent binary at $AGENT_BIN"

# Leftovers of a killed earlier run (its pid is gone).
for name in $(ip netns list | awk '{print $1}'); do
    case "$name" in
    vgreplay*-*)
        pid="${name#vgreplay}"; pid="${pid%%-*}"
        [ -d "/proc/$pid" ] || ip netns del "$name" 2>/dev/null || true
        ;;
    esac
done

DIR="$(mktemp -d)"
PIDS=()
cleanup() {
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip link del "vgr$$" 2>/dev/null || true
    for role in "${ROLES[@]}"; do ip netns del "$RUN-$role" 2>/dev/null || true; done
    rm -rf "$DIR"
    echo "netns-replay: namespaces and $DIR removed"
}
trap cleanup EXIT INT TERM

ns() { echo "$RUN-$1"; }
in_ns() { local role="$1"; shift; ip netns exec "$(ns "$role")" "$@"; }
# link A A_DEV A_ADDR B B_DEV B_ADDR ("-" for no address): a veth pair made inside namespaces.
link() {
    ip link add name "$2" netns "$(ns "$1")" type veth peer name "$5" netns "$(ns "$4")"
    [ "$3" = - ] || ip -n "$(ns "$1")" addr add "$3" dev "$2"
    [ "$6" = - ] || ip -n "$(ns "$4")" addr add "$6" dev "$5"
    ip -n "$(ns "$1")" link set dev "$2" up
    ip -n "$(ns "$4")" link set dev "$5" up
}
set_link() { ip -n "$(ns "$1")" link set dev "$2" "$3"; }

for role in "${ROLES[@]}"; do
    ip netns add "$(ns "$role")"
    ip -n "$(ns "$role")" link set dev lo up
done
link hoster uplink 10.231.0.2/30 net hoster 10.231.0.1/30
link offsite uplink 10.231.2.2/30 net offsite 10.231.2.1/30
link rack uplink 10.231.3.2/30 net rack 10.231.3.1/30
link away uplink 10.231.4.2/30 net away 10.231.4.1/30
ip -n "$(ns net)" route add 10.231.1.0/24 via 10.231.0.2
in_ns net sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
ip -n "$(ns hoster)" link add name br type bridge
ip -n "$(ns hoster)" addr add 10.231.1.1/24 dev br
ip -n "$(ns hoster)" link set dev br up
for pair in phys-1:11 phys-2:12 phys-3:13 rack:20; do
    role="${pair%%:*}"
    link "$role" lan "10.231.1.${pair##*:}/24" hoster "$role" -
    ip -n "$(ns hoster)" link set dev "$role" master br
done
ip -n "$(ns hoster)" route add default via 10.231.0.1
in_ns hoster sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
for role in phys-1 phys-2 phys-3; do ip -n "$(ns "$role")" route add default via 10.231.1.1; done
ip -n "$(ns rack)" route add default via 10.231.3.1
ip -n "$(ns offsite)" route add default via 10.231.2.1
ip -n "$(ns away)" route add default via 10.231.4.1
# The browser's way in: a veth from this machine's own namespace straight to central's.
ip link add name "vgr$$" type veth peer name web netns "$(ns offsite)"
ip addr add 10.231.8.1/30 dev "vgr$$"
ip link set dev "vgr$$" up
ip -n "$(ns offsite)" addr add 10.231.8.2/30 dev web
ip -n "$(ns offsite)" link set dev web up

# Each physical host: its sites over HTTP on 80, a greeting on 22 (SSH) and 3306 (database).
cat >"$DIR/host.py" <<'EOF'
import http.server, socketserver, sys, threading
host, addr, services = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
class Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name = self.path.strip("/")
        body = f"{name} on {host}\n".encode()
        self.send_response(200 if name in services else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Greeting(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(f"{host} {self.server.server_address[1]} ready\r\n".encode())
class Threaded(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True
for port in (22, 3306):
    threading.Thread(target=Threaded((addr, port), Greeting).serve_forever, daemon=True).start()
http.server.ThreadingHTTPServer((addr, 80), Site).serve_forever()
EOF
ip netns exec "$(ns phys-1)" python3 "$DIR/host.py" phys-1 10.231.1.11 forum,databases & PIDS+=($!)
ip netns exec "$(ns phys-2)" python3 "$DIR/host.py" phys-2 10.231.1.12 frandroid,appxoid & PIDS+=($!)
ip netns exec "$(ns phys-3)" python3 "$DIR/host.py" phys-3 10.231.1.13 backups & PIDS+=($!)

# The catalog: 5 s intervals (a location is stale after 10 s without a result).
timing='interval = "5s"
retry_interval = "2s"
timeout = "3s"
confirm = 2
recover = 2
locations = ["offsite", "hoster", "away"]'
{
    cat <<EOF
[site]
title = "Hoster outage across real networks"
base_url = "http://$WEB"
default_locale = "en"
timezone = "UTC"

[probe]
location = "offsite"

[[locations]]
id = "offsite"
name = "Offsite (central)"

[[locations]]
id = "hoster"
name = "Inside the hoster"

[[locations]]
id = "away"
name = "Elsewhere"

[[groups]]
id = "sites"
name = "Sites"
EOF
    for spec in phys-1:11:forum,databases phys-2:12:frandroid,appxoid phys-3:13:backups; do
        IFS=: read -r host last services <<<"$spec"
        printf '\n[[hosts]]\nid = "%s"\nname = "Physical server %s"\nkind = "physical"\n\n[[hosts.monitors]]\nid = "ssh"\nkind = "tcp"\ntarget = "10.231.1.%s:22"\n%s\n' \
            "$host" "$host" "$last" "$timing"
        for s in ${services//,/ }; do
            printf '\n[[hosts]]\nid = "vm-%s"\nname = "VM %s"\nkind = "vm"\nparent = "%s"\n' "$s" "$s" "$host"
        done
    done
    for spec in phys-1:11:forum,databases phys-2:12:frandroid,appxoid phys-3:13:backups; do
        IFS=: read -r host last services <<<"$spec"
        for s in ${services//,/ }; do
            if [ "$s" = databases ]; then
                monitor="id = \"port\"
kind = \"tcp\"
target = \"10.231.1.$last:3306\""
            else
                monitor="id = \"home\"
kind = \"http\"
target = \"http://10.231.1.$last/$s\""
            fi
            printf '\n[[services]]\nid = "%s"\nname = "%s (%s)"\ngroup = "sites"\nhost = "vm-%s"\n\n[[services.monitors]]\n%s\n%s\n' \
                "$s" "$s" "$host" "$s" "$monitor" "$timing"
        done
    done
} >"$DIR/vigie.toml"

DB="sqlite://$DIR/vigie.db?mode=rwc"
env -u VIGIE_CONFIG -u VIGIE_DATABASE_URL -u VIGIE_LISTEN -u VIGIE_PROBES -u VIGIE_PROBE_SOURCE \
    RUST_LOG=warn ip netns exec "$(ns offsite)" "$VIGIE_BIN" --config "$DIR/vigie.toml" \
    --database-url "$DB" serve --listen 0.0.0.0:8080 >"$DIR/central.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 120); do
    curl -sf -o /dev/null "http://$WEB/api/v1/locations" && break
    sleep 0.5
done
curl -sf -o /dev/null "http://$WEB/api/v1/locations" || die "central did not start: $(tail -n 20 "$DIR/central.log")"

for pair in hoster:rack away:away; do
    location="${pair%%:*}" role="${pair##*:}"
    "$VIGIE_BIN" --database-url "$DB" agent-token create --location "$location" \
        --label "$role" >"$DIR/$location.token" 2>/dev/null
    RUST_LOG=warn ip netns exec "$(ns "$role")" "$AGENT_BIN" --central "http://$CENTRAL" \
        --token-file "$DIR/$location.token" --poll-every 5s >"$DIR/agent-$location.log" 2>&1 &
    PIDS+=($!)
done

show() {
    echo "  services:  $(curl -sf "http://$WEB/api/v1/services" | python3 -c '
import json, sys
print(", ".join(s["slug"] + " " + s["status"] + (" (" + s["cause"] + ")" if s["cause"] else "") for s in json.load(sys.stdin)))')"
    echo "  locations: $(curl -sf "http://$WEB/api/v1/locations" | python3 -c '
import json, sys
print(", ".join(l["id"] + " " + l["state"] for l in json.load(sys.stdin)["locations"]))')"
}
step() {
    echo
    if [ -n "$STEP" ]; then
        echo "netns-replay: next in $STEP s: $1"
        sleep "$STEP"
    elif [ -t 0 ]; then
        read -r -p "netns-replay: press Enter to $1 " _
    else
        echo "netns-replay: next in 40 s: $1"
        sleep 40
    fi
}

echo "netns-replay: central off-site, agents in the rack (location hoster) and away (location away)"
echo "  open http://$WEB/ (logs and the catalog: $DIR)"
step "see the state before the cut"
show
step "cut phys-1, phys-2 and the rack's uplink (their links down, as the hoster did)"
set_link hoster phys-1 down; set_link hoster phys-2 down; set_link net rack down
step "see the outage (the rack's location goes stale after 10 s)"
show
step "give the rack its uplink back (it replays what it saw)"
set_link net rack up
step "see the rack reporting again"
show
step "give phys-1 and phys-2 back"
set_link hoster phys-1 up; set_link hoster phys-2 up
step "see everything up again"
show
step "stop and remove everything"
