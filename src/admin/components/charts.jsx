import React from 'react';

// Small SVG charts for the dashboard: no chart library to bundle, crisp at any size,
// and each mark is an element tests and screen readers can find (<title> = tooltip).

export const LEVEL_COLORS = {
  debug: '#9e9aa8',
  info: '#5b8def',
  warning: '#f2a93b',
  error: '#e0578a',
  critical: '#9d0b43',
};
const PALETTE = ['#d6336c', '#f06595', '#ae3ec9', '#7048e8', '#4263eb', '#1098ad', '#37b24d', '#f59f00'];
export const colorFor = (key, i) => LEVEL_COLORS[key] || PALETTE[i % PALETTE.length];

const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${Math.round(n / 1e3)}k` : String(n));

/** Stacked columns over time: series = [{ t, values: { key: n } }], keys in stacking order. */
export function StackedBars({ name, series, keys, label, height = 180 }) {
  const width = 640;
  const pad = { l: 36, r: 8, t: 8, b: 22 };
  const totals = series.map((s) => keys.reduce((a, k) => a + (s.values[k] || 0), 0));
  const max = Math.max(1, ...totals);
  const w = (width - pad.l - pad.r) / Math.max(1, series.length);
  const y = (v) => pad.t + (height - pad.t - pad.b) * (1 - v / max);
  const every = Math.ceil(series.length / 8);
  return (
    <svg data-chart={name} viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={name} style={{ display: 'block' }}>
      {(max >= 2 ? [0, 0.5, 1] : [0, 1]).map((f) => (
        <g key={f}>
          <line x1={pad.l} x2={width - pad.r} y1={y(max * f)} y2={y(max * f)} stroke="#f3d9e4" />
          <text x={pad.l - 4} y={y(max * f) + 4} fontSize="10" textAnchor="end" fill="#8a6d7a">
            {fmt(Math.round(max * f))}
          </text>
        </g>
      ))}
      {series.map((s, i) => {
        let acc = 0;
        return (
          <g key={s.t}>
            {keys.map((k, ki) => {
              const v = s.values[k] || 0;
              if (!v) return null;
              const top = y(acc + v);
              const h = y(acc) - top;
              acc += v;
              return (
                <rect
                  key={k}
                  data-series={k}
                  x={pad.l + i * w + 1}
                  y={top}
                  width={Math.max(1, w - 2)}
                  height={Math.max(1, h)}
                  fill={colorFor(k, ki)}
                  rx="1.5"
                >
                  <title>{`${label(s.t)} · ${k}: ${v}`}</title>
                </rect>
              );
            })}
            {i % every === 0 ? (
              <text x={pad.l + i * w + w / 2} y={height - 6} fontSize="10" textAnchor="middle" fill="#8a6d7a">
                {label(s.t)}
              </text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}

/** Horizontal bars: rows = [{ label, value, hint }]. */
export function HBars({ name, rows, color = '#d6336c', href }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  if (!rows.length) return <p style={{ color: '#8a6d7a', fontSize: 13 }}>Nothing yet.</p>;
  return (
    <div data-chart={name}>
      {rows.map((r, i) => (
        <div key={`${r.label}-${i}`} style={{ margin: '6px 0' }} title={r.hint || `${r.label}: ${r.value}`}>
          <div style={{ display: 'flex', justifyContent: 'space-between', fontSize: 13, color: '#4a1030' }}>
            {href ? (
              <a
                href={href(r)}
                style={{ color: '#c2185b', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', maxWidth: '80%' }}
              >
                {r.label}
              </a>
            ) : (
              <span>{r.label}</span>
            )}
            <strong>{fmt(r.value)}</strong>
          </div>
          <div style={{ background: '#fbe3ec', borderRadius: 4, height: 8 }}>
            <div
              data-bar={r.label}
              style={{ width: `${(100 * r.value) / max}%`, background: r.color || color, height: 8, borderRadius: 4 }}
            />
          </div>
        </div>
      ))}
    </div>
  );
}

export function Legend({ keys }) {
  return (
    <div style={{ display: 'flex', gap: 12, flexWrap: 'wrap', fontSize: 12, color: '#4a1030', marginTop: 6 }}>
      {keys.map((k, i) => (
        <span key={k} style={{ display: 'inline-flex', alignItems: 'center', gap: 4 }}>
          <span style={{ width: 10, height: 10, borderRadius: 2, background: colorFor(k, i), display: 'inline-block' }} />
          {k}
        </span>
      ))}
    </div>
  );
}
