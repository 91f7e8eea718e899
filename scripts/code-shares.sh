#!/usr/bin/env bash
# Each workspace crate's share of the non-test Rust lines: every line of the `.rs` files under
# the crate's `src/` and `benches/`, minus the `#[cfg(test)]` modules inside them (tests/
# directories are not counted at all). Blank lines and comments count like code: the figure
# says how much there is to read. Run from anywhere: `scripts/code-shares.sh`.
#
# The `#[cfg(test)]` modules are cut by counting braces from the `mod … {` line that follows
# the attribute; a brace inside a string or a comment of a test module could throw that count
# off, which the total of the test lines cut (printed last) would show.
set -euo pipefail
cd "$(dirname "$0")/.."

members=$(sed -n 's/^members = \[\(.*\)\]/\1/p' Cargo.toml | tr -d '"' | tr ',' ' ')

# Lines of one file outside its #[cfg(test)] modules, then (tab) the lines inside them.
count_file() {
	awk '
		BEGIN { skipping = 0; pending = 0; depth = 0; code = 0; test = 0 }
		{
			line = $0
			if (skipping) {
				test++
				depth += gsub(/\{/, "{", line) - gsub(/\}/, "}", line)
				if (depth <= 0) skipping = 0
				next
			}
			if (line ~ /^[[:space:]]*#\[cfg\(test\)\][[:space:]]*$/) { pending = 1; test++; next }
			if (pending && line ~ /^[[:space:]]*(pub(\([a-z]+\))? )?mod [A-Za-z0-9_]+[[:space:]]*\{/) {
				pending = 0
				test++
				depth = gsub(/\{/, "{", line) - gsub(/\}/, "}", line)
				skipping = depth > 0
				next
			}
			if (pending) { code++; pending = 0; next }
			code++
		}
		END { printf "%d\t%d\n", code, test }
	' "$1"
}

total=0
total_test=0
declare -A lines
for crate in $members; do
	n=0
	for dir in "$crate/src" "$crate/benches"; do
		[ -d "$dir" ] || continue
		while IFS= read -r -d '' f; do
			read -r code test < <(count_file "$f")
			n=$((n + code))
			total_test=$((total_test + test))
		done < <(find "$dir" -name '*.rs' -print0)
	done
	lines[$crate]=$n
	total=$((total + n))
done

printf '%-12s %8s %7s\n' crate lines share
for crate in $members; do
	n=${lines[$crate]}
	printf '%-12s %8d %6.1f%%\n' "$crate" "$n" "$(awk -v n="$n" -v t="$total" 'BEGIN { print 100 * n / t }')"
done | sort -k2 -n -r
printf '%-12s %8d\n' total "$total"
printf '(%d lines of #[cfg(test)] modules left out)\n' "$total_test"
