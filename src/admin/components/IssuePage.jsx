import React, { useCallback, useEffect, useState } from 'react';
import { ApiClient, useNotice } from 'adminjs';
import { colorFor, LEVEL_COLORS } from './charts';

// The issue page: what a developer needs to fix the bug, and the workflow. Everything
// comes from one record action (`triage`) that calls the same domain code as
// GET /api/issues/{id}/summary/; changes are POSTed to it.

const api = new ApiClient();
const pink = '#c2185b';
const muted = '#8a6d7a';
const mono = 'ui-monospace, Menlo, Consolas, monospace';
const card = {
  background: '#fff',
  borderRadius: 12,
  padding: 18,
  boxShadow: '0 1px 3px rgba(194,24,91,.12)',
  marginBottom: 18,
  minWidth: 0,
};
const h3 = { fontSize: 14, fontWeight: 600, color: '#4a1030', margin: '0 0 10px' };
const btn = {
  border: `1px solid ${pink}`,
  background: '#fff',
  color: pink,
  borderRadius: 6,
  padding: '5px 10px',
  fontSize: 13,
  cursor: 'pointer',
  marginRight: 6,
  marginBottom: 6,
};
const btnSolid = { ...btn, background: pink, color: '#fff' };
const input = { border: '1px solid #f3b6cc', borderRadius: 6, padding: '4px 8px', fontSize: 13, marginRight: 6 };
const pill = (bg, fg = '#fff') => ({
  display: 'inline-block',
  background: bg,
  color: fg,
  borderRadius: 10,
  padding: '2px 8px',
  fontSize: 12,
  fontWeight: 600,
  marginRight: 6,
});
const when = (t) => (t ? new Date(t).toLocaleString() : '—');

function Section({ title, name, children, right }) {
  return (
    <section style={card} data-section={name}>
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'baseline' }}>
        <h3 style={h3}>{title}</h3>
        {right}
      </div>
      {children}
    </section>
  );
}

function KeyValues({ data, name }) {
  const entries = Object.entries(data || {});
  if (!entries.length) return <div style={{ color: muted, fontSize: 13 }}>—</div>;
  return (
    <table style={{ fontSize: 13, borderCollapse: 'collapse', width: '100%' }} data-kv={name}>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k} style={{ borderTop: '1px solid #fbe3ec' }}>
            <td style={{ color: muted, padding: '3px 12px 3px 0', verticalAlign: 'top', whiteSpace: 'nowrap' }}>{k}</td>
            <td style={{ fontFamily: mono, padding: '3px 0', wordBreak: 'break-all' }}>
              {typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Frequency({ frequency }) {
  const [period, setPeriod] = useState('24h');
  const buckets = frequency[period] || [];
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const w = 640 / Math.max(1, buckets.length);
  return (
    <Section
      title="Events"
      name="frequency"
      right={
        <span>
          {['24h', '30d'].map((p) => (
            <button key={p} type="button" data-period={p} style={p === period ? btnSolid : btn} onClick={() => setPeriod(p)}>
              {p}
            </button>
          ))}
        </span>
      }
    >
      <svg
        data-chart={`frequency-${period}`}
        viewBox="0 0 640 90"
        width="100%"
        role="img"
        aria-label={`events per ${period === '24h' ? 'hour' : 'day'}`}
      >
        {buckets.map((b, i) => {
          const h = (b.count / max) * 80;
          return (
            <rect
              key={b.t}
              data-bucket={b.t}
              x={i * w + 1}
              y={86 - h}
              width={Math.max(1, w - 2)}
              height={h}
              fill={pink}
              opacity={b.count ? 0.85 : 0.15}
            >
              <title>{`${new Date(b.t).toLocaleString()}: ${b.count}`}</title>
            </rect>
          );
        })}
      </svg>
    </Section>
  );
}

function Facets({ facets }) {
  return (
    <Section title={`Tags (latest ${facets.sampled.toLocaleString()} events)`} name="facets">
      {facets.facets.length ? null : <div style={{ color: muted, fontSize: 13 }}>No tags</div>}
      {facets.facets.map((f) => (
        <div key={f.key} data-facet={f.key} style={{ marginBottom: 10 }}>
          <div style={{ fontSize: 12, fontWeight: 600, color: '#4a1030' }}>{f.key}</div>
          {f.top.map((v, i) => (
            <div
              key={v.value}
              data-facet-value={v.value}
              data-share={v.share}
              style={{ display: 'flex', alignItems: 'center', fontSize: 12, margin: '2px 0' }}
            >
              <div
                style={{ width: 140, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', fontFamily: mono }}
                title={v.value}
              >
                {v.value}
              </div>
              <div style={{ flex: 1, background: '#fdf0f5', borderRadius: 3, height: 10, margin: '0 8px' }}>
                <div style={{ width: `${v.share}%`, background: colorFor(v.value, i), height: 10, borderRadius: 3 }} />
              </div>
              <div style={{ width: 70, textAlign: 'right', color: muted }}>
                {v.share}% ({v.count})
              </div>
            </div>
          ))}
        </div>
      ))}
    </Section>
  );
}

function Code({ frame }) {
  if (frame.context_line === undefined) return null;
  const start = (frame.lineno || 0) - (frame.pre_context || []).length;
  const lines = [...(frame.pre_context || []), frame.context_line, ...(frame.post_context || [])];
  const at = (frame.pre_context || []).length;
  return (
    <pre
      data-context
      style={{
        fontFamily: mono,
        fontSize: 12,
        margin: '6px 0 0',
        background: '#fff8fb',
        border: '1px solid #fbe3ec',
        borderRadius: 6,
        overflow: 'auto',
      }}
    >
      {lines.map((l, i) => (
        <div
          key={i}
          data-context-line={i === at ? 'current' : undefined}
          style={{ padding: '0 8px', background: i === at ? '#fde2ec' : undefined }}
        >
          <span style={{ color: muted, display: 'inline-block', width: 44, userSelect: 'none' }}>{start + i}</span>
          {l}
        </div>
      ))}
    </pre>
  );
}

function Frame({ frame }) {
  const [open, setOpen] = useState(frame.in_app !== false);
  const where = `${frame.filename || frame.abs_path || frame.module || '?'}${frame.lineno ? `:${frame.lineno}` : ''}${frame.colno ? `:${frame.colno}` : ''}`;
  const m = frame.minified;
  return (
    <div
      data-frame
      data-in-app={frame.in_app ? 'true' : 'false'}
      style={{
        borderLeft: `3px solid ${frame.in_app ? pink : '#eee'}`,
        padding: '6px 10px',
        marginBottom: 4,
        background: frame.in_app ? '#fff' : '#fafafa',
      }}
    >
      <div style={{ fontSize: 13, cursor: 'pointer' }} onClick={() => setOpen(!open)}>
        <span style={{ fontFamily: mono, fontWeight: frame.in_app ? 600 : 400 }} data-frame-location>
          {where}
        </span>
        <span style={{ color: muted }}> in </span>
        <span style={{ fontFamily: mono }} data-frame-function>
          {frame.function || '?'}
        </span>
        {frame.in_app ? <span style={pill('#fde2ec', pink)}>in app</span> : null}
        {m ? (
          <span data-minified style={{ color: muted, fontSize: 12, marginLeft: 8, fontFamily: mono }}>
            (minified: {(m.filename || m.abs_path || '?').split('/').pop()}:{m.lineno}:{m.colno}
            {m.function ? ` in ${m.function}` : ''})
          </span>
        ) : null}
      </div>
      {open ? <Code frame={frame} /> : null}
      {open && frame.vars ? (
        <div style={{ marginTop: 6 }}>
          <KeyValues data={frame.vars} name="vars" />
        </div>
      ) : null}
    </div>
  );
}

function Exceptions({ data }) {
  const chain = [...(data.exceptions || [])].reverse(); // the one raised last first, then its causes
  if (!chain.length) return null;
  return (
    <div data-exceptions>
      {chain.map((x, i) => (
        <div key={i} data-exception={x.type} style={{ marginBottom: 14 }}>
          {i > 0 ? <div style={{ color: muted, fontSize: 12, margin: '4px 0' }}>caused by</div> : null}
          <div style={{ fontSize: 15, fontWeight: 600 }}>
            {x.type || 'Error'}
            {x.value ? <span style={{ fontWeight: 400 }}>: {x.value}</span> : null}
          </div>
          {x.mechanism ? (
            <div style={{ fontSize: 12, margin: '4px 0' }} data-mechanism={x.mechanism.type}>
              <span style={pill(x.mechanism.handled === false ? '#9d0b43' : '#37b24d')}>
                {x.mechanism.handled === false ? 'unhandled' : 'handled'}
              </span>
              <span style={{ color: muted }}>mechanism: {x.mechanism.type || '—'}</span>
            </div>
          ) : null}
          <div style={{ marginTop: 6 }}>
            {[...x.frames].reverse().map((f, j) => (
              <Frame key={j} frame={f} />
            ))}
            {x.frames_omitted ? <div style={{ color: muted, fontSize: 12 }}>{x.frames_omitted} frames omitted</div> : null}
          </div>
        </div>
      ))}
    </div>
  );
}

function Breadcrumbs({ crumbs }) {
  if (!crumbs || !crumbs.length) return <div style={{ color: muted, fontSize: 13 }}>No breadcrumbs</div>;
  return (
    <table style={{ fontSize: 12, borderCollapse: 'collapse', width: '100%' }}>
      <tbody>
        {crumbs.map((b, i) => (
          <tr key={i} data-breadcrumb={b.category || b.type || 'default'} style={{ borderTop: '1px solid #fbe3ec' }}>
            <td style={{ color: muted, padding: '3px 8px 3px 0', whiteSpace: 'nowrap' }}>
              {b.timestamp ? new Date(b.timestamp).toLocaleTimeString() : ''}
            </td>
            <td style={{ padding: '3px 8px', whiteSpace: 'nowrap' }}>{b.category || b.type || ''}</td>
            <td style={{ padding: '3px 8px', color: LEVEL_COLORS[b.level] || '#333' }}>{b.level || ''}</td>
            <td style={{ padding: '3px 0', fontFamily: mono, wordBreak: 'break-all' }}>
              {b.message || ''}
              {b.data ? <span style={{ color: muted }}> {JSON.stringify(b.data)}</span> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Workflow({ page, post, busy }) {
  const [release, setRelease] = useState('');
  const [count, setCount] = useState('100');
  const [until, setUntil] = useState('');
  const [comment, setComment] = useState('');
  const i = page.issue;
  if (!page.permissions.triage)
    return (
      <div style={{ color: muted, fontSize: 13 }} data-readonly>
        You can read this issue; members and up can triage it.
      </div>
    );
  return (
    <div data-workflow>
      <div>
        {i.status !== 'resolved' ? (
          <>
            <button type="button" style={btnSolid} disabled={busy} data-action="resolve" onClick={() => post({ status: 'resolved' })}>
              Resolve
            </button>
            <button
              type="button"
              style={btn}
              disabled={busy}
              data-action="resolve-next"
              onClick={() => post({ status: 'resolved', resolution: 'in_next_release' })}
            >
              Resolve in next release
            </button>
            <input
              style={{ ...input, width: 130 }}
              placeholder="release"
              value={release}
              onChange={(e) => setRelease(e.target.value)}
              data-input="release"
            />
            <button
              type="button"
              style={btn}
              disabled={busy || !release}
              data-action="resolve-in"
              onClick={() => post({ status: 'resolved', resolution: 'in_release', release })}
            >
              Resolve in release
            </button>
          </>
        ) : null}
        {i.status !== 'unresolved' ? (
          <button type="button" style={btnSolid} disabled={busy} data-action="reopen" onClick={() => post({ status: 'unresolved' })}>
            Reopen
          </button>
        ) : null}
      </div>
      {i.status !== 'ignored' ? (
        <div>
          <button type="button" style={btn} disabled={busy} data-action="ignore" onClick={() => post({ status: 'ignored' })}>
            Ignore
          </button>
          <input style={{ ...input, width: 70 }} value={count} onChange={(e) => setCount(e.target.value)} data-input="ignore-count" />
          <button
            type="button"
            style={btn}
            disabled={busy}
            data-action="ignore-count"
            onClick={() => post({ status: 'ignored', ignore_count: count })}
          >
            Ignore for N events
          </button>
          <input style={input} type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} data-input="ignore-until" />
          <button
            type="button"
            style={btn}
            disabled={busy || !until}
            data-action="ignore-until"
            onClick={() => post({ status: 'ignored', ignore_until: new Date(until).toISOString() })}
          >
            Ignore until
          </button>
        </div>
      ) : null}
      <div style={{ marginTop: 6 }}>
        <textarea
          style={{ ...input, width: '70%', height: 44, verticalAlign: 'top' }}
          placeholder="Comment"
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          data-input="comment"
        />
        <button
          type="button"
          style={btn}
          disabled={busy || !comment.trim()}
          data-action="comment"
          onClick={() => post({ comment }).then(() => setComment(''))}
        >
          Comment
        </button>
      </div>
    </div>
  );
}

const ACTIVITY = {
  resolved: (d) =>
    `resolved${d.resolution === 'in_release' ? ` in ${d.release}` : d.resolution === 'in_next_release' ? ' in the next release' : ''}`,
  unresolved: () => 'reopened',
  ignored: (d) => `ignored${d.count ? ` for ${d.count} events` : d.until ? ` until ${when(d.until)}` : ''}`,
  assigned: (d) => `assigned to ${d.email || d.assignee}`,
  unassigned: () => 'unassigned',
  note: (d) => `commented: ${d.text}`,
  regressed: (d) => `regressed${d.release ? ` in ${d.release}` : ''}`,
  unignored: () => 'came back after being ignored',
};

function Activity({ activity }) {
  if (!activity.length) return <div style={{ color: muted, fontSize: 13 }}>Nothing yet</div>;
  return (
    <ul style={{ listStyle: 'none', padding: 0, margin: 0, fontSize: 13 }}>
      {activity.map((a) => (
        <li key={a.id} data-activity={a.kind} style={{ borderTop: '1px solid #fbe3ec', padding: '4px 0' }}>
          <b>{a.user ? a.user.name || a.user.email : 'Faultline'}</b> {(ACTIVITY[a.kind] || (() => a.kind))(a.data || {})}
          <span style={{ color: muted, marginLeft: 8, fontSize: 12 }}>{when(a.created_at)}</span>
        </li>
      ))}
    </ul>
  );
}

const IssuePage = ({ resource, record }) => {
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const sendNotice = useNotice();
  const load = useCallback(
    (event) =>
      api
        .recordAction({ resourceId: resource.id, recordId: record.id, actionName: 'triage', params: event ? { event } : undefined })
        .then((r) => setPage(r.data.page))
        .catch((e) => setError(String(e.message || e))),
    [resource.id, record.id],
  );
  useEffect(() => {
    load();
  }, [load]);
  const post = async (data) => {
    setBusy(true);
    try {
      const r = await api.recordAction({ resourceId: resource.id, recordId: record.id, actionName: 'triage', method: 'post', data });
      if (r.data.notice) sendNotice(r.data.notice);
      if (r.data.page) setPage(r.data.page);
    } finally {
      setBusy(false);
    }
  };
  if (error)
    return (
      <div style={card} data-issue-page="error">
        {error}
      </div>
    );
  if (!page) return <div style={card}>Loading…</div>;
  const i = page.issue;
  const e = page.latest_event;
  const data = (e && e.data) || {};
  return (
    <div data-issue-page="ready" style={{ padding: '0 4px' }}>
      <section style={card} data-section="header">
        <div style={{ fontSize: 20, fontWeight: 700, color: '#4a1030', wordBreak: 'break-word' }} data-issue-title>
          {i.title}
        </div>
        <div style={{ fontFamily: mono, color: muted, fontSize: 13, margin: '4px 0 8px' }} data-issue-culprit>
          {i.culprit || ''}
        </div>
        <div style={{ marginBottom: 10 }}>
          <span style={pill(LEVEL_COLORS[i.level] || '#999')} data-issue-level>
            {i.level}
          </span>
          {data.handled === false ? (
            <span style={pill('#9d0b43')} data-handled="false">
              unhandled
            </span>
          ) : data.handled === true ? (
            <span style={pill('#37b24d')} data-handled="true">
              handled
            </span>
          ) : null}
          <span
            style={pill(i.status === 'resolved' ? '#37b24d' : i.status === 'ignored' ? '#9e9aa8' : '#f2a93b')}
            data-issue-status={i.status}
          >
            {i.status}
          </span>
          {i.substatus ? (
            <span style={pill('#fde2ec', pink)} data-issue-substatus={i.substatus}>
              {i.substatus}
            </span>
          ) : null}
          {i.resolution && i.status === 'resolved' ? (
            <span style={{ color: muted, fontSize: 12 }}>
              {i.resolution === 'in_release'
                ? `in ${i.resolved_in_release}`
                : i.resolution === 'in_next_release'
                  ? `in the release after ${i.resolved_in_release || '(none yet)'}`
                  : ''}
            </span>
          ) : null}
          <span style={{ marginLeft: 12, fontSize: 13 }}>
            Assignee{' '}
            <select
              data-input="assignee"
              style={input}
              disabled={!page.permissions.triage || busy}
              value={i.assignee === null ? 'none' : String(i.assignee)}
              onChange={(ev) => post({ assignee: ev.target.value })}
            >
              <option value="none">nobody</option>
              {page.members.map((m) => (
                <option key={m.id} value={String(m.id)}>
                  {m.name || m.email}
                </option>
              ))}
            </select>
          </span>
        </div>
        <div style={{ display: 'flex', gap: 28, fontSize: 13, flexWrap: 'wrap' }}>
          <div>
            <div style={{ color: muted }}>Events</div>
            <b data-count="events">{i.times_seen.toLocaleString()}</b>
          </div>
          <div>
            <div style={{ color: muted }}>Users</div>
            <b data-count="users">{i.users_seen.toLocaleString()}</b>
          </div>
          <div>
            <div style={{ color: muted }}>First seen</div>
            <span data-first-seen>{when(i.first_seen)}</span>
            {i.first_release ? <span style={{ color: muted }}> in {i.first_release}</span> : null}
          </div>
          <div>
            <div style={{ color: muted }}>Last seen</div>
            <span data-last-seen>{when(i.last_seen)}</span>
            {i.last_release ? <span style={{ color: muted }}> in {i.last_release}</span> : null}
          </div>
        </div>
        <div style={{ marginTop: 12 }}>
          <Workflow page={page} post={post} busy={busy} />
        </div>
      </section>
      <div style={{ display: 'grid', gridTemplateColumns: 'minmax(0, 2fr) minmax(280px, 1fr)', gap: 18 }}>
        <div>
          {e ? (
            <Section
              title={`Event ${e.event_id.slice(0, 12)} · ${when(e.timestamp)}${e.release ? ` · ${e.release}` : ''}`}
              name="event"
              right={
                <span>
                  <button
                    type="button"
                    style={btn}
                    disabled={!e.previous_event_id}
                    data-nav="older"
                    onClick={() => load(e.previous_event_id)}
                  >
                    Older
                  </button>
                  <button type="button" style={btn} disabled={!e.next_event_id} data-nav="newer" onClick={() => load(e.next_event_id)}>
                    Newer
                  </button>
                  <button type="button" style={btn} disabled={!e.next_event_id} data-nav="latest" onClick={() => load()}>
                    Latest
                  </button>
                </span>
              }
            >
              <div data-event-id={e.event_id} />
              {e.mapped_at_view ? (
                <div style={{ color: muted, fontSize: 12, marginBottom: 6 }}>
                  Source maps applied when viewed (uploaded after this event).
                </div>
              ) : null}
              {data.exceptions && data.exceptions.length ? (
                <Exceptions data={data} />
              ) : (
                <pre style={{ fontFamily: mono, fontSize: 12, whiteSpace: 'pre-wrap' }}>{e.stacktrace || e.message}</pre>
              )}
            </Section>
          ) : null}
          <Section title="Breadcrumbs" name="breadcrumbs">
            <Breadcrumbs crumbs={data.breadcrumbs} />
          </Section>
          {data.request ? (
            <Section title="Request" name="request">
              <div style={{ fontFamily: mono, fontSize: 13, marginBottom: 6 }}>
                {data.request.method || ''} {data.request.url || ''}
              </div>
              <KeyValues data={data.request.headers} name="headers" />
            </Section>
          ) : null}
          <Section title="User" name="user">
            <KeyValues data={data.user} name="user" />
          </Section>
          {Object.entries(data.contexts || {}).map(([k, v]) => (
            <Section key={k} title={k} name={`context-${k}`}>
              <KeyValues data={v} name={k} />
            </Section>
          ))}
          {e && e.attachments && e.attachments.length ? (
            <Section title="Attachments" name="attachments">
              {e.attachments.map((a) => (
                <div key={a.id} data-attachment={a.name} style={{ fontSize: 13 }}>
                  <a
                    style={{ color: pink }}
                    href={`/admin/attachments/${encodeURIComponent(e.project)}/${encodeURIComponent(e.event_id)}/${encodeURIComponent(a.id)}`}
                    download
                  >
                    {a.name}
                  </a>
                  <span style={{ color: muted }}>
                    {' '}
                    · {a.size.toLocaleString()} bytes · {a.content_type}
                  </span>
                </div>
              ))}
            </Section>
          ) : null}
        </div>
        <div>
          <Frequency frequency={page.frequency} />
          <Facets facets={page.facets} />
          <Section title="Activity" name="activity">
            <Activity activity={page.activity} />
          </Section>
          {data.sdk ? (
            <Section title="SDK" name="sdk">
              <KeyValues data={{ name: data.sdk.name, version: data.sdk.version }} name="sdk" />
            </Section>
          ) : null}
        </div>
      </div>
    </div>
  );
};

export default IssuePage;
