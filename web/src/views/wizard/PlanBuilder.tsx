// Wizard step 2: a plan from the step types and their options (GET /v1/enrichment/step-types).
import { type FormEvent, useState } from 'react';
import type { Plan, StepTypes } from '../../api/types';
import { ApiError } from '../../api/client';
import { useServices } from '../../app-context';
import { ErrorNotice, Loading } from '../../components/States';
import { type FormProblem, type StepChoice, buildPlanBody, optionFields } from '../../lib/plan-form';
import { useLoad } from '../../lib/use-load';

const LOCAL_DEFAULTS = ['rpc_score', 'email_validation', 'phone_normalization', 'company_domain'];

/** The plan form; onCreated gets the plan as stored. */
export function PlanBuilder({ listName, onCreated }: { listName: string; onCreated(plan: Plan): void }) {
  const { api } = useServices();
  const types = useLoad((signal) => api.get<StepTypes>('/v1/enrichment/step-types', signal), []);
  const [name, setName] = useState(`${listName} plan`);
  const [threshold, setThreshold] = useState('1');
  const [choices, setChoices] = useState<StepChoice[]>([]);
  const [problems, setProblems] = useState<FormProblem[]>([]);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);

  if (types.error) return <ErrorNotice error={types.error} title="The step types could not be read" onRetry={types.reload} />;
  if (!types.data) return <Loading label="Loading step types…" />;
  const items = types.data.items;
  const choiceOf = (type: string): StepChoice => choices.find((c) => c.type === type) ?? { type, enabled: false, values: {} };
  const update = (type: string, change: (c: StepChoice) => StepChoice) =>
    setChoices((all) => [...all.filter((c) => c.type !== type), change(choiceOf(type))]);
  const problemAt = (path: string) => problems.find((p) => p.path === path)?.message;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const { body, problems: found } = buildPlanBody(name, threshold, items, choices);
    setProblems(found);
    setError(null);
    if (!body) return;
    setBusy(true);
    try {
      onCreated(await api.send<Plan>('POST', '/v1/enrichment/plans', body));
    } catch (err) {
      setError(err as Error);
      if (err instanceof ApiError) setProblems(err.details.flatMap((d) => (d.path && d.message ? [{ path: d.path, message: d.message }] : [])));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="stack" noValidate>
      <div className="field">
        <label htmlFor="plan-name">Plan name</label>
        <input id="plan-name" type="text" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} aria-invalid={problemAt('name') !== undefined} />
        {problemAt('name') ? <p className="field-error">{problemAt('name')}</p> : null}
      </div>
      <fieldset className="steps">
        <legend>Steps (run in this order)</legend>
        {problemAt('steps') ? <p className="field-error">{problemAt('steps')}</p> : null}
        {items.map((t) => {
          const c = choiceOf(t.type);
          const fields = optionFields(t.optionsSchema);
          return (
            <div key={t.type} className={`step${c.enabled ? ' step-on' : ''}`}>
              <div className="check">
                <input id={`step-${t.type}`} type="checkbox" checked={c.enabled} onChange={(e) => update(t.type, (x) => ({ ...x, enabled: e.target.checked }))} aria-describedby={`step-${t.type}-help`} />
                <label htmlFor={`step-${t.type}`}>
                  <code>{t.type}</code>
                  {LOCAL_DEFAULTS.includes(t.type) ? null : <span className="muted"> (calls providers)</span>}
                </label>
              </div>
              <p id={`step-${t.type}-help`} className="help">
                {t.description}
              </p>
              {c.enabled && fields.length > 0 ? (
                <div className="options">
                  {fields.map((f) => {
                    const id = `opt-${t.type}-${f.name}`;
                    const problem = problemAt(`${t.type}.${f.name}`) ?? problemAt(`steps.${items.filter((x) => choiceOf(x.type).enabled).findIndex((x) => x.type === t.type)}.options.${f.name}`);
                    if (f.kind === 'providers') {
                      const ticked = Array.isArray(c.values[f.name]) ? (c.values[f.name] as string[]) : [];
                      return (
                        <fieldset key={f.name} className="providers">
                          <legend>Providers, in waterfall order{f.required ? ' (at least one)' : ''}</legend>
                          {types.data!.providers.map((p) => (
                            <div className="check" key={p.name}>
                              <input
                                id={`${id}-${p.name}`}
                                type="checkbox"
                                checked={ticked.includes(p.name)}
                                onChange={(e) =>
                                  update(t.type, (x) => ({ ...x, values: { ...x.values, [f.name]: e.target.checked ? [...ticked, p.name] : ticked.filter((n) => n !== p.name) } }))
                                }
                              />
                              <label htmlFor={`${id}-${p.name}`}>
                                {p.name} {p.configured ? <span className="recognised">configured</span> : <span className="muted">no key set</span>}
                              </label>
                            </div>
                          ))}
                          {problem ? <p className="field-error">{problem}</p> : null}
                        </fieldset>
                      );
                    }
                    const value = typeof c.values[f.name] === 'string' ? (c.values[f.name] as string) : '';
                    const set = (v: string) => update(t.type, (x) => ({ ...x, values: { ...x.values, [f.name]: v } }));
                    return (
                      <div className="field" key={f.name}>
                        <label htmlFor={id}>
                          {f.name}
                          {f.required ? ' (required)' : ''}
                          {f.kind === 'number' && (f.min !== undefined || f.max !== undefined) ? ` ${f.min ?? ''}–${f.max ?? ''}` : ''}
                        </label>
                        {f.kind === 'choice' ? (
                          <select id={id} value={value} onChange={(e) => set(e.target.value)} aria-invalid={problem !== undefined}>
                            <option value="">{f.required ? 'Choose…' : 'Default'}</option>
                            {f.choices?.map((o) => (
                              <option key={o} value={o}>
                                {o}
                              </option>
                            ))}
                          </select>
                        ) : (
                          <input
                            id={id}
                            type={f.kind === 'number' ? 'number' : 'text'}
                            inputMode={f.kind === 'number' ? 'decimal' : undefined}
                            min={f.min}
                            max={f.max}
                            value={value}
                            placeholder="default"
                            onChange={(e) => set(e.target.value)}
                            aria-invalid={problem !== undefined}
                          />
                        )}
                        {problem ? <p className="field-error">{problem}</p> : null}
                      </div>
                    );
                  })}
                </div>
              ) : null}
            </div>
          );
        })}
      </fieldset>
      <div className="field">
        <label htmlFor="plan-threshold">Error threshold (0–1: the share of failed entries above which the job fails)</label>
        <input id="plan-threshold" type="number" inputMode="decimal" min={0} max={1} step={0.01} value={threshold} onChange={(e) => setThreshold(e.target.value)} aria-invalid={problemAt('errorThreshold') !== undefined} />
        {problemAt('errorThreshold') ? <p className="field-error">{problemAt('errorThreshold')}</p> : null}
      </div>
      {error ? <ErrorNotice error={error} title="The plan was refused" /> : null}
      <div>
        <button type="submit" className="primary" disabled={busy}>
          Create plan
        </button>
      </div>
    </form>
  );
}
