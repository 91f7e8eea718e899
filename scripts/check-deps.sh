#!/usr/bin/env bash
# The dependency invariants of ARCHITECTURE.md, checked with `cargo tree` (run by `make lint`).
# Each check names a package, the way it is built, and a crate that must not be among its
# normal (non-dev) dependencies; the script prints every broken one and fails.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo=${CARGO:-cargo}
broken=0

# must_not_pull DESCRIPTION CRATE CARGO-TREE-ARGS...
must_not_pull() {
	local what=$1 crate=$2
	shift 2
	local out
	if ! out=$("$cargo" tree "$@" -e normal -i "$crate" --prefix none --format '{p}' 2>&1); then
		# cargo tree refuses to invert on a crate that is nowhere in the graph: that is a pass.
		if grep -q "did not match any packages" <<<"$out"; then
			return 0
		fi
		echo "check-deps: cannot run cargo tree $* -i $crate:" >&2
		echo "$out" >&2
		exit 2
	fi
	if grep -q "^$crate v" <<<"$out"; then
		echo "check-deps: $what, but it pulls $crate:" >&2
		"$cargo" tree "$@" -e normal -i "$crate" >&2 || true
		broken=1
	fi
}

# only_dev DESCRIPTION CRATE: no package of the workspace has CRATE among its normal
# dependencies (it may be a dev-dependency).
only_dev() {
	local what=$1 crate=$2
	local out
	if ! out=$("$cargo" tree --workspace -e normal -i "$crate" --prefix none --format '{p}' 2>&1); then
		echo "check-deps: cannot run cargo tree --workspace -i $crate:" >&2
		echo "$out" >&2
		exit 2
	fi
	# The inverted tree starts with CRATE itself; any other line is a package depending on it.
	if grep -v "^$crate v" <<<"$out" | grep -q .; then
		echo "check-deps: $what, but it is a normal dependency:" >&2
		"$cargo" tree --workspace -e normal -i "$crate" >&2 || true
		broken=1
	fi
}

only_dev "testkit is test code, only ever a dev-dependency" testkit
must_not_pull "frontend is the browser's wasm" tokio -p frontend --target wasm32-unknown-unknown
must_not_pull "frontend is the browser's wasm" sea-orm -p frontend --target wasm32-unknown-unknown
must_not_pull "probe runs checks, it renders no page" leptos -p probe
must_not_pull "probe runs checks, it serves no HTTP" axum -p probe
must_not_pull "probe measures through the metrics facade, whoever runs it exports" metrics-exporter-prometheus -p probe
must_not_pull "probe without its store feature links no database code" sea-orm -p probe --no-default-features
must_not_pull "the agent probes and posts, it links no database code" sea-orm -p agent
must_not_pull "the agent probes and posts, it renders no page" leptos -p agent
must_not_pull "the agent probes and posts, it serves no HTTP" axum -p agent
# notify writes its mails' HTML with Leptos views (escaped by construction), but no page: no
# router, no server integration, not the public pages.
must_not_pull "notify renders mails, it routes no page" leptos_router -p notify
must_not_pull "notify renders mails, it serves no page" leptos_axum -p notify
must_not_pull "notify renders mails, not the public pages" app -p notify
must_not_pull "notify sends mails and webhooks, it serves no HTTP" axum -p notify
must_not_pull "the demo simulates an estate, it renders no page" leptos -p demo
must_not_pull "the demo simulates an estate, the server it drives is handed to it" axum -p demo
must_not_pull "the demo is started by the server, it does not depend on it" server -p demo
must_not_pull "backup copies the database, it renders no page" leptos -p backup
must_not_pull "backup copies the database, it serves no HTTP" axum -p backup
must_not_pull "the console renders pages from data handed to it, it serves no HTTP" axum -p console
must_not_pull "the console renders pages from data handed to it, it links no database code" sea-orm -p console
must_not_pull "the console renders pages from data handed to it, the store is read by its handlers" store -p console
must_not_pull "the console renders pages from data handed to it, its handlers live in the server" server -p console
must_not_pull "the console's words come from wording, not from the public pages" app -p console
must_not_pull "wording is words, it renders no page" leptos -p wording
must_not_pull "wording is words, it does no I/O" tokio -p wording
must_not_pull "domain does no I/O" tokio -p domain
must_not_pull "domain does no I/O" sea-orm -p domain

if [ "$broken" = 0 ]; then
	echo "check-deps: frontend, probe, agent, notify, demo, backup, console, wording and domain pull nothing they must not; testkit is only a dev-dependency"
fi
exit "$broken"
