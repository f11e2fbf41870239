import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectPrivilege } from '../../src/scan/privilege.ts';

/** CAP_NET_RAW is capability 13. */
const NET_RAW = '0000000000002000';
const NONE = '0000000000000000';
/** Every capability of a 5.x/6.x kernel: what an unprivileged process still has in its bounding set. */
const ALL = '000001ffffffffff';
/** Docker's default capability set, which includes CAP_NET_RAW. */
const DOCKER_DEFAULT = '00000000a80425fb';

/** /proc/self/status as Linux 6.x writes it for a node process, with the given capability sets. */
function procStatus(
  caps: { inh?: string; prm?: string; eff?: string; bnd?: string; amb?: string },
  uid = 65534,
): string {
  return [
    'Name:\tnode',
    'Umask:\t0022',
    'State:\tS (sleeping)',
    'Tgid:\t4242',
    'Ngid:\t0',
    'Pid:\t4242',
    'PPid:\t1',
    'TracerPid:\t0',
    `Uid:\t${uid}\t${uid}\t${uid}\t${uid}`,
    `Gid:\t${uid}\t${uid}\t${uid}\t${uid}`,
    'FDSize:\t64',
    'Groups:\t ',
    'NStgid:\t4242',
    'NSpid:\t4242',
    'VmPeak:\t 1218344 kB',
    'VmRSS:\t   61832 kB',
    'Threads:\t11',
    'SigQ:\t0/63451',
    'SigPnd:\t0000000000000000',
    'ShdPnd:\t0000000000000000',
    'SigBlk:\t0000000000000000',
    'SigIgn:\t0000000001001000',
    'SigCgt:\t0000000188004602',
    `CapInh:\t${caps.inh ?? NONE}`,
    `CapPrm:\t${caps.prm ?? NONE}`,
    `CapEff:\t${caps.eff ?? NONE}`,
    `CapBnd:\t${caps.bnd ?? ALL}`,
    `CapAmb:\t${caps.amb ?? NONE}`,
    'NoNewPrivs:\t0',
    'Seccomp:\t0',
    'Seccomp_filters:\t0',
    'Speculation_Store_Bypass:\tthread vulnerable',
    'Cpus_allowed:\tf',
    'Cpus_allowed_list:\t0-3',
    'voluntary_ctxt_switches:\t152',
    'nonvoluntary_ctxt_switches:\t9',
    '',
  ].join('\n');
}

describe('detectPrivilege', () => {
  it('is root for effective uid 0, whatever the capability sets say', () => {
    assert.equal(detectPrivilege({ euid: 0, procStatus: procStatus({}, 0) }), 'root');
    assert.equal(detectPrivilege({ euid: 0, procStatus: '' }), 'root');
  });

  it('is net_raw when CAP_NET_RAW is effective (setcap cap_net_raw+eip)', () => {
    assert.equal(detectPrivilege({ euid: 1000, procStatus: procStatus({ prm: NET_RAW, eff: NET_RAW }) }), 'net_raw');
  });

  it("is net_raw with Docker's default capabilities as a non-root user", () => {
    assert.equal(
      detectPrivilege({ euid: 65534, procStatus: procStatus({ prm: DOCKER_DEFAULT, eff: DOCKER_DEFAULT }) }),
      'net_raw',
    );
  });

  it('is net_raw when CAP_NET_RAW is only ambient (systemd AmbientCapabilities)', () => {
    assert.equal(detectPrivilege({ euid: 998, procStatus: procStatus({ amb: NET_RAW }) }), 'net_raw');
  });

  it('is none without CAP_NET_RAW, even though the bounding set allows it', () => {
    assert.equal(detectPrivilege({ euid: 1000, procStatus: procStatus({}) }), 'none');
  });

  it('is none when CAP_NET_RAW is permitted or inheritable but not effective', () => {
    assert.equal(detectPrivilege({ euid: 1000, procStatus: procStatus({ prm: NET_RAW, inh: NET_RAW }) }), 'none');
  });

  it('is none for the neighbouring capabilities CAP_NET_ADMIN (12) and CAP_IPC_LOCK (14)', () => {
    assert.equal(detectPrivilege({ euid: 1000, procStatus: procStatus({ eff: '0000000000001000' }) }), 'none');
    assert.equal(
      detectPrivilege({ euid: 1000, procStatus: procStatus({ eff: '0000000000004000', amb: '0000000000005000' }) }),
      'none',
    );
  });

  it('is none when the status has no capability lines at all', () => {
    assert.equal(detectPrivilege({ euid: 1000, procStatus: 'Name:\tnode\nPid:\t4242\n' }), 'none');
    assert.equal(detectPrivilege({ euid: -1, procStatus: '' }), 'none');
  });

  it("trusts nmap's own effective set: a file capability on nmap, absent from the exporter's own sets", () => {
    const exporter = procStatus({ eff: NONE, amb: NONE, bnd: DOCKER_DEFAULT }, 10001);
    const nmap = procStatus({ prm: NET_RAW, eff: NET_RAW, bnd: DOCKER_DEFAULT }, 10001);
    assert.equal(detectPrivilege({ euid: 10001, procStatus: exporter, nmapProcStatus: nmap }), 'net_raw');
  });

  it('is none when nmap did not get CAP_NET_RAW (no-new-privileges), even if the exporter has it ambient', () => {
    const exporter = procStatus({ eff: NET_RAW, amb: NET_RAW }, 10001);
    const nmap = procStatus({ eff: NONE }, 10001);
    assert.equal(detectPrivilege({ euid: 10001, procStatus: exporter, nmapProcStatus: nmap }), 'none');
  });

  it("falls back to the exporter's own sets when nmap's status could not be read", () => {
    const exporter = procStatus({ eff: NONE, amb: NET_RAW }, 10001);
    assert.equal(detectPrivilege({ euid: 10001, procStatus: exporter, nmapProcStatus: undefined }), 'net_raw');
  });
});
