// Lists and plans: upload a CSV, preview it, build a plan, start the job and follow it, export
// and download. Each step opens once the one before it is done.
import { type ReactNode, useState } from 'react';
import type { ImportedList, Job, Plan } from '../../api/types';
import { PlanBuilder } from './PlanBuilder';
import { ExportAndDownload, RunJob } from './RunStep';
import { ListPreview, UploadForm } from './UploadStep';

const STEPS = ['Upload', 'Plan', 'Run', 'Export'] as const;

function Step({ n, title, done, children }: { n: number; title: string; done: boolean; children: ReactNode }) {
  return (
    <section className={`card wizard-step${done ? ' done' : ''}`} aria-labelledby={`wizard-step-${n}`}>
      <h2 id={`wizard-step-${n}`}>
        <span className="step-number" aria-hidden="true">
          {n}
        </span>{' '}
        {title}
        {done ? <span className="visually-hidden"> (done)</span> : null}
      </h2>
      {children}
    </section>
  );
}

/** The wizard view. */
export function WizardView() {
  const [list, setList] = useState<ImportedList | null>(null);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const current = !list ? 0 : !plan ? 1 : !job ? 2 : 3;
  return (
    <>
      <div className="view-head">
        <h1 tabIndex={-1}>Lists &amp; plans</h1>
        <p className="muted">Take a list through a plan to an export.</p>
      </div>
      <ol className="stepper" aria-label="Progress through the wizard">
        {STEPS.map((s, i) => (
          <li key={s} aria-current={i === current ? 'step' : undefined} className={i < current ? 'done' : i === current ? 'current' : ''}>
            {s}
          </li>
        ))}
      </ol>
      <Step n={1} title="Upload a CSV" done={list !== null}>
        {list ? <ListPreview list={list} /> : <UploadForm onUploaded={setList} />}
        {list && !plan ? (
          <p>
            <button type="button" onClick={() => setList(null)}>
              Upload another file
            </button>
          </p>
        ) : null}
      </Step>
      {list ? (
        <Step n={2} title="Build a plan" done={plan !== null}>
          {plan ? (
            <p>
              Plan <strong>{plan.name}</strong>: {plan.steps.map((s) => s.type).join(' → ')}
            </p>
          ) : (
            <PlanBuilder listName={list.name} onCreated={setPlan} />
          )}
        </Step>
      ) : null}
      {list && plan ? (
        <Step n={3} title="Run the enrichment" done={job !== null}>
          <RunJob listId={list.id} planId={plan.id} onCompleted={setJob} />
        </Step>
      ) : null}
      {list && job ? (
        <Step n={4} title="Export and download" done={false}>
          <ExportAndDownload listId={list.id} />
        </Step>
      ) : null}
    </>
  );
}
