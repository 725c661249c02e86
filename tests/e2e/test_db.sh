#!/usr/bin/env bash
# test_db: the SQLite inventory (--db FILE) and ringscan export, exactly.
#  1. A mixed world scanned with --all --db: the results rows are the
#     ground truth, each pair once; the scan's row has the right counts, is
#     complete, and names the command line; `ringscan export` (jsonl) is
#     the live output line for line (after sorting), in (address, port)
#     order; -f csv likewise, against a live -f csv scan; the answers view
#     has the JSON's fields (ts as JSON writes it); -f xml (export only)
#     is valid against nmap's DTD.
#  2. An open-only scan to stdout: only the open pairs are stored; a second
#     scan into the same database is scan 2, the default of export, and
#     --scan 1 still gives the first.
#  3. --banner against real services (tests/tools/svcd): export gives every
#     service member (service, banner, ssh, telnet) exactly as the live scan.
#  4. A reader (sqlite3) querying while a scan writes sees whole batches:
#     counts that only grow, never an error.
#  5. Refusals, each exit 2 with one line naming the argument and no packet
#     sent: --db the same file as -o or --stats, a directory, a database of
#     a newer schema, a file that is no database, --db with --dry-run;
#     export's and merge's bad usage.
# Usage: test_db.sh BUILD_DIR
# engines: split (each engine once, plain or ASan: 9-16 s a run)
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 300 "$0" "$@"
need_scanner "${1:-}"
RSX=$RS_BIN # subcommands must come first; RS may be the engine wrapper
need_tools
command -v sqlite3 >/dev/null || rs_skip "sqlite3 (the command-line shell) not found"
trap world_down EXIT
T=$RS_TMP
q() { sqlite3 -batch "$@"; }
# db_states DB [SCAN]: the stored answers as sorted "IP PORT STATE" lines.
db_states() { q -separator ' ' "$1" "SELECT ip, port, state FROM results WHERE scan = ${2:-(SELECT max(id) FROM scans)}" | sort; }
# in_order FILE: the JSON lines' (ip, port) are in (address, port) order.
in_order() {
	sed -n 's/^{"ip":"\([^"]*\)","port":\([0-9]*\),.*/\1 \2/p' "$1" >"$1.pairs"
	sort -t' ' -k1,1V -k2,2n "$1.pairs" | cmp -s - "$1.pairs"
}

# 1. --all --db on a mixed world.
W=$T/w
world_gen "$W" --seed 4 --addrs 127.1.0.0/25 --ports 1000-1007 --open 30 --filtered 1.5 \
	--unreachable 10 --closed-port 1003
world_is_mixed "$W"
world_up "$W"
ARGS=(--all -q -w 2 -t 300 --retries 0 --seed 11 127.1.0.0/25 -p 1000-1007)
run_scan 120 "${ARGS[@]}" -o "$T/a.jsonl" --db "$T/a.db" || rs_fail "scan with --db"
check_scan "$W/truth.txt" "$T/a.jsonl" "live output" || rs_fail "the live output is not the truth"
db_states "$T/a.db" >"$T/a.db.states"
compare "$W/truth.txt" "$T/a.db.states" || rs_fail "the database is not the ground truth"
[ "$(q "$T/a.db" 'SELECT count(*) FROM results')" = "$(wc -l <"$W/truth.txt")" ] ||
	rs_fail "the database holds other rows"
row=$(q "$T/a.db" "SELECT n_open, n_closed, n_filtered, n_unreachable, n_error, complete, interrupted, positions, seed, shard_index, shard_count, all_states, ports FROM scans")
want="$(grep -c ' open$' "$W/truth.txt")|$(grep -c ' closed$' "$W/truth.txt")|$(grep -c ' filtered$' "$W/truth.txt")|$(grep -c ' unreachable$' "$W/truth.txt")|0|1|0|1024|11|0|1|1|1000-1007"
[ "$row" = "$want" ] || rs_fail "scans row: '$row', want '$want'"
q "$T/a.db" "SELECT cmdline FROM scans" | grep -q -- "--seed 11 127.1.0.0/25 -p 1000-1007 -o $T/a.jsonl --db $T/a.db$" ||
	rs_fail "scans row: the command line is not recorded: $(q "$T/a.db" 'SELECT cmdline FROM scans')"
[ "$(q "$T/a.db" 'PRAGMA user_version')" = 1 ] || rs_fail "schema version: $(q "$T/a.db" 'PRAGMA user_version')"
rs_say "ok: --all --db: $(wc -l <"$W/truth.txt") rows equal to the ground truth; the scan's row: $row"

"$RSX" export --db "$T/a.db" -o "$T/e.jsonl" 2>"$T/e.err" || { cat "$T/e.err" >&2; rs_fail "export"; }
[ ! -s "$T/e.err" ] || { cat "$T/e.err" >&2; rs_fail "export of a complete scan said something"; }
same_set "export (jsonl) vs the live output" "$T/a.jsonl" "$T/e.jsonl" || rs_fail "export differs from the live output"
in_order "$T/e.jsonl" || rs_fail "export is not in (address, port) order"
"$RSX" export --db "$T/a.db" >"$T/e2.jsonl" || rs_fail "export to stdout"
cmp -s "$T/e.jsonl" "$T/e2.jsonl" || rs_fail "export to stdout differs from -o"
# The answers view shows ts as the JSON does.
q -separator ' ' "$T/a.db" "SELECT ip, port, state, reason, rtt_us, attempts, ts FROM answers WHERE scan = 1" >"$T/view.txt"
sed -n 's/^{"ip":"\([^"]*\)","port":\([0-9]*\),"proto":"tcp","state":"\([a-z]*\)","reason":"\([^"]*\)","rtt_us":\([0-9]*\),"attempts":\([0-9]*\),"ts":"\([^"]*\)"}$/\1 \2 \3 \4 \5 \6 \7/p' \
	"$T/a.jsonl" >"$T/json.txt"
same_set "the answers view vs the JSON lines" "$T/json.txt" "$T/view.txt" || rs_fail "the answers view differs from the JSON"
rs_say "ok: export -f jsonl equals the live output, in (address, port) order; the answers view, its fields"

run_scan 120 "${ARGS[@]}" -f csv -o "$T/c.csv" --db "$T/c.db" || rs_fail "csv scan with --db"
"$RSX" export --db "$T/c.db" -f csv -o "$T/ec.csv" || rs_fail "export -f csv"
[ "$(head -1 "$T/ec.csv")" = "$(head -1 "$T/c.csv")" ] || rs_fail "export -f csv: header $(head -1 "$T/ec.csv")"
same_set "export (csv) vs the live csv" "$T/c.csv" "$T/ec.csv" || rs_fail "export -f csv differs"
"$RSX" export --db "$T/c.db" -f list -o "$T/el.txt" || rs_fail "export -f list"
[ "$(wc -l <"$T/el.txt")" = "$(wc -l <"$W/truth.txt")" ] || rs_fail "export -f list: $(wc -l <"$T/el.txt") lines"
rs_say "ok: export -f csv equals the live csv; -f list has every pair"
# -f xml, which a scan cannot write (its answers are not sorted by host):
# valid against nmap's DTD, every answer a <port>.
if command -v xmllint >/dev/null && [ -e /usr/share/nmap/nmap.dtd ]; then
	"$RSX" export --db "$T/a.db" --scan 1 -f xml -o "$T/e.xml" || rs_fail "export -f xml"
	xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$T/e.xml" 2>"$T/xml.err" ||
		{ head -5 "$T/xml.err" >&2; rs_fail "export -f xml is not valid against nmap.dtd"; }
	[ "$(grep -c '<port protocol="tcp"' "$T/e.xml")" = "$(wc -l <"$W/truth.txt")" ] ||
		rs_fail "export -f xml: $(grep -c '<port protocol="tcp"' "$T/e.xml") ports"
	rs_say "ok: export -f xml: valid against nmap.dtd, every answer a port"
else
	rs_say "note: no xmllint or nmap.dtd: export -f xml not checked here"
fi

# 2. Open only, to stdout; a second scan in the same database.
timeout 120 "$RS" "${ARGS[@]:1}" --db "$T/a.db" >"$T/o.jsonl" 2>"$T/o.err" || { cat "$T/o.err" >&2; rs_fail "open-only scan"; }
grep ' open$' "$W/truth.txt" >"$T/truth.open"
db_states "$T/a.db" 2 >"$T/o.states"
compare "$T/truth.open" "$T/o.states" || rs_fail "open-only: the database is not the open pairs"
"$RSX" export --db "$T/a.db" >"$T/o2.jsonl" || rs_fail "export of scan 2"
same_set "export (latest scan) vs stdout" "$T/o.jsonl" "$T/o2.jsonl" || rs_fail "export of the latest scan"
"$RSX" export --db "$T/a.db" --scan 1 >"$T/o1.jsonl" || rs_fail "export --scan 1"
cmp -s "$T/o1.jsonl" "$T/e.jsonl" || rs_fail "export --scan 1 is not the first scan"
[ "$(q "$T/a.db" 'SELECT count(*), max(id) FROM scans')" = "2|2" ] || rs_fail "two scans expected"
[ "$(q "$T/a.db" 'SELECT all_states FROM scans WHERE id = 2')" = 0 ] || rs_fail "scan 2: all_states"
rs_say "ok: open-only --db stores the $(wc -l <"$T/truth.open") open pairs; export --scan picks a scan"
world_down

# 3. --banner: the service members come back exactly.
net_up
cat >"$T/spec" <<'SPEC'
2200-2231=banner:SSH-2.0-svcd_%p test %p\r\n
2300=banner:Welcome to this host\r\nSSH-1.99-OpenSSH_9.2p1 Debian-2+deb12u10\r\n
2323=banner:\xff\xfd\x18\xff\xfd\x20\xff\xfb\x01\xff\xfb\x03Debian GNU/Linux 12\r\nhost login: 
2400=close
2401=silent
2404=banner:x\0\xff\xc3\xa9\xed\xa0\x80\x1b[0m\r\n
2406=banner-close:220 ready\r\n
2407=banner:SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n
SPEC
svcd_up s --bind 0.0.0.0 --spec-file "$T/spec"
BARGS=(-q -w 2 --banner --read-timeout 1000 --seed 3 127.60.0.0/30 -p "2200-2231,2300,2323,2400-2407")
run_scan 120 "${BARGS[@]}" -o "$T/b.jsonl" --db "$T/b.db" || rs_fail "--banner scan with --db"
grep -q '"service":{"name":"ssh"' "$T/b.jsonl" || rs_fail "--banner: no ssh service in the live output"
"$RSX" export --db "$T/b.db" -o "$T/eb.jsonl" || rs_fail "export of a --banner scan"
same_set "export (--banner) vs the live output" "$T/b.jsonl" "$T/eb.jsonl" || rs_fail "export --banner differs"
[ "$(q "$T/b.db" "SELECT count(*) FROM results WHERE service = 'ssh' AND banner IS NOT NULL")" -ge 128 ] ||
	rs_fail "--banner: the service columns: $(q "$T/b.db" 'SELECT service, count(*) FROM results GROUP BY 1')"
"$RSX" export --db "$T/b.db" -f csv | grep -q ',ssh$' || rs_fail "export -f csv of a --banner scan has no service column"
if command -v xmllint >/dev/null && [ -e /usr/share/nmap/nmap.dtd ]; then
	"$RSX" export --db "$T/b.db" -f xml -o "$T/eb.xml" || rs_fail "export -f xml of a --banner scan"
	xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$T/eb.xml" 2>"$T/xml.err" ||
		{ head -5 "$T/xml.err" >&2; rs_fail "export -f xml (--banner) is not valid against nmap.dtd"; }
	grep -q '<service name="ssh"' "$T/eb.xml" || rs_fail "export -f xml (--banner): no ssh service"
fi
rs_say "ok: --banner --db: export equals the live output, every service member ($(wc -l <"$T/b.jsonl") lines)"
svcd_down s

# 4. A reader while the scan writes: whole batches, never an error.
world_up "$W"
"$RS" "${ARGS[@]}" -r 400 -o "$T/r.jsonl" --db "$T/r.db" 2>"$T/r.err" &
pid=$!
prev=0 reads=0 mid=0
while kill -0 $pid 2>/dev/null; do
	# A reader sets a busy timeout, as docs/inventory.md says: the
	# database's creation and WAL checkpoints hold a lock for a moment.
	n=$(q -cmd '.timeout 5000' "$T/r.db" "SELECT count(*) FROM results" 2>"$T/q.err") || n=
	if [ -s "$T/q.err" ]; then
		grep -q "no such table" "$T/q.err" || { cat "$T/q.err" >&2; rs_fail "a reader got an error"; }
		n=0 # the schema is not there yet
	fi
	if [ -z "$n" ] || [ "$n" -lt "$prev" ]; then rs_fail "a reader saw '$n' rows after $prev"; fi
	[ "$n" -gt 0 ] && [ "$n" -lt 1024 ] && mid=$((mid + 1))
	prev=$n reads=$((reads + 1))
	sleep 0.2
done
wait $pid || { cat "$T/r.err" >&2; rs_fail "the scan with a reader"; }
[ "$(q "$T/r.db" 'SELECT count(*) FROM results')" = 1024 ] || rs_fail "the scan with a reader: rows"
[ "$mid" -ge 2 ] || rs_fail "the reader did not see the scan midway ($reads reads, $mid midway)"
rs_say "ok: a reader during the scan: $reads reads, $mid of them midway, counts only growing, no error"

# 5. Refusals: exit 2, one line naming the argument, no packet.
syns=$(nft_syns)
mkdir "$T/dir.db"
q "$T/new.db" "PRAGMA application_id=1920164726; PRAGMA user_version=99; CREATE TABLE x(y)"
printf 'not a database at all, but long enough to have been read as one by SQLite.........\n' >"$T/junk.db"
S=(-q 127.1.0.0/29 -p 1000)
refused "--db" "same file" -- "${S[@]}" -o "$T/x.db" --db "$T/x.db"
refused "--db" "same file" -- "${S[@]}" --stats "$T/x.db" --db "$T/x.db"
refused "--db" "same file" -- "${S[@]}" -o "$T/x.db-wal" --db "$T/x.db"
refused "--db" "dir.db" -- "${S[@]}" --db "$T/dir.db"
refused "--db" "schema version 99, newer" -- "${S[@]}" --db "$T/new.db"
refused "--db" "junk.db" -- "${S[@]}" --db "$T/junk.db"
refused "--db" "dry-run" -- "${S[@]}" --dry-run --db "$T/x.db"
refused "--db: missing argument" -- "${S[@]}" --db
[ ! -e "$T/x.db" ] || rs_fail "a refused command line created its --db"
RS=$RSX refused "export: --db FILE is needed" -- export
RS=$RSX refused "export: --db: given twice" -- export --db "$T/a.db" --db "$T/c.db"
RS=$RSX refused "--db: given twice" -- "${S[@]}" --db "$T/x.db" --db "$T/y.db"
RS=$RSX refused "export: --scan: invalid id '0'" -- export --db "$T/a.db" --scan 0
RS=$RSX refused "export: --scan:.*no scan 9" -- export --db "$T/a.db" --scan 9
RS=$RSX refused "export: -f/--format: unknown format 'pdf'" -- export --db "$T/a.db" -f pdf
RS=$RSX refused "export: --bogus: unknown option" -- export --db "$T/a.db" --bogus
RS=$RSX refused "export: 'extra': unexpected argument" -- export --db "$T/a.db" extra
RS=$RSX refused "export: --db: .*none.db" -- export --db "$T/none.db"
RS=$RSX refused "export: --db: .*schema version 99" -- export --db "$T/new.db"
RS=$RSX refused "export: -o/--output: .*is the inventory" -- export --db "$T/a.db" -o "$T/a.db"
RS=$RSX refused "merge: no input database" -- merge "$T/m.db"
RS=$RSX refused "merge: no output database" -- merge
RS=$RSX refused "merge: .*exists" -- merge "$T/a.db" "$T/c.db"
RS=$RSX refused "merge: -x: unknown option" -- merge -x "$T/m.db" "$T/a.db"
[ "$(nft_syns)" = "$syns" ] || rs_fail "refusals sent $(($(nft_syns) - syns)) SYNs"
"$RSX" export --help | grep -q '^Usage: ringscan export --db FILE' || rs_fail "export --help"
"$RSX" merge --help | grep -q '^Usage: ringscan merge OUT.db IN.db' || rs_fail "merge --help"
"$RS" --help | grep -q -- '--db FILE' || rs_fail "--help does not show --db"
rs_say "ok: refusals: exit 2, one line naming the argument, no packet sent"
rs_say "test_db: all checks passed"
