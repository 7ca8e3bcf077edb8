import React from 'react';
import { flat } from 'adminjs';

/** A trace id on an event, a log or an LLM call: a link to its trace page. */
const TraceLink = ({ property, record, where }) => {
  const value = flat.get(record.params, property.path);
  if (!value) return where === 'show' ? <div style={{ marginBottom: 24 }}>—</div> : <span>—</span>;
  const link = (
    <a
      data-trace-link
      href={`/admin/pages/trace?trace=${encodeURIComponent(value)}`}
      style={{ color: '#c2185b', fontFamily: 'ui-monospace, Menlo, Consolas, monospace' }}
    >
      {where === 'list' ? `${String(value).slice(0, 8)}…` : value}
    </a>
  );
  if (where !== 'show') return link;
  return (
    <div style={{ marginBottom: 24 }}>
      <div style={{ fontSize: 12, textTransform: 'uppercase', color: '#8a5a70', marginBottom: 4 }}>{property.label}</div>
      {link} <span style={{ fontSize: 12, color: '#8a5a70' }}>(open the trace: its spans, errors, logs and LLM calls)</span>
    </div>
  );
};

export default TraceLink;
