import React, { useEffect, useState } from 'react';
import { ApiClient } from 'adminjs';

// A release: when it was seen, what it broke (new issues) and how healthy it is
// (crash-free sessions and users, overall and per environment).

const api = new ApiClient();
const card = { background: '#fff', borderRadius: 12, padding: 18, boxShadow: '0 1px 3px rgba(194,24,91,.12)', marginBottom: 18 };
const muted = '#8a6d7a';
const pct = (v) => (v === null || v === undefined ? '—' : `${v}%`);
const when = (t) => (t ? new Date(t).toLocaleString() : '—');

function Big({ label, value, name }) {
  return (
    <div style={{ marginRight: 36 }}>
      <div style={{ color: muted, fontSize: 12 }}>{label}</div>
      <div style={{ fontSize: 24, fontWeight: 700, color: '#c2185b' }} data-health={name}>
        {value}
      </div>
    </div>
  );
}

const ReleaseHealth = ({ resource, record }) => {
  const [s, setS] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api
      .recordAction({ resourceId: resource.id, recordId: record.id, actionName: 'health' })
      .then((r) => setS(r.data.summary))
      .catch((e) => setError(String(e.message || e)));
  }, [resource.id, record.id]);
  if (error) return <div style={card}>{error}</div>;
  if (!s) return <div style={card}>Loading…</div>;
  const h = s.health;
  return (
    <div data-release-page="ready">
      <section style={card}>
        <div style={{ fontSize: 20, fontWeight: 700, color: '#4a1030' }} data-release-version>
          {s.version}
        </div>
        <div style={{ color: muted, fontSize: 13, margin: '4px 0 14px' }}>
          first event {when(s.first_seen)} · latest {when(s.last_seen)} · released {when(s.date_released)}
        </div>
        <div style={{ display: 'flex', flexWrap: 'wrap' }}>
          <Big label="Crash-free sessions" value={pct(h.crash_free_sessions)} name="crash-free-sessions" />
          <Big label="Crash-free users" value={pct(h.crash_free_users)} name="crash-free-users" />
          <Big label="Sessions" value={h.sessions.toLocaleString()} name="sessions" />
          <Big label="Users" value={h.users.toLocaleString()} name="users" />
          <Big label="New issues" value={s.new_issues.toLocaleString()} name="new-issues" />
        </div>
      </section>
      <section style={card}>
        <table style={{ fontSize: 13, borderCollapse: 'collapse', width: '100%' }} data-health-environments>
          <thead>
            <tr style={{ color: muted, textAlign: 'right' }}>
              <th style={{ textAlign: 'left' }}>environment</th>
              <th>sessions</th>
              <th>crashed</th>
              <th>errored</th>
              <th>crash-free sessions</th>
              <th>users</th>
              <th>crash-free users</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(h.environments).map(([env, e]) => (
              <tr key={env} data-environment={env} style={{ textAlign: 'right', borderTop: '1px solid #fbe3ec' }}>
                <td style={{ textAlign: 'left' }}>{env}</td>
                <td>{e.sessions}</td>
                <td>{e.sessions_crashed}</td>
                <td>{e.sessions_errored}</td>
                <td>{pct(e.crash_free_sessions)}</td>
                <td>{e.users}</td>
                <td>{pct(e.crash_free_users)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
};

export default ReleaseHealth;
