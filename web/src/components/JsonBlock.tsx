// JSON shown as wrapped, preformatted text (wrapping keeps the page from scrolling sideways).

/** A labelled block of pretty-printed JSON. */
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" role="region" aria-label={label} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}
