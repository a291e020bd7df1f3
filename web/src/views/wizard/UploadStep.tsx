// Wizard step 1: upload a CSV (streamed, with a progress bar), then preview its first rows and
// the columns enrichd recognised.
import { type FormEvent, useState } from 'react';
import type { ImportedList, ListEntry, Page } from '../../api/types';
import { useServices } from '../../app-context';
import { Bar } from '../../components/ProgressBar';
import { Empty, ErrorNotice, Loading } from '../../components/States';
import { bytes, count } from '../../lib/format';
import { useLoad } from '../../lib/use-load';

const PREVIEW_ROWS = 10;

/** The file form; onUploaded gets the list as imported. */
export function UploadForm({ onUploaded }: { onUploaded(list: ImportedList): void }) {
  const { api } = useServices();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [fraction, setFraction] = useState<number | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setError(null);
    setFraction(0);
    try {
      const listName = name.trim() || file.name;
      const list = await api.upload<ImportedList>(`/v1/lists?name=${encodeURIComponent(listName)}`, file, 'text/csv', setFraction);
      onUploaded(list);
    } catch (err) {
      setError(err as Error);
      setFraction(null);
    }
  };
  const uploading = fraction !== null && error === null;
  return (
    <form onSubmit={(e) => void submit(e)} className="stack">
      <div className="field">
        <label htmlFor="csv-file">CSV file (a header row, then one row per person)</label>
        <input
          id="csv-file"
          type="file"
          accept=".csv,text/csv"
          onChange={(e) => {
            setFile(e.target.files?.[0] ?? null);
            setError(null);
          }}
          aria-describedby="csv-help"
        />
        <p id="csv-help" className="help">
          Recognised columns include first_name, last_name, email, phone, country, company, domain and the contact_* columns that RPC scoring compares; others are kept and exported.
        </p>
      </div>
      <div className="field">
        <label htmlFor="list-name">List name (optional)</label>
        <input id="list-name" type="text" maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder={file?.name ?? ''} />
      </div>
      {file ? <p className="muted">{`${file.name}, ${bytes(file.size)}`}</p> : null}
      {fraction !== null ? (
        <div className="upload-progress">
          <Bar fraction={fraction} label="Upload progress" />
          <span aria-live="polite">{fraction < 1 ? `Uploading… ${Math.round(fraction * 100)}%` : 'Uploaded; importing…'}</span>
        </div>
      ) : null}
      {error ? <ErrorNotice error={error} title="The file was refused" /> : null}
      <div>
        <button type="submit" className="primary" disabled={!file || uploading}>
          Upload
        </button>
      </div>
    </form>
  );
}

/** The list's recognised columns and its first rows. */
export function ListPreview({ list }: { list: ImportedList }) {
  const { api } = useServices();
  const entries = useLoad((signal) => api.get<Page<ListEntry>>(`/v1/lists/${list.id}/entries?limit=${PREVIEW_ROWS}`, signal), [list.id]);
  const names = list.columns.map((c) => c.name);
  return (
    <div className="stack">
      <p>
        <strong>{list.name}</strong>: {count(list.entryCount)} entries, {list.columns.length} columns.
      </p>
      <h3>Columns</h3>
      <ul className="columns">
        {list.columns.map((c) => (
          <li key={c.name}>
            <code>{c.name}</code> {c.mappedTo ? <span className="recognised">recognised as {c.mappedTo}</span> : <span className="muted">kept as is</span>}
          </li>
        ))}
      </ul>
      <h3>First rows</h3>
      {entries.error ? <ErrorNotice error={entries.error} title="The rows could not be read" onRetry={entries.reload} /> : null}
      {entries.loading && !entries.data ? <Loading label="Loading the first rows…" /> : null}
      {entries.data && entries.data.items.length === 0 ? <Empty>The list has no entries.</Empty> : null}
      {entries.data && entries.data.items.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="First rows of the list">
          <table className="preview">
            <thead>
              <tr>
                {names.map((n) => (
                  <th key={n} scope="col">
                    {n}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {entries.data.items.map((e) => (
                <tr key={e.id}>
                  {names.map((n) => (
                    <td key={n}>{e.data[n] === null || e.data[n] === undefined ? '' : String(e.data[n])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
