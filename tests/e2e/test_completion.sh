#!/usr/bin/env bash
# test_completion: completions/ringscan.bash, driven as bash drives it
# (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT set, _ringscan called,
# COMPREPLY read), twice: with Debian's bash-completion loaded
# (/usr/share/bash-completion/bash_completion: _init_completion, _filedir),
# when it is there, and with the script alone (its plain compgen path).
# Each time, exactly:
# - "-" offers every option of `ringscan --help` (short and long; parsed by
#   tests/e2e/cliopts.sh, never listed here), "--" the long ones;
# - -f/--format (also as --format=) offers --help's formats, --engine auto
#   uring epoll compat, --service-intensity 0-9; each value offered is
#   accepted by ringscan (--dry-run: nothing is sent);
# - -i/-o/--stats/--resume/--exclude-file/--service-db (short, long and
#   --opt=) offer the files and directories of the current directory;
# - the numeric and list options, and targets, offer nothing.
# engine-independent: no scan.
# Usage: test_completion.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cliopts.sh"
unset RS_ENGINE # --help only: the binary itself
need_scanner "${1:-}"
SCRIPT=$RS_ROOT/completions/ringscan.bash
BC=/usr/share/bash-completion/bash_completion
T=$(mktemp -d "${TMPDIR:-/tmp}/ringscan-comp.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir "$T/cwd" "$T/cwd/sub"
: >"$T/cwd/a.txt"
: >"$T/cwd/b.jsonl"

# The driver, run by a fresh bash in $T/cwd: sources bash-completion when
# $1 is "full", then the script; then, for each line of stdin (the words
# of a command line, tab-separated, the last being the one completed),
# prints the sorted COMPREPLY on one line, space-separated.
cat >"$T/driver.sh" <<'EOF'
[ "$1" = full ] && . /usr/share/bash-completion/bash_completion
. "$2"
[ "$(complete -p ringscan 2>/dev/null)" = "complete -F _ringscan ringscan" ] ||
	{ echo "no 'complete -F _ringscan ringscan' after sourcing" >&2; exit 1; }
while IFS=$'\t' read -r -a w; do
	[ "${#w[@]}" -gt 0 ] || continue
	[ "${w[-1]}" = "''" ] && w[-1]=
	COMP_WORDS=("${w[@]}")
	COMP_CWORD=$((${#w[@]} - 1))
	COMP_LINE=${w[0]}
	for ((i = 1; i < ${#w[@]}; i++)); do
		if [ "${w[i]}" = = ] || [ "${w[i - 1]}" = = ]; then
			COMP_LINE+=${w[i]}
		else
			COMP_LINE+=" ${w[i]}"
		fi
	done
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_ringscan ringscan "${w[-1]}" "${w[-2]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
	echo
done
EOF

# expect LABEL WANT WORD...: completing WORD... must give exactly WANT.
CASES=()
WANTS=()
LABELS=()
expect() {
	local label=$1 want=$2 IFS=$'\t'
	shift 2
	LABELS+=("$label")
	WANTS+=("$want")
	CASES+=("$*")
}

all=$(help_words "$RS" | tr '\n' ' ' | sed 's/ $//')
longs=$(help_words "$RS" | grep -- '^--' | tr '\n' ' ' | sed 's/ $//')
formats=$(help_formats "$RS" | tr '\n' ' ' | sed 's/ $//')
[ "$(wc -w <<<"$all")" -ge 30 ] || rs_fail "only $(wc -w <<<"$all") option words parsed from --help"
[ -n "$formats" ] || rs_fail "no format list parsed from --help's -f line"
files="a.txt b.jsonl sub"

expect "options = --help's" "$all" ringscan -
expect "long options = --help's" "$longs" ringscan --
expect "--f prefix" "--fixed-rate --format" ringscan --f
expect "options after a target" "--quiet" ringscan 127.0.0.1 --qu
expect "-f values = --help's formats" "$formats" ringscan -f "''"
expect "--format values = --help's formats" "$formats" ringscan --format "''"
expect "--format=" "$formats" ringscan --format = "''"
expect "--format=j" "jsonl" ringscan --format = j
expect "-f c" "csv" ringscan -f c
expect "--engine values" "auto compat epoll uring" ringscan --engine "''"
expect "--engine=e" "epoll" ringscan --engine = e
expect "--service-intensity values" "0 1 2 3 4 5 6 7 8 9" ringscan --service-intensity "''"
for o in -i --input -o --output --stats --resume --exclude-file --service-db; do
	expect "$o files" "$files" ringscan -q "$o" "''"
done
expect "--output=a" "a.txt" ringscan --output = a
expect "-o b" "b.jsonl" ringscan -o b
for o in -p --ports --exclude -w --workers -c --concurrency -r --rate -t --timeout \
	--retries --seed --shard --checkpoint-interval --read-timeout; do
	expect "$o: nothing" "" ringscan "$o" "''"
done
expect "target: nothing" "" ringscan -p 22 "''"
expect "target prefix: nothing" "" ringscan 127.0.0.

# words_diff GOT WANT: what GOT lacks and has too many of, as words.
words_diff() {
	local lacks extra
	lacks=$(comm -13 <(tr ' ' '\n' <<<"$1" | sort) <(tr ' ' '\n' <<<"$2" | sort) | tr '\n' ' ')
	extra=$(comm -23 <(tr ' ' '\n' <<<"$1" | sort) <(tr ' ' '\n' <<<"$2" | sort) | tr '\n' ' ')
	echo "missing: ${lacks:-none}; not wanted: ${extra:-none}; offered: '$1'"
}

# run MODE: every case in MODE; counts passes and failures.
run() {
	local mode=$1 i got
	(cd "$T/cwd" && printf '%s\n' "${CASES[@]}" | bash --norc --noprofile "$T/driver.sh" "$mode" "$SCRIPT") \
		>"$T/got.$mode" 2>"$T/err.$mode" || {
		cat "$T/err.$mode" >&2
		rs_nok "[$mode] the driver failed"
		return
	}
	[ "$(wc -l <"$T/got.$mode")" = ${#CASES[@]} ] ||
		{ rs_nok "[$mode] $(wc -l <"$T/got.$mode") answers for ${#CASES[@]} cases"; return; }
	i=0
	while IFS= read -r got; do
		if [ "$got" = "${WANTS[i]}" ]; then
			rs_pass
		else
			rs_nok "[$mode] ${LABELS[i]} ($(tr '\t' ' ' <<<"${CASES[i]}")): $(words_diff "$got" "${WANTS[i]}")"
		fi
		i=$((i + 1))
	done <"$T/got.$mode"
}

if [ -r "$BC" ]; then
	run full
else
	rs_say "note: no $BC here (Debian's bash-completion); the script alone only"
fi
run plain

# Every value offered is one ringscan takes.
# known_format F: ringscan knows -f F (a --dry-run takes it, or refuses it
# for a dry run only: xml is written from the inventory after a scan).
known_format() {
	timeout 10 "$RS" --dry-run -q -f "$1" -p 1 127.0.0.1 -o /dev/null 2>"$T/fmt.err" ||
		grep -q "not for --dry-run" "$T/fmt.err"
}
for f in $formats; do
	rs_check "ringscan -f $f accepted" known_format "$f"
done
for e in auto compat epoll uring; do
	rs_check "ringscan --engine $e accepted" timeout 10 "$RS" --dry-run -q --engine "$e" -p 1 127.0.0.1 -o /dev/null
done
rs_check "bash -n completions/ringscan.bash" bash -n "$SCRIPT"

rs_summary test_completion
