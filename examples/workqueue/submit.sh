#!/bin/sh
# Submits jobs to the work-queue cluster's queue: submit.sh QUEUE_DIR COUNT [SECONDS]
# (each job keeps a worker busy for SECONDS, default 5).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 QUEUE_DIR COUNT [SECONDS]" >&2; exit 2; }
dir=$1 count=$2 secs=${3:-5}
case $count in ''|*[!0-9]*) echo "$0: COUNT must be a whole number, got '$count'" >&2; exit 2 ;; esac
mkdir -p "$dir/jobs"
i=0
while [ "$i" -lt "$count" ]; do
  i=$((i + 1))
  echo "$secs" > "$dir/jobs/.job-$$-$i" && mv "$dir/jobs/.job-$$-$i" "$dir/jobs/job-$$-$i"
done
echo "submitted $count job(s) of $secs s to $dir/jobs"
