import React, { useEffect, useRef, useState } from 'react';
import { ApiClient } from 'adminjs';
import { LEVEL_COLORS } from './charts';

const api = new ApiClient();
const SEVERITIES = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
const KEEP = 500;

/**
 * New logs as workers store them, over the live tail WebSocket (/ws/logs/). The page
 * asks the server for an access token (minted for the signed-in user) and sends it as
 * the first message, so it never appears in a URL; an expired token reconnects with a new one.
 */
const LiveTail = () => {
  const [logs, setLogs] = useState([]);
  const [status, setStatus] = useState('connecting…');
  const [severity, setSeverity] = useState([]);
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(false);
  pausedRef.current = paused;

  useEffect(() => {
    let ws;
    let stopped = false;
    let retry;
    const connect = async () => {
      try {
        const { data } = await api.getPage({ pageName: 'liveTail' });
        const qs = severity.length ? `?severity=${severity.join(',')}` : '';
        ws = new WebSocket(`${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}${data.path}${qs}`);
        ws.onopen = () => ws.send(JSON.stringify({ token: data.token }));
        ws.onmessage = (e) => {
          const msg = JSON.parse(e.data);
          if (msg.type === 'connection_established') {
            setStatus(`live · ${msg.projects === 'all' ? 'every project' : `${msg.projects.length} project(s)`}`);
          } else if (msg.type === 'log_created' && !pausedRef.current) {
            setLogs((current) => [msg.log, ...current].slice(0, KEEP));
          }
        };
        ws.onclose = (e) => {
          if (stopped) return;
          setStatus(e.code === 4001 ? 'session token expired · reconnecting…' : 'disconnected · reconnecting…');
          retry = setTimeout(connect, 2000);
        };
      } catch {
        if (!stopped) {
          setStatus('cannot reach the server · retrying…');
          retry = setTimeout(connect, 5000);
        }
      }
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      if (ws) ws.close();
    };
  }, [severity.join(',')]);

  const toggle = (s) => setSeverity((cur) => (cur.includes(s) ? cur.filter((x) => x !== s) : [...cur, s]));
  return (
    <div style={{ padding: 24 }}>
      <div style={{ display: 'flex', alignItems: 'center', gap: 16, flexWrap: 'wrap', marginBottom: 16 }}>
        <h2 style={{ fontSize: 22, fontWeight: 700, color: '#4a1030' }}>Live tail</h2>
        <span data-live-status style={{ color: status.startsWith('live') ? '#2b8a3e' : '#c2185b', fontSize: 13 }}>
          ● {status}
        </span>
        <span style={{ flex: 1 }} />
        {SEVERITIES.map((s) => (
          <label key={s} style={{ fontSize: 12, display: 'inline-flex', gap: 4, alignItems: 'center' }}>
            <input type="checkbox" checked={severity.includes(s)} onChange={() => toggle(s)} /> {s}
          </label>
        ))}
        <button
          type="button"
          onClick={() => setPaused(!paused)}
          style={{
            background: paused ? '#d6336c' : '#fff',
            color: paused ? '#fff' : '#d6336c',
            border: '1px solid #d6336c',
            borderRadius: 6,
            padding: '6px 12px',
            cursor: 'pointer',
          }}
        >
          {paused ? 'Resume' : 'Pause'}
        </button>
        <button
          type="button"
          onClick={() => setLogs([])}
          style={{ background: '#fff', border: '1px solid #f3b6cc', borderRadius: 6, padding: '6px 12px', cursor: 'pointer' }}
        >
          Clear
        </button>
      </div>
      <div
        data-live-tail
        style={{
          background: '#2b1020',
          color: '#fde8f0',
          borderRadius: 10,
          padding: 12,
          fontFamily: 'ui-monospace, Menlo, Consolas, monospace',
          fontSize: 12.5,
          minHeight: 300,
          maxHeight: 'calc(100vh - 200px)',
          overflow: 'auto',
        }}
      >
        {logs.length === 0 ? (
          <div style={{ opacity: 0.6 }}>Waiting for logs… (the newest shows first; the last {KEEP} are kept)</div>
        ) : null}
        {logs.map((l) => (
          <div key={l.id} data-log-row style={{ display: 'flex', gap: 10, padding: '2px 0', borderBottom: '1px solid #3d1830' }}>
            <span style={{ opacity: 0.7, whiteSpace: 'nowrap' }}>{String(l.timestamp).replace('T', ' ').slice(0, 19)}</span>
            <span style={{ color: LEVEL_COLORS[String(l.severity).toLowerCase()] || '#fff', fontWeight: 700, width: 70 }}>
              {l.severity}
            </span>
            <span style={{ color: '#f3b6cc', width: 140, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
              {l.source || '—'}
            </span>
            <a
              href={`/admin/resources/Log/records/${l.id}/show`}
              style={{ color: '#fde8f0', flex: 1, whiteSpace: 'pre-wrap', wordBreak: 'break-word', textDecoration: 'none' }}
            >
              {l.message}
            </a>
          </div>
        ))}
      </div>
    </div>
  );
};

export default LiveTail;
