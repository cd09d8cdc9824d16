/**
 * Memory and CPU time of this process and of another one (ejabberd's Erlang VM), from the
 * kernel: resident set now and its high-water mark (Linux /proc/<pid>/status VmRSS,
 * VmHWM), so a peak between two samples is not missed; CPU seconds from /proc/<pid>/stat,
 * so a slow phase can be pinned on the process that was busy.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface Rss {
  rss_mb: number;
  peak_rss_mb: number;
}

const MB = 1024 * 1024;
const round1 = (n: number) => Math.round(n * 10) / 10;

/** This process: RSS now and its peak since it started (getrusage ru_maxrss). */
export function ownMemory(): Rss {
  return {
    rss_mb: round1(process.memoryUsage.rss() / MB),
    peak_rss_mb: round1((process.resourceUsage().maxRSS * 1024) / MB),
  };
}

/** VmRSS and VmHWM of `pid`, or undefined when it is gone or unreadable. */
export function processMemory(pid: number): Rss | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const rss = kb('VmRSS');
  const hwm = kb('VmHWM');
  if (!Number.isFinite(rss)) return undefined;
  return { rss_mb: round1((rss * 1024) / MB), peak_rss_mb: round1(((Number.isFinite(hwm) ? hwm : rss) * 1024) / MB) };
}

/** Processes whose process group is `pgid` (a server started in its own group), with their command names. */
export function groupProcesses(pgid: number): Array<{ pid: number; comm: string }> {
  const out: Array<{ pid: number; comm: string }> = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    // comm is in parentheses and may itself hold spaces or ')': fields follow the last ')'.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    if (Number(fields[2]) === pgid) out.push({ pid: Number(e), comm: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return out;
}

/** The Erlang VM (beam.smp) of a server started as process group `pgid`. */
export function beamMemory(pgid: number): Rss | undefined {
  const pid = beamPid(pgid);
  return pid === undefined ? undefined : processMemory(pid);
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux port). */
const USER_HZ = 100;

/** User + system CPU seconds `pid` has used, or undefined when it is gone. */
export function processCpuS(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5) (utime, stime) are the 12th and 13th after the comm.
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/** User + system CPU seconds of this process. */
export function ownCpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The Erlang VM's pid in process group `pgid`. */
export function beamPid(pgid: number): number | undefined {
  const procs = groupProcesses(pgid);
  return (procs.find((p) => p.comm.startsWith('beam')) ?? procs.find((p) => p.pid === pgid))?.pid;
}
