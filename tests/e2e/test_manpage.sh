#!/usr/bin/env bash
# test_manpage: docs/ringscan.1, the manual page.
# - mandoc -Tlint is silent on it (but for "outdated mandoc.db lacks X
#   entry" and "referenced manual not found: Xr X N": whether connect(2)
#   or nmap(1) are installed, and indexed, is about this machine's manuals,
#   not the page; a fresh Debian root has none), and groff (man -l
#   --warnings, what man-db runs) warns of nothing;
# - its OPTIONS are exactly the options of `ringscan --help`, each with the
#   same short letter (parsed from both: tests/e2e/cliopts.sh), and --help's
#   are exactly the long options of src/cli.c's getopt table: an option
#   added to one and not the others fails here, naming it;
# - it has what a user looks for: every output format of --help and xml
#   (refused for scans), docs/output-schema.md, exit statuses 0 1 2 130 143,
#   SIGINT, SIGTERM and --resume, the safety note, examples;
# - every IPv4 address it names is in 127.0.0.0/8 (or one of the reserved
#   ranges --allow-reserved names), its examples scan 127.0.0.0/8 only and
#   name no IPv6 address, and every example is a valid ringscan command
#   line (each ringscan call in it, run with --dry-run and without
#   --resume/-o/--stats files, is accepted).
# Never scans: the examples run only as --dry-run, which sends nothing.
# engine-independent: no scan.
# Usage: test_manpage.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cliopts.sh"
unset RS_ENGINE # --help only: the binary itself
need_scanner "${1:-}"
command -v mandoc >/dev/null || rs_skip "mandoc not found (Debian's mandoc: scripts/deps.sh test)"
MAN=$RS_ROOT/docs/ringscan.1
T=$(mktemp -d "${TMPDIR:-/tmp}/ringscan-man.XXXXXX")
trap 'rm -rf "$T"' EXIT

# man_section NAME: the source lines of section NAME (.Sh NAME up to the
# next .Sh).
man_section() {
	awk -v s="$1" '/^\.Sh / { on = (substr($0, 5) == s); next } on' "$MAN"
}

# man_pairs: the options of the OPTIONS section's .It lines, as help_pairs
# prints them: ".It Fl p , Fl \-ports Ar list" is "p ports", ".It Fl \-all"
# is "- all" (\- is how mdoc spells the second hyphen; plain - too).
man_pairs() {
	man_section OPTIONS | awk '
	/^\.It Fl / {
		short = "-"
		for (i = 2; i < NF; i++) {
			if ($i != "Fl")
				continue
			a = $(i + 1)
			if (a ~ /^(\\-|-)/) {
				sub(/^(\\-|-)/, "", a)
				gsub(/\\-/, "-", a)
				print short, a
				short = "-"
			} else if (a ~ /^[A-Za-z0-9]$/) {
				short = a
			}
		}
	}' | sort
}

# 1. Lint: mandoc and groff.
mandoc -Tlint "$MAN" >"$T/lint" 2>&1 || true
grep -v -e '^mandoc: outdated mandoc.db lacks .* entry, run makewhatis' \
	-e '^mandoc: .*: STYLE: referenced manual not found: Xr ' "$T/lint" >"$T/lint.page" || true
if [ -s "$T/lint.page" ]; then
	rs_nok "mandoc -Tlint docs/ringscan.1 is not silent:"
	sed 's/^/    /' "$T/lint.page" >&2
else
	rs_pass
fi
if command -v man >/dev/null && command -v groff >/dev/null; then
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$MAN" >"$T/page.txt" 2>"$T/groff.err" || true
	if [ -s "$T/groff.err" ] || ! grep -q 'TCP connect scanner' "$T/page.txt"; then
		rs_nok "man -l --warnings docs/ringscan.1 (groff) warns or renders nothing:"
		head -20 "$T/groff.err" >&2
	else
		rs_pass
	fi
else
	rs_say "note: no man/groff here; only mandoc checked the page"
fi

# 2. One set of options: --help = man page, --help = getopt table.
help_pairs "$RS" >"$T/help.pairs"
man_pairs >"$T/man.pairs"
[ "$(wc -l <"$T/help.pairs")" -ge 20 ] || rs_fail "only $(wc -l <"$T/help.pairs") options parsed from --help"
if ! cmp -s "$T/help.pairs" "$T/man.pairs"; then
	rs_nok "the man page's options differ from --help's (short long; < --help only, > man only):"
	diff "$T/help.pairs" "$T/man.pairs" | grep '^[<>]' | sed 's/^/    /' >&2
else
	rs_pass
fi
cut -d" " -f2 "$T/help.pairs" | sort >"$T/help.longs"
table_longs "$RS_ROOT/src/cli.c" >"$T/table.longs"
[ -s "$T/table.longs" ] || rs_fail "no getopt table options[] found in src/cli.c"
if ! cmp -s "$T/help.longs" "$T/table.longs"; then
	rs_nok "--help's long options differ from src/cli.c's getopt table (< --help only, > table only):"
	diff "$T/help.longs" "$T/table.longs" | grep '^[<>]' | sed 's/^/    /' >&2
else
	rs_pass
fi

# 3. What a reader looks for.
mandoc -Tascii "$MAN" 2>/dev/null | col -b >"$T/page.ascii"
has() { # WHAT SECTION-OR-ALL REGEX
	local text
	if [ "$2" = ALL ]; then text=$(cat "$T/page.ascii"); else text=$(man_section "$2"); fi
	if grep -Eq -- "$3" <<<"$text"; then rs_pass; else rs_nok "man page: no $1 (/$3/ in ${2})"; fi
}
for f in $(help_formats "$RS") xml; do
	has "format $f" "OUTPUT FORMATS" "^\.It Cm $f\$"
done
has "xml written from the inventory at the end" "OUTPUT FORMATS" "written from it when the scan ends"
has "pointer to docs/output-schema.md" "OUTPUT FORMATS" "docs/output-schema\.md"
for s in 0 1 2 130 143; do
	has "exit status $s" "EXIT STATUS" "^\.It ([0-9]+ , )?$s( |\$)"
done
has "SIGINT" "SIGNALS AND RESUMING" "SIGINT"
has "SIGTERM" "SIGNALS AND RESUMING" "SIGTERM"
has "--resume" "SIGNALS AND RESUMING" "Fl \\\\-resume"
has "safety note" "SECURITY CONSIDERATIONS" "Never scan networks"
has "safety note in DESCRIPTION" "DESCRIPTION" "Never scan networks"
has "examples" "EXAMPLES" "^\.Bd -literal"
has "no leftover placeholder but @DOCDIR@" ALL "^[^@]*(@DOCDIR@[^@]*)*\$"

# 4. Addresses: 127.0.0.0/8 only (and the reserved ranges named as such).
grep -Eo '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' "$MAN" | sort -u >"$T/ipv4"
bad=$(grep -Ev '^(127\.[0-9]+\.[0-9]+\.[0-9]+|0\.0\.0\.0|224\.0\.0\.0|255\.255\.255\.255)$' "$T/ipv4" || true)
if [ -n "$bad" ]; then rs_nok "man page names addresses outside 127/8: $bad"; else rs_pass; fi
man_section EXAMPLES >"$T/examples"
bad=$(grep -Eo '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' "$T/examples" | grep -v '^127\.' || true)
if [ -n "$bad" ]; then rs_nok "examples name addresses outside 127/8: $bad"; else rs_pass; fi
if grep -Eq '::|[0-9a-fA-F]+:[0-9a-fA-F]*:' "$T/examples"; then
	rs_nok "examples name an IPv6 address: $(grep -E '::|[0-9a-fA-F]+:[0-9a-fA-F]*:' "$T/examples" | head -1)"
else
	rs_pass
fi

# 5. Every ringscan command line of the examples is accepted (--dry-run:
# nothing is sent; the output and checkpoint options are dropped).
mandoc -Tascii "$MAN" 2>/dev/null | col -b |
	awk '/^EXAMPLES/ { on = 1; next } /^[A-Z]/ { on = 0 } on' |
	sed -e :a -e '/\\$/N; s/\\\n//; ta' |
	grep -o 'ringscan [^;|&'"'"']*' | sed 's/ *$//' >"$T/cmds"
[ "$(wc -l <"$T/cmds")" -ge 5 ] || rs_fail "only $(wc -l <"$T/cmds") ringscan command lines found in EXAMPLES"
while read -r -a argv; do
	args=()
	skip=0
	for a in "${argv[@]:1}"; do
		if [ $skip = 1 ]; then
			skip=0
			continue
		fi
		case $a in
		-o | --stats | --resume) skip=1 ;;
		-i) args+=(-i /dev/null) skip=1 ;;
		'$i/4') args+=(1/4) ;;
		*) args+=("$a") ;;
		esac
	done
	case " ${args[*]} " in *" --dry-run "*) ;; *) args=(--dry-run "${args[@]}") ;; esac
	case " ${args[*]} " in *" -i /dev/null "*) args+=(127.0.0.1) ;; esac
	if timeout 20 "$RS" "${args[@]}" -q >/dev/null 2>"$T/ex.err"; then
		rs_pass
	else
		rs_nok "example '${argv[*]}' refused: $(head -1 "$T/ex.err")"
	fi
done <"$T/cmds"

rs_summary test_manpage
