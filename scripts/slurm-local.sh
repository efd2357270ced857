#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying and testing `pbn study run --executor
# slurm` without a real cluster. Needs root (it installs Debian's slurm-wlm and munge and runs
# their daemons in the background, without systemd).
#
#   scripts/slurm-local.sh up       install if needed, configure, start; waits until the node is idle
#   scripts/slurm-local.sh down     stop the daemons (the packages stay installed)
#   scripts/slurm-local.sh status   sinfo and squeue
set -euo pipefail

conf_dir=/etc/slurm
state_dir=/var/spool/slurm-local
log_dir=/var/log/slurm-local

install() {
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "installing slurm-wlm and munge (Debian packages)…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q slurm-wlm munge >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q slurm-wlm munge >/dev/null; }
  fi
}

configure() {
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  # Leave room for the daemons: what Slurm may hand to jobs (MB).
  mem=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
  mkdir -p "$conf_dir" "$state_dir/ctld" "$state_dir/d" "$log_dir"
  cat > "$conf_dir/slurm.conf" <<CONF
# Written by pbn's scripts/slurm-local.sh: a one-node cluster for tests.
ClusterName=pbn-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$(( mem / cpus ))
ReturnToService=2
MpiDefault=none
StateSaveLocation=$state_dir/ctld
SlurmdSpoolDir=$state_dir/d
SlurmctldPidFile=$state_dir/slurmctld.pid
SlurmdPidFile=$state_dir/slurmd.pid
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
KillWait=10
MinJobAge=300
InactiveLimit=0
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    mungekey -c -k /etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 2>/dev/null
  fi
  chown -R munge:munge /etc/munge 2>/dev/null || true
  chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown -R munge:munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
}

up() {
  install
  configure
  pgrep -x munged >/dev/null || su -s /bin/sh munge -c "munged" 2>/dev/null || munged --force
  pgrep -x slurmctld >/dev/null || (slurmctld -D -i >>"$log_dir/slurmctld.out" 2>&1 &)
  pgrep -x slurmd >/dev/null || (slurmd -D >>"$log_dir/slurmd.out" 2>&1 &)
  for _ in $(seq 1 60); do
    if timeout 5 sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
      echo "slurm is up: $(sinfo -h -o '%P %D %T %c CPUs')" >&2
      return 0
    fi
    timeout 5 sinfo -h -o '%T' 2>/dev/null | grep -qE 'down|drain' && scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
    sleep 1
  done
  echo "slurm did not come up; see $log_dir" >&2
  tail -5 "$log_dir/slurmctld.log" "$log_dir/slurmd.log" >&2 || true
  return 1
}

down() {
  scancel --user=root >/dev/null 2>&1 || true
  for daemon in slurmd slurmctld munged; do
    pkill -x "$daemon" || true
    # Wait for it to exit (slurmctld saves its state first), so that `up` starts a fresh one.
    for _ in $(seq 1 50); do pgrep -x "$daemon" >/dev/null || break; sleep 0.2; done
  done
  echo "slurm is down" >&2
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) sinfo; squeue ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
