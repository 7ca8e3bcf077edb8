import React, { useEffect, useState } from 'react';
import { ApiClient } from 'adminjs';
import { HBars, Legend, StackedBars } from './charts';

const api = new ApiClient();
const hour = (t) => new Date(new Date(t).getTime() - 3600e3).toISOString().slice(11, 16);
const day = (t) => new Date(new Date(t).getTime() - 86400e3).toISOString().slice(5, 10);
const sum = (series) => series.reduce((a, s) => a + Object.values(s.values).reduce((x, y) => x + y, 0), 0);

const card = { background: '#fff', borderRadius: 12, padding: 20, boxShadow: '0 1px 3px rgba(194,24,91,.12)', minWidth: 0 };
const grid = { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(420px, 1fr))', gap: 20 };

function Card({ title, total, children, name }) {
  return (
    <section style={card} data-card={name}>
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'baseline', marginBottom: 10 }}>
        <h3 style={{ fontSize: 15, fontWeight: 600, color: '#4a1030' }}>{title}</h3>
        {total !== undefined ? <span style={{ fontSize: 22, fontWeight: 700, color: '#d6336c' }}>{total.toLocaleString()}</span> : null}
      </div>
      {children}
    </section>
  );
}

function QueueHealth({ queues, isStaff }) {
  return (
    <Card title="Queue health" name="queues">
      <table data-chart="queue-health" style={{ width: '100%', fontSize: 13, borderCollapse: 'collapse' }}>
        <thead>
          <tr style={{ color: '#8a6d7a', textAlign: 'right' }}>
            <th style={{ textAlign: 'left' }}>queue</th>
            <th>waiting</th>
            <th>active</th>
            <th>delayed</th>
            <th>failed</th>
            <th>ingest lag</th>
          </tr>
        </thead>
        <tbody>
          {queues.map((q) => (
            <tr key={q.queue} style={{ textAlign: 'right', borderTop: '1px solid #fbe3ec' }}>
              <td style={{ textAlign: 'left', padding: '6px 0', fontWeight: 600 }}>{q.queue}</td>
              <td>{q.waiting}</td>
              <td>{q.active}</td>
              <td>{q.delayed}</td>
              <td style={{ color: q.failed ? '#c2185b' : undefined, fontWeight: q.failed ? 700 : 400 }}>{q.failed}</td>
              <td style={{ color: q.lagSeconds > 60 ? '#c2185b' : undefined }}>{q.lagSeconds}s</td>
            </tr>
          ))}
        </tbody>
      </table>
      {isStaff ? (
        <p style={{ marginTop: 10, fontSize: 13 }}>
          <a href="/admin/queues" style={{ color: '#c2185b' }}>
            Open the queue monitor →
          </a>{' '}
          (failed jobs, retry, remove)
        </p>
      ) : null}
    </Card>
  );
}

const gb = (n) => `${(n / 1024 ** 3).toFixed(n >= 10 * 1024 ** 3 ? 0 : 1)} GB`;

function Refused({ rows }) {
  return (
    <Card title="Refused by quotas, today (UTC)" total={rows.reduce((a, r) => a + r.count, 0)} name="refused">
      {rows.length ? (
        <table data-chart="quota-refused" style={{ width: '100%', fontSize: 13, borderCollapse: 'collapse' }}>
          <thead>
            <tr style={{ color: '#8a6d7a', textAlign: 'left' }}>
              <th>project</th>
              <th>category</th>
              <th>reason</th>
              <th style={{ textAlign: 'right' }}>refused</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.project_id}:${r.category}:${r.reason}`} style={{ borderTop: '1px solid #fbe3ec' }}>
                <td style={{ padding: '6px 0' }}>
                  <a href={`/admin/resources/Project/records/${r.project_id}/show`} style={{ color: '#c2185b' }}>
                    #{r.project_id}
                  </a>
                </td>
                <td>{r.category}</td>
                <td>{r.reason}</td>
                <td style={{ textAlign: 'right', fontWeight: 600 }}>{r.count.toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p style={{ fontSize: 13, color: '#8a6d7a' }}>Nothing refused today.</p>
      )}
    </Card>
  );
}

function Storage({ storage }) {
  return (
    <Card title="Storage" name="storage">
      <table data-chart="storage" style={{ width: '100%', fontSize: 13, borderCollapse: 'collapse' }}>
        <tbody>
          {storage.databaseBytes !== null ? (
            <tr>
              <td style={{ padding: '6px 0', fontWeight: 600 }}>PostgreSQL database</td>
              <td style={{ textAlign: 'right' }}>{gb(storage.databaseBytes)}</td>
            </tr>
          ) : null}
          {storage.volumes.map((v) => (
            <tr key={v.volume} style={{ borderTop: '1px solid #fbe3ec' }}>
              <td style={{ padding: '6px 0', fontWeight: 600 }}>
                {v.volume} volume <span style={{ color: '#8a6d7a', fontWeight: 400 }}>{v.path}</span>
              </td>
              <td style={{ textAlign: 'right' }}>
                {gb(v.freeBytes)} free of {gb(v.totalBytes)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

const Dashboard = () => {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let alive = true;
    const load = () =>
      api.getDashboard().then(
        (r) => alive && setData(r.data),
        (e) => alive && setError(String(e)),
      );
    load();
    const timer = setInterval(load, 30000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, []);

  const header = (
    <div
      style={{
        background: 'linear-gradient(135deg, #ff6fa8 0%, #d6336c 55%, #9d0b43 100%)',
        color: '#fff',
        padding: '28px 32px',
        borderRadius: 14,
        marginBottom: 20,
      }}
    >
      <h1 style={{ fontSize: 26, fontWeight: 700 }}>Faultline</h1>
      <p style={{ opacity: 0.9, marginTop: 4 }}>
        Errors, logs, LLM calls and crash dumps
        {data && data.projects !== null
          ? ` across your ${data.projects} project${data.projects === 1 ? '' : 's'}`
          : ' across every project'}
        .
      </p>
    </div>
  );
  if (error)
    return (
      <div style={{ padding: 24 }}>
        {header}
        <p>Could not load the dashboard: {error}</p>
      </div>
    );
  if (!data)
    return (
      <div style={{ padding: 24 }}>
        {header}
        <p>Loading…</p>
      </div>
    );
  const dumps = data.dumpsByDay;
  return (
    <div style={{ padding: 24 }} data-dashboard="ready">
      {header}
      <div style={grid}>
        <Card title="Errors per hour, last 24 h" total={sum(data.errorsByHour)} name="errors">
          <StackedBars name="errors-by-hour" series={data.errorsByHour} keys={data.levels} label={hour} />
          <Legend keys={data.levels} />
        </Card>
        <Card title="Logs per day by severity, last 14 days" total={sum(data.logsByDay)} name="logs">
          <StackedBars name="logs-by-day" series={data.logsByDay} keys={data.levels} label={day} />
          <Legend keys={data.levels} />
        </Card>
        <Card title="LLM calls by model, last 30 days" total={data.llmByModel.reduce((a, m) => a + m.calls, 0)} name="llm">
          <HBars
            name="llm-calls-by-model"
            rows={data.llmByModel.map((m) => ({
              label: m.model,
              value: m.calls,
              hint: `${m.calls} calls, ${m.tokens.toLocaleString()} tokens`,
            }))}
          />
          <h4 style={{ fontSize: 13, color: '#8a6d7a', margin: '14px 0 4px' }}>Tokens</h4>
          <HBars name="llm-tokens-by-model" color="#ae3ec9" rows={data.llmByModel.map((m) => ({ label: m.model, value: m.tokens }))} />
        </Card>
        <Card title="Crash dumps per day, last 30 days" total={sum(dumps)} name="dumps">
          <StackedBars name="dumps-by-day" series={dumps} keys={['dumps']} label={day} height={140} />
        </Card>
        <Card title="Busiest issues, last 24 h" name="issues">
          <HBars
            name="top-issues"
            rows={data.topIssues.map((i) => ({ label: i.title, value: i.count, id: i.id, hint: `${i.level} · ${i.status}` }))}
            href={(r) => `/admin/resources/Issue/records/${r.id}/show`}
          />
        </Card>
        <Card title="Busiest log sources, last 24 h" name="sources">
          <HBars name="top-sources" color="#7048e8" rows={data.topSources.map((s) => ({ label: s.source, value: s.count }))} />
        </Card>
        <QueueHealth queues={data.queues} isStaff={data.isStaff} />
        <Refused rows={data.refused || []} />
        {data.storage ? <Storage storage={data.storage} /> : null}
      </div>
      <p style={{ fontSize: 12, color: '#8a6d7a', marginTop: 16 }}>
        Updated {new Date(data.generatedAt).toLocaleTimeString()} · refreshes every 30 s · times in UTC
      </p>
    </div>
  );
};

export default Dashboard;
