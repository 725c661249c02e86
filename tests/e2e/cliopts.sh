# shellcheck shell=bash
# The options of `ringscan --help`, for the tests that hold the man page
# (test_manpage.sh) and the bash completion (test_completion.sh) to them:
# --help is the one source of truth, so an option added there (and to the
# getopt table) fails those tests until the man page and completion have it.
# Source it; it needs nothing else.

# help_pairs BINARY: the options of BINARY --help, one "S LONG" line each,
# sorted: S is the short letter of "-S, --LONG", or "-" when there is none.
# An option line starts at column 2 ("  -p, --ports LIST") or 6
# ("      --exclude LIST"); "-S, --LONG" pairs later on a line count too
# ("  -h, --help  this text;  -V, --version  the version"). A --name in a
# description ("as nmap's --version-intensity") is not an option.
help_pairs() {
	"$1" --help | awk '
	function add(s, l) { if (!(s " " l in seen)) { seen[s " " l] = 1; print s, l } }
	/^  -[A-Za-z0-9], --[a-z0-9]/ || /^      --[a-z0-9]/ {
		line = $0
		if (match(line, /^      --[a-z0-9][a-z0-9-]*/))
			add("-", substr(line, 9, RLENGTH - 8))
		while (match(line, /-[A-Za-z0-9], --[a-z0-9][a-z0-9-]*/)) {
			add(substr(line, RSTART + 1, 1), substr(line, RSTART + 6, RLENGTH - 6))
			line = substr(line, RSTART + RLENGTH)
		}
	}' | sort
}

# help_words BINARY: every option word of --help, sorted: "--LONG" and "-S".
help_words() {
	help_pairs "$1" | awk '{ print "--" $2; if ($1 != "-") print "-" $1 }' | sort
}

# help_formats BINARY: the values of -f/--format that --help lists
# ("jsonl (default), csv, list"), one per line, sorted.
help_formats() {
	"$1" --help | sed -n 's/^  -f, --format FMT *//p' | sed 's/([^)]*)//g; s/,/ /g; s/ or / /g' |
		tr -s ' ' '\n' | grep -E '^[a-z0-9]+$' | sort
}

# table_longs CLI_C: the long option names of the getopt_long table
# "options[]" in CLI_C (src/cli.c), sorted.
table_longs() {
	sed -n '/^static const struct option options\[\] = {/,/^};/s/^[[:space:]]*{"\([a-z0-9-]*\)",.*/\1/p' "$1" |
		sort
}
