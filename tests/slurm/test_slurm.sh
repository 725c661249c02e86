#!/usr/bin/env bash
# test_slurm: deploy/slurm/ringscan-array.sbatch under a real Slurm (make
# test-slurm). Inside private network, mount, UTS and pid namespaces: a
# one-node cluster of Debian's slurm-wlm (slurmctld and slurmd, node
# "rsnode" at 127.0.0.1, munge authentication with a key made for the run),
# a mixed test world on 127.1.0.0/26 x 8 ports, then `sbatch --array=0-3`
# of the unmodified sbatch file, the scan's targets, ports and binary given
# in the environment it reads. Every array task must end COMPLETED with
# exit code 0:0 in slurmctld's record; the merge (cat of the shard files)
# must equal the world's truth minus the one address of the submit
# directory's exclude.txt exactly; the four --stats files must say shard
# 0/4 to 3/4, once each. An nft guard counts every packet the namespace
# sends elsewhere than 127.0.0.0/8 and ::1 (dropped): it must stay 0.
#
# Needs root (slurmstepd sets the job's groups, which a user namespace
# forbids) and the slurm profile of scripts/deps.sh (slurm-wlm, munge);
# skips (77) saying which is missing. Takes ~30 s.
# Usage: test_slurm.sh BUILD_DIR
set -eu
. "$(dirname "$0")/../e2e/lib.sh"
N=4

if [ "${RS_IN_NS:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || rs_skip "needs root: slurmd and slurmstepd set the job's uid and groups"
	for c in slurmctld slurmd sbatch squeue scontrol munged nft unshare; do
		command -v "$c" >/dev/null || PATH=$PATH:/usr/sbin command -v "$c" >/dev/null ||
			rs_skip "$c not found (scripts/deps.sh slurm installs slurm-wlm and munge)"
	done
	RS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ringscan-slurm.XXXXXX")
	export RS_TMP
	rc=0
	# Real root in new namespaces: net (lo only), mount, UTS (the node's
	# own hostname, which slurmctld must match), pid (nothing outlives us).
	timeout -k 5 240 unshare -nmu -pf --kill-child --mount-proc env RS_IN_NS=1 bash "$0" "$@" || rc=$?
	[ "$rc" = 124 ] && rs_say "FAIL: test_slurm did not finish within 240 s" && rc=1
	[ "$rc" = 0 ] || [ "$rc" = 77 ] || { rs_say "logs kept in $RS_TMP"; exit "$rc"; }
	rm -rf "$RS_TMP"
	exit "$rc"
fi

need_scanner "${1:-}"
need_tools
T=$RS_TMP
S=$T/slurm
mkdir -p "$S/state" "$S/spool" "$S/log" "$S/munge" "$T/submit"
chmod 755 "$S/munge" # the socket needs x for all (munged warns otherwise)
trap 'world_down' EXIT

hostname rsnode
# Names resolve from this /etc/hosts alone, never through a resolver.
own_hosts "127.0.0.1 localhost rsnode" || rs_fail "cannot make a private /etc/hosts"
net_up
# glibc's getaddrinfo(AI_ADDRCONFIG), which Slurm uses for every address,
# finds nothing where the only IPv4 address is 127.0.0.1 (it does not
# count as configured). A second loopback address does count; it is
# inside 127.0.0.0/8 like everything here.
ip addr add 127.0.0.2/8 dev lo
guard_up

# munge, with a key of this run's own.
head -c 128 /dev/urandom >"$S/munge/munge.key"
chmod 400 "$S/munge/munge.key"
munged -f --origin=127.0.0.1 --key-file="$S/munge/munge.key" --socket="$S/munge/munge.sock" \
	--pid-file="$S/munge/munged.pid" --log-file="$S/log/munged.log" --seed-file="$S/munge/seed" ||
	{ cat "$S/log/munged.log" >&2; rs_fail "munged did not start"; }

CPUS=$(nproc)
cat >"$S/slurm.conf" <<EOF
ClusterName=rstest
SlurmctldHost=rsnode(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$S/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=rsnode NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=test Nodes=rsnode Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$S/slurm.conf
slurm_logs() {
	local f
	for f in "$S"/log/*.log "$T"/submit/*.log; do
		[ -e "$f" ] || continue
		rs_say "--- $f (last 15 lines)"
		tail -15 "$f" >&2
	done
}
slurmctld -i || { slurm_logs; rs_fail "slurmctld did not start"; }
slurmd -N rsnode || { slurm_logs; rs_fail "slurmd did not start"; }
for _ in $(seq 1 60); do
	[ "$(sinfo -h -n rsnode -o %T 2>/dev/null)" = idle ] && break
	sleep 0.5
done
[ "$(sinfo -h -n rsnode -o %T 2>/dev/null)" = idle ] || { slurm_logs; rs_fail "node rsnode not idle after 30 s"; }
rs_say "cluster up: $(sinfo -h -o '%P %D %T %C' | head -1), $(sbatch --version)"

# The world, and one of its addresses excluded by the submit directory's
# exclude.txt (which the sbatch file reads).
W=$T/w
world_gen "$W" --seed 6 --addrs 127.1.0.0/26 --ports 4000-4007 --open 30 --filtered 1.5 \
	--unreachable 10 --closed-port 4003
world_is_mixed "$W"
world_up "$W"
echo 127.1.0.9 >"$T/submit/exclude.txt"
grep -v '^127\.1\.0\.9 ' "$W/truth.txt" >"$T/want.txt"

# The sbatch file as it is; the cluster's own sizes on the command line
# (one CPU a task: this node has $CPUS), the scan's in the environment.
cd "$T/submit"
job=$(RINGSCAN=$RS TARGETS=127.1.0.0/26 PORTS=4000-4007 SEED=77 OUT=$T/submit/out \
	sbatch --parsable --array=0-$((N - 1)) --cpus-per-task=1 --mem=0 \
	"$RS_ROOT/deploy/slurm/ringscan-array.sbatch") || { slurm_logs; rs_fail "sbatch refused the job"; }
job=${job%%;*}
rs_say "submitted array job $job ($N tasks)"
for _ in $(seq 1 240); do
	[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
	sleep 0.5
done
[ -z "$(squeue -h -j "$job")" ] || { squeue >&2; slurm_logs; rs_fail "array job $job still queued or running after 120 s"; }

# slurmctld's record of each task (kept for MinJobAge; no accounting here).
bad=0
for i in $(seq 0 $((N - 1))); do
	rec=$(scontrol -o show job "${job}_$i" 2>&1) || true
	st=$(printf '%s\n' "$rec" | grep -o 'JobState=[A-Z_]*' | head -1)
	ec=$(printf '%s\n' "$rec" | grep -o ' ExitCode=[0-9:]*' | head -1)
	rs_say "  task $i: $st$ec"
	[ "$st" = JobState=COMPLETED ] && [ "$ec" = " ExitCode=0:0" ] || bad=1
done
[ $bad = 0 ] || { slurm_logs; rs_fail "not every task completed with exit code 0"; }

# Merge, and demand the exact answer set: the sbatch file scans for open
# ports (no --all), so the merged lines must be exactly the open pairs,
# and the shards' --stats counts per state must add up to the truth's.
cat "$T"/submit/out/shard-*.jsonl >"$T/merged.jsonl"
grep ' open$' "$T/want.txt" >"$T/want-open.txt"
check_scan "$T/want-open.txt" "$T/merged.jsonl" "slurm array of $N shards, merged" ||
	rs_fail "merged shards != the open pairs of the truth"
for st in open closed filtered unreachable error; do
	got=$(grep -h -o "\"$st\":[0-9]*" "$T"/submit/out/shard-*.stats.json | awk -F: '{ n += $2 } END { print n + 0 }')
	exp=$(grep -c " $st\$" "$T/want.txt" || true)
	[ "$got" = "$exp" ] || rs_fail "--stats: $st $got in all shards, want $exp"
	counts="${counts:-}$st $got, "
done
shards=$(grep -h -o '"shard":"[^"]*"' "$T"/submit/out/shard-*.stats.json | sort | tr '\n' ' ')
want_shards=$(for i in $(seq 0 $((N - 1))); do printf '"shard":"%d/%d" ' "$i" "$N"; done)
[ "$shards" = "$want_shards" ] || rs_fail "--stats shards: $shards, want $want_shards"
strays=$(guard_count stray)
[ "$strays" = 0 ] || rs_fail "$strays packets to addresses outside 127.0.0.0/8 and ::1 (dropped)"
rs_say "slurm: $N array tasks COMPLETED 0:0; merged: the $(wc -l <"$T/merged.jsonl") open pairs" \
	"exactly; --stats: ${counts%, } = truth ($(wc -l <"$W/truth.txt") pairs minus 8 excluded);" \
	"shards $shards; 0 stray packets of $(guard_count out) sent"
