#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine, as root: munged,
# slurmctld and slurmd on localhost, one partition with every CPU. For
# the sharded-run test (tests/slurm/sharded_remove.sh); needs Debian's
# slurm-wlm and munge. Does nothing if a cluster already answers.
set -euo pipefail

if sinfo -h >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "tools/slurm_up.sh: starting a cluster needs root" >&2
    exit 1
fi

node=$(hostname -s)
cpus=$(nproc)
# What slurmd will find, less a margin: a node that reports less than its
# configured memory is drained.
memory=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) * 9 / 10 ))

mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat > /etc/slurm/slurm.conf <<EOF
# Written by u2cut's tools/slurm_up.sh: a single-node test cluster.
ClusterName=u2cut-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
# No cgroups: containers and CI machines rarely delegate them.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

if ! pgrep -x munged >/dev/null; then
    chown -R munge:munge /run/munge /etc/munge 2>/dev/null || true
    runuser -u munge -- /usr/sbin/munged
fi
pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd -N "$node"

for _ in $(seq 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then
        exit 0
    fi
    sleep 1
done
echo "tools/slurm_up.sh: the cluster did not come up; its logs:" >&2
tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
sinfo >&2 || true
exit 1
