#!/usr/bin/env bash
# test_world: the test world itself is right, so that a world bug can never
# hide (or fake) a scanner bug.
#   1. worldgen refuses bad arguments (exit 2);
#   2. worlds are deterministic, exact in their counts, sorted, complete;
#   3. an independent observer (python3, one blocking connect per pair)
#      sees exactly the ground truth of a small world with every state and
#      both kinds of "closed" (kernel RST on a port without listener, nft
#      reset on a port with one); the listener counts its accepts;
#   4. a 65,536-pair world loads into nft quickly, with the right set sizes.
# engine-independent: the test world itself; the scanner never runs.
# Usage: test_world.sh BUILD_DIR (the scanner is not needed).
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 180 "$0" "$@"
need_tools
G=$RS_TOOLS/worldgen
T=$RS_TMP
trap world_down EXIT

# 1. Bad arguments.
bad() {
	local rc=0
	"$G" "$@" >"$T/bad.out" 2>"$T/bad.err" || rc=$?
	[ "$rc" = 2 ] || rs_fail "worldgen $* -> exit $rc, want 2"
	[ -s "$T/bad.err" ] || rs_fail "worldgen $* -> no message on stderr"
}
ok=(--seed 1 --ports 20-27 --out "$T/bad")
bad "${ok[@]}" --addrs 192.0.2.0/24
bad "${ok[@]}" --addrs 127.0.0.0/15
bad "${ok[@]}" --addrs 127.0.0.0/33
bad "${ok[@]}" --addrs 127.0.0.1/24
bad "${ok[@]}" --addrs 127.0.0.256/32
bad --seed 1 --addrs 127.1.0.0/24 --ports 0-5 --out "$T/bad"
bad --seed 1 --addrs 127.1.0.0/24 --ports 9-3 --out "$T/bad"
bad --seed 1 --addrs 127.1.0.0/24 --ports 1-70000 --out "$T/bad"
bad --seed 1 --addrs 127.0.0.0/16 --ports 1-65535 --out "$T/bad"
bad "${ok[@]}" --addrs 127.1.0.0/24 --open 60 --filtered 50
bad "${ok[@]}" --addrs 127.1.0.0/24 --open -1
bad "${ok[@]}" --addrs 127.1.0.0/24 --dark 127.9.0.0/28
bad "${ok[@]}" --addrs 127.1.0.0/24 --frobnicate 3
bad "${ok[@]}" --addrs 127.1.0.0/24 --closed-port 28
bad "${ok[@]}" --addrs 127.1.0.0/24 --closed-port 0
bad --seed x --addrs 127.1.0.0/24 --ports 20-27 --out "$T/bad"
bad --seed 1 --addrs 127.1.0.0/24 --ports 20-27
[ ! -e "$T/bad" ] || rs_fail "worldgen wrote output for bad arguments"

# 2. Determinism, exact counts, order, completeness, dark ranges.
count() { grep -c " $2\$" "$1" || true; }
world_gen "$T/a" --seed 5 --addrs 127.1.0.0/26 --ports 1000-1015 --open 20 --filtered 5 --unreachable 7.5
world_gen "$T/b" --seed 5 --addrs 127.1.0.0/26 --ports 1000-1015 --open 20 --filtered 5 --unreachable 7.5
world_gen "$T/c" --seed 6 --addrs 127.1.0.0/26 --ports 1000-1015 --open 20 --filtered 5 --unreachable 7.5
for f in truth.txt listen.txt world.nft; do
	cmp -s "$T/a/$f" "$T/b/$f" || rs_fail "same seed, different $f"
done
! cmp -s "$T/a/truth.txt" "$T/c/truth.txt" || rs_fail "seeds 5 and 6 give the same world"
[ "$(wc -l <"$T/a/truth.txt")" = 1024 ] || rs_fail "truth.txt has $(wc -l <"$T/a/truth.txt") lines, want 1024"
sort -c "$T/a/truth.txt" || rs_fail "truth.txt is not in LC_ALL=C sort order"
[ -z "$(cut -d' ' -f1,2 "$T/a/truth.txt" | uniq -d)" ] || rs_fail "truth.txt repeats a pair"
for ip in $(seq 0 63); do
	for port in $(seq 1000 1015); do echo "127.1.0.$ip $port"; done
done | sort >"$T/pairs"
cut -d' ' -f1,2 "$T/a/truth.txt" | cmp -s - "$T/pairs" || rs_fail "truth.txt does not list exactly addrs x ports"
for want in open:205 filtered:51 unreachable:77 closed:691; do
	s=${want%:*} n=${want#*:}
	[ "$(count "$T/a/truth.txt" "$s")" = "$n" ] || rs_fail "seed 5: $(count "$T/a/truth.txt" "$s") $s pairs, want $n"
done
awk '$3 == "open" { print $2 }' "$T/a/truth.txt" | sort -n -u | cmp -s - "$T/a/listen.txt" ||
	rs_fail "listen.txt is not the set of ports with an open pair"
world_gen "$T/d" --seed 5 --addrs 127.1.0.0/26 --ports 1000-1015 --open 20 --dark 127.1.0.32/28 --dark 127.1.0.5/32
awk '{ split($1, o, "."); dark = (o[4] >= 32 && o[4] < 48) || o[4] == 5 }
     dark != ($3 == "filtered") { bad++ } END { exit bad > 0 }' "$T/d/truth.txt" ||
	rs_fail "--dark ranges are not exactly the filtered pairs"
world_gen "$T/e" --seed 5 --addrs 127.1.0.0/26 --ports 1000-1015 --open 50 --unreachable 20 --closed-port 1003 \
	--closed-port 1015 --dark 127.1.0.8/29
awk '{ split($1, o, "."); dark = o[4] >= 8 && o[4] < 16; shut = $2 == 1003 || $2 == 1015 }
     (dark && $3 != "filtered") || (shut && !dark && $3 != "closed") { bad++ } END { exit bad > 0 }' \
	"$T/e/truth.txt" || rs_fail "--closed-port pairs are not closed (outside --dark)"
! grep -qx -e 1003 -e 1015 "$T/e/listen.txt" || rs_fail "a --closed-port got a listener"

# 3. An independent observer agrees with the truth of a small world.
W=$T/small
world_gen "$W" --seed 3 --addrs 127.5.0.0/28 --ports 20-27 --open 15 --filtered 8 --unreachable 10 \
	--dark 127.5.0.14/31 --closed-port 23
world_is_mixed "$W"
world_up "$W"
timeout -k 2 60 python3 - "$W/truth.txt" >"$W/observed.txt" <<'EOF'
import concurrent.futures, errno, socket, struct, sys

pairs = [line.split()[:2] for line in open(sys.argv[1])]
assert len(pairs) <= 4096

def probe(pair):
    ip, port = pair[0], int(pair[1])
    assert ip.startswith("127."), ip  # loopback only, always
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.settimeout(0.5)
    try:
        s.connect((ip, port))
        state = "open"
    except socket.timeout:
        state = "filtered"
    except ConnectionRefusedError:
        state = "closed"
    except OSError as e:
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            state = "unreachable"
        else:
            state = "error-" + errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
    return "%s %d %s" % (ip, port, state)

with concurrent.futures.ThreadPoolExecutor(32) as ex:
    out = list(ex.map(probe, pairs))
sys.stdout.write("".join(line + "\n" for line in out))
EOF
sort -o "$W/observed.txt" "$W/observed.txt"
syns=$(nft_syns)
world_down
if ! compare "$W/truth.txt" "$W/observed.txt" 2>"$W/report"; then
	cat "$W/report" >&2
	rs_fail "python's view of the world differs from truth.txt"
fi
[ "$(listener_accepted)" = "$(count "$W/truth.txt" open)" ] ||
	rs_fail "listener accepted $(listener_accepted) connections, want $(count "$W/truth.txt" open)"
[ "$syns" -ge 128 ] || rs_fail "nft counted $syns SYNs for 128 connects"

# 4. A 65,536-pair world loads quickly, with the right set sizes.
B=$T/big
world_gen "$B" --seed 9 --addrs 127.2.0.0/24 --ports 1000-1255 --open 20 --filtered 5 --unreachable 5
t0=$(date +%s%N)
world_load "$B"
ms=$((($(date +%s%N) - t0) / 1000000))
rs_say "65,536-pair world: nft loaded in ${ms} ms"
[ "$ms" -lt 5000 ] || rs_fail "nft took ${ms} ms to load a 65,536-pair world"
elems() { nft list set inet rsworld "$1" | grep -o '[0-9] \. [0-9]' | wc -l; }
[ "$(elems filtered)" = "$(count "$B/truth.txt" filtered)" ] || rs_fail "@filtered has $(elems filtered) elements"
[ "$(elems unreach)" = "$(count "$B/truth.txt" unreachable)" ] || rs_fail "@unreach has $(elems unreach) elements"
want=$(awk 'NR == FNR { l[$1] = 1; next } $3 == "closed" && ($2 in l) { n++ } END { print n + 0 }' \
	"$B/listen.txt" "$B/truth.txt")
[ "$(elems closed)" = "$want" ] || rs_fail "@closed has $(elems closed) elements, want $want"
nft delete table inet rsworld
rs_say "world OK"
