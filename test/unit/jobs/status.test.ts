// The transition table must equal DESIGN.md's, pair by pair; everything else is illegal.
import { describe, expect, it } from 'vitest';
import {
  FINISHED_STATUSES,
  JOB_STATUSES,
  type JobStatus,
  STARTABLE_STATUSES,
  TRANSITIONS,
  UNFINISHED_STATUSES,
  allowedFrom,
  canTransition,
  isFinished,
  startPath,
} from '../../../src/jobs/status.js';

// Copied from DESIGN.md "Job model", not from the code under test.
const DESIGN: Record<JobStatus, JobStatus[]> = {
  pending: ['running', 'scheduled', 'cancelled'],
  scheduled: ['pending', 'cancelled'],
  running: ['completed', 'retrying', 'failed', 'cancelled', 'pending'],
  retrying: ['running', 'cancelled'],
  failed: ['pending'],
  cancelled: ['pending'],
  completed: ['pending'],
};

describe('job statuses', () => {
  it('are the contract\'s seven', () => {
    expect([...JOB_STATUSES].sort()).toEqual(['cancelled', 'completed', 'failed', 'pending', 'retrying', 'running', 'scheduled']);
    expect([...FINISHED_STATUSES].sort()).toEqual(['cancelled', 'completed', 'failed']);
    expect([...UNFINISHED_STATUSES].sort()).toEqual(['pending', 'retrying', 'running', 'scheduled']);
  });

  it('has exactly the transition table of DESIGN.md', () => {
    for (const from of JOB_STATUSES) expect([...TRANSITIONS[from]].sort()).toEqual([...DESIGN[from]].sort());
  });

  const pairs = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to] as const));
  it.each(pairs)('%s -> %s is legal only if DESIGN.md lists it', (from, to) => {
    expect(canTransition(from, to)).toBe(DESIGN[from].includes(to));
  });

  it('never allows a status to move to itself', () => {
    for (const s of JOB_STATUSES) expect(canTransition(s, s)).toBe(false);
  });

  it('allowedFrom is the inverse of the table', () => {
    expect(allowedFrom('running').sort()).toEqual(['pending', 'retrying']);
    expect(allowedFrom('pending').sort()).toEqual(['cancelled', 'completed', 'failed', 'running', 'scheduled']);
    expect(allowedFrom('cancelled').sort()).toEqual(['pending', 'retrying', 'running', 'scheduled']);
    expect(allowedFrom('completed')).toEqual(['running']);
    expect(allowedFrom('scheduled')).toEqual(['pending']);
  });

  it('isFinished holds for completed, failed and cancelled only', () => {
    for (const s of JOB_STATUSES) expect(isFinished(s)).toBe(['completed', 'failed', 'cancelled'].includes(s));
  });
});

describe('startPath', () => {
  it('starts pending and retrying jobs directly', () => {
    expect(startPath('pending')).toEqual(['pending', 'running']);
    expect(startPath('retrying')).toEqual(['retrying', 'running']);
  });

  it('starts scheduled and handed-back running jobs through pending', () => {
    expect(startPath('scheduled')).toEqual(['scheduled', 'pending', 'running']);
    expect(startPath('running')).toEqual(['running', 'pending', 'running']);
  });

  it('never starts a finished job', () => {
    for (const s of ['completed', 'failed', 'cancelled'] as const) expect(startPath(s)).toBeNull();
  });

  it('every recorded step of every path is a legal transition', () => {
    for (const s of JOB_STATUSES) {
      const path = startPath(s);
      if (!path) continue;
      expect(path[0]).toBe(s);
      expect(path.at(-1)).toBe('running');
      for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
    }
  });

  it('STARTABLE_STATUSES are the unfinished ones', () => {
    expect([...STARTABLE_STATUSES].sort()).toEqual(['pending', 'retrying', 'running', 'scheduled']);
  });
});
