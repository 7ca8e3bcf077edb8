import React, { useEffect, useState } from 'react';
import { ApiClient } from 'adminjs';
import { LEVEL_COLORS } from './charts';

const api = new ApiClient();
const MARK = { error: '#c92a2a', log: '#5c7cfa', llm_call: '#9c36b5' };
const mono = 'ui-monospace, Menlo, Consolas, monospace';

const traceFromUrl = () => new URLSearchParams(window.location.search).get('trace') || '';

/** A trace's waterfall: one row per span (indented by depth), with its errors, logs and LLM calls marked where they happened. */
const Trace = () => {
  const [id, setId] = useState(traceFromUrl());
  const [input, setInput] = useState(traceFromUrl());
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [open, setOpen] = useState(null);

  useEffect(() => {
    if (!id) return;
    setData(null);
    setError(null);
    api
      .getPage({ pageName: 'trace', params: { trace: id } })
      .then(({ data: d }) => (d.error ? setError(d.error) : setData(d)))
      .catch(() => setError('Cannot reach the server'));
  }, [id]);

  const go = (e) => {
    e.preventDefault();
    const next = input.trim();
    window.history.replaceState(null, '', `${window.location.pathname}?trace=${encodeURIComponent(next)}`);
    setId(next);
  };

  const start = data && data.start_time ? Date.parse(data.start_time) : 0;
  const total = data ? Math.max(data.duration_ms || 0, 0.001) : 1;
  const at = (iso) => Math.min(100, Math.max(0, ((Date.parse(iso) - start) / total) * 100));
  const items = data
    ? [
        ...data.errors.map((e) => ({
          ...e,
          type: 'error',
          label: `${e.exception_type || e.level}: ${e.message}`,
          href: `/admin/resources/Event/records/${e.id}/show`,
        })),
        ...data.logs.map((l) => ({
          ...l,
          type: 'log',
          label: `${l.severity} ${l.message}`,
          href: `/admin/resources/Log/records/${l.id}/show`,
        })),
        ...data.llm_calls.map((c) => ({
          ...c,
          type: 'llm_call',
          label: `${c.model || 'LLM call'} · ${c.total_tokens ?? '?'} tokens${c.cost !== null ? ` · $${c.cost.toFixed(6)}` : ''}${c.error ? ` · ${c.error}` : ''}`,
          href: `/admin/resources/LlmLog/records/${c.id}/show`,
        })),
      ].sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1))
    : [];
  const onSpan = (spanId) => items.filter((i) => i.span_id === spanId);
  const spanIds = new Set(data ? data.spans.map((s) => s.span_id) : []);
  const loose = items.filter((i) => !i.span_id || !spanIds.has(i.span_id));

  const marker = (i) => (
    <a
      key={`${i.type}-${i.id}`}
      href={i.href}
      title={i.label}
      {...{ [`data-trace-${i.type === 'llm_call' ? 'llm' : i.type}`]: i.id }}
      style={{
        position: 'absolute',
        left: `calc(${at(i.timestamp)}% - 5px)`,
        top: 3,
        width: 10,
        height: 10,
        borderRadius: i.type === 'log' ? 2 : 5,
        background: MARK[i.type],
        border: '1px solid #fff',
      }}
    />
  );

  return (
    <div style={{ padding: 24 }}>
      <div style={{ display: 'flex', alignItems: 'center', gap: 16, flexWrap: 'wrap', marginBottom: 16 }}>
        <h2 style={{ fontSize: 22, fontWeight: 700, color: '#4a1030' }}>Trace</h2>
        <form onSubmit={go} style={{ display: 'flex', gap: 8 }}>
          <input
            name="trace"
            value={input}
            onChange={(e) => setInput(e.target.value)}
            placeholder="trace id (32 hex characters)"
            style={{ width: 320, padding: '6px 8px', border: '1px solid #f3b6cc', borderRadius: 6, fontFamily: mono }}
          />
          <button
            type="submit"
            style={{ background: '#d6336c', color: '#fff', border: 0, borderRadius: 6, padding: '6px 12px', cursor: 'pointer' }}
          >
            Open
          </button>
        </form>
      </div>
      {!id ? <p>Open a trace by its id, or follow a trace link from an event, a log or an LLM call.</p> : null}
      {error ? (
        <p data-trace-error-message style={{ color: '#c92a2a' }}>
          {error}
        </p>
      ) : null}
      {id && !data && !error ? <p>Loading…</p> : null}
      {data ? (
        <div data-trace={data.trace_id}>
          <div style={{ display: 'flex', gap: 24, flexWrap: 'wrap', fontSize: 13, marginBottom: 12, color: '#4a1030' }}>
            <span style={{ fontFamily: mono }}>{data.trace_id}</span>
            <span>{data.duration_ms !== null ? `${data.duration_ms.toFixed(1)} ms` : ''}</span>
            <span>{data.services.join(', ')}</span>
            <span data-trace-counts>
              {data.counts.spans} spans · {data.counts.errors} errors · {data.counts.logs} logs · {data.counts.llm_calls} LLM calls
            </span>
            {Object.values(data.truncated).some(Boolean) ? <span style={{ color: '#c92a2a' }}>(truncated)</span> : null}
          </div>
          <div style={{ background: '#fff', border: '1px solid #f3b6cc', borderRadius: 10, padding: 8 }}>
            {data.spans.map((s) => (
              <div key={s.span_id}>
                <div
                  data-trace-span={s.span_id}
                  onClick={() => setOpen(open === s.span_id ? null : s.span_id)}
                  style={{
                    display: 'flex',
                    alignItems: 'center',
                    gap: 8,
                    padding: '2px 0',
                    cursor: 'pointer',
                    borderBottom: '1px solid #fbe3ec',
                  }}
                >
                  <div
                    style={{
                      width: 320,
                      paddingLeft: Math.min(s.depth, 20) * 14,
                      fontSize: 12.5,
                      whiteSpace: 'nowrap',
                      overflow: 'hidden',
                      textOverflow: 'ellipsis',
                    }}
                    title={s.name}
                  >
                    <span style={{ color: s.status_code === 'error' ? '#c92a2a' : '#4a1030', fontWeight: s.depth === 0 ? 700 : 400 }}>
                      {s.name || '(unnamed)'}
                    </span>
                    <span style={{ color: '#8a5a70', marginLeft: 6 }}>{s.service || ''}</span>
                  </div>
                  <div style={{ position: 'relative', flex: 1, height: 16 }}>
                    <div
                      style={{
                        position: 'absolute',
                        left: `${(s.offset_ms / total) * 100}%`,
                        width: `max(2px, ${(s.duration_ms / total) * 100}%)`,
                        top: 4,
                        height: 8,
                        borderRadius: 3,
                        background: s.status_code === 'error' ? '#ff8787' : s.kind === 'server' ? '#d6336c' : '#f783ac',
                      }}
                    />
                    {onSpan(s.span_id).map(marker)}
                  </div>
                  <div style={{ width: 80, textAlign: 'right', fontSize: 12, fontFamily: mono }}>{s.duration_ms.toFixed(2)} ms</div>
                </div>
                {open === s.span_id ? (
                  <pre
                    style={{
                      background: '#2b1020',
                      color: '#fde8f0',
                      fontSize: 11.5,
                      padding: 8,
                      borderRadius: 6,
                      overflow: 'auto',
                      maxHeight: 240,
                    }}
                  >
                    {JSON.stringify(
                      { kind: s.kind, status: s.status_code, status_message: s.status_message, attributes: s.attributes, events: s.events },
                      null,
                      2,
                    )}
                  </pre>
                ) : null}
              </div>
            ))}
            {loose.length ? (
              <div style={{ display: 'flex', alignItems: 'center', gap: 8, padding: '2px 0' }}>
                <div style={{ width: 320, fontSize: 12.5, color: '#8a5a70' }}>(not on a span)</div>
                <div style={{ position: 'relative', flex: 1, height: 16 }}>{loose.map(marker)}</div>
                <div style={{ width: 80 }} />
              </div>
            ) : null}
          </div>
          <h3 style={{ fontSize: 16, fontWeight: 700, color: '#4a1030', margin: '20px 0 8px' }}>
            Errors, logs and LLM calls, in time order
          </h3>
          <div data-trace-items>
            {items.length === 0 ? <p style={{ color: '#8a5a70' }}>None on this trace.</p> : null}
            {items.map((i) => (
              <div
                key={`${i.type}-${i.id}`}
                style={{ display: 'flex', gap: 10, fontSize: 12.5, padding: '3px 0', borderBottom: '1px solid #fbe3ec' }}
              >
                <span style={{ fontFamily: mono, opacity: 0.7, whiteSpace: 'nowrap' }}>
                  {String(i.timestamp).replace('T', ' ').slice(0, 23)}
                </span>
                <span style={{ color: MARK[i.type], fontWeight: 700, width: 70 }}>{i.type === 'llm_call' ? 'LLM' : i.type}</span>
                <a
                  href={i.href}
                  style={{
                    color: i.type === 'error' ? LEVEL_COLORS.error : '#4a1030',
                    flex: 1,
                    textDecoration: 'none',
                    wordBreak: 'break-word',
                  }}
                >
                  {i.label}
                </a>
              </div>
            ))}
          </div>
        </div>
      ) : null}
    </div>
  );
};

export default Trace;
